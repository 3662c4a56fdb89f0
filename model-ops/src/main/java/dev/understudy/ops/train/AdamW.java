package dev.understudy.ops.train;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.Ops;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW with decoupled weight decay (Loshchilov &amp; Hutter 2019, arXiv:1711.05101), step for step
 * the update of {@code torch.optim.AdamW}:
 *
 * <pre>
 *   p ← p − lr·λ·p                       (decoupled decay)
 *   m ← β1 m + (1 − β1) g ;  v ← β2 v + (1 − β2) g²
 *   p ← p − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε)
 * </pre>
 *
 * Moments live in the optimiser's own manager and can be exported for checkpoints. Updates run with
 * grad mode off on the calling thread.
 */
public final class AdamW implements AutoCloseable {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final NDManager manager;
    private final List<NDArray> params;
    private final List<NDArray> m = new ArrayList<>();
    private final List<NDArray> v = new ArrayList<>();
    private double[] lrScales; // per-parameter learning-rate multipliers, or null for all 1
    private long t;

    /** Creates moments (zeros) for {@code params}, in that order. */
    public AdamW(List<NDArray> params, double beta1, double beta2, double eps, double weightDecay, NDManager parent) {
        checkArgument(beta1 >= 0 && beta1 < 1, "Cannot set adam_beta1 to %s, must be in [0, 1)", beta1);
        checkArgument(beta2 >= 0 && beta2 < 1, "Cannot set adam_beta2 to %s, must be in [0, 1)", beta2);
        checkArgument(eps > 0, "Cannot set adam_eps to %s, must be positive", eps);
        checkArgument(weightDecay >= 0, "Cannot set weight_decay to %s, must be ≥ 0", weightDecay);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.manager = parent.newSubManager();
        this.params = List.copyOf(params);
        for (NDArray p : params) {
            m.add(manager.zeros(p.getShape(), p.getDataType(), p.getDevice()));
            v.add(manager.zeros(p.getShape(), p.getDataType(), p.getDevice()));
        }
    }

    /**
     * Sets a learning-rate multiplier per parameter (in constructor order), as optimiser parameter
     * groups do: parameter {@code i} is updated (and decayed) with {@code lr * scales[i]}. Null
     * restores one rate for all.
     */
    public void setLrScales(double[] scales) {
        checkArgument(scales == null || scales.length == params.size(), "%s learning-rate scales for %s parameters",
                scales == null ? 0 : scales.length, params.size());
        if (scales != null) {
            for (double x : scales) {
                checkArgument(x > 0 && Double.isFinite(x), "learning-rate scale %s must be positive", x);
            }
        }
        this.lrScales = scales == null ? null : scales.clone();
    }

    /** Number of updates applied so far (the {@code t} of the bias corrections). */
    public long stepCount() {
        return t;
    }

    /**
     * Applies one update with learning rate {@code lr} using the gradients currently accumulated
     * on the parameters, then zeroes those gradients.
     */
    public void step(double lr) {
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try {
            t++;
            double bc1 = 1 - Math.pow(beta1, t);
            double bc2 = 1 - Math.pow(beta2, t);
            double stepSize = lr / bc1;
            double sqrtBc2 = Math.sqrt(bc2);
            for (int i = 0; i < params.size(); i++) {
                NDArray p = params.get(i);
                double plr = lrScales == null ? lr : lr * lrScales[i];
                double pStepSize = lrScales == null ? stepSize : plr / bc1;
                try (NDArray g = p.getGradient()) {
                    if (weightDecay != 0) {
                        Ops.muli(p, 1 - plr * weightDecay);
                    }
                    NDArray mi = m.get(i);
                    NDArray vi = v.get(i);
                    Ops.muli(mi, beta1);
                    try (NDArray gs = Ops.mul(g, 1 - beta1)) {
                        mi.addi(gs);
                    }
                    Ops.muli(vi, beta2);
                    try (NDArray g2 = g.square()) {
                        Ops.muli(g2, 1 - beta2);
                        vi.addi(g2);
                    }
                    // denom = sqrt(v) / sqrt(bc2) + eps, as torch computes it
                    try (NDArray denom = vi.sqrt()) {
                        Ops.divi(denom, sqrtBc2);
                        Ops.addi(denom, eps);
                        try (NDArray upd = mi.div(denom)) {
                            Ops.muli(upd, pStepSize);
                            p.subi(upd);
                        }
                    }
                    Ops.zeroGrad(p);
                }
            }
        } finally {
            Ops.setGradMode(grad);
        }
    }

    /** Host copies of the first and second moments, in parameter order (m0, v0, m1, v1, ...). */
    public List<HostTensor> exportState() {
        List<HostTensor> out = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            out.add(host(m.get(i)));
            out.add(host(v.get(i)));
        }
        return out;
    }

    private static HostTensor host(NDArray x) {
        try (NDArray f = x.toType(ai.djl.ndarray.types.DataType.FLOAT32, true)) {
            return new HostTensor(x.getShape().getShape(), f.toFloatArray());
        }
    }

    /** Restores moments and step count written by {@link #exportState}. */
    public void importState(List<HostTensor> state, long stepCount) {
        checkArgument(state.size() == 2 * params.size(), "optimizer state has %s tensors, expected %s",
                state.size(), 2 * params.size());
        for (int i = 0; i < params.size(); i++) {
            copyInto(m.get(i), state.get(2 * i));
            copyInto(v.get(i), state.get(2 * i + 1));
        }
        this.t = stepCount;
    }

    private void copyInto(NDArray target, HostTensor src) {
        try (NDArray a = manager.create(src.values(), target.getShape())) {
            NDArray typed = a.toType(target.getDataType(), false);
            target.set(new ai.djl.ndarray.index.NDIndex("..."), typed);
            typed.close();
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
