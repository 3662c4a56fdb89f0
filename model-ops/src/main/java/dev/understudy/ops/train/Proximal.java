package dev.understudy.ops.train;

import ai.djl.ndarray.NDArray;
import dev.understudy.ops.model.Ops;
import java.util.List;

/**
 * The FedProx client term {@code μ/2·||w − w_global||²} (Li et al. 2020, "Federated Optimization in
 * Heterogeneous Networks", MLSys, eq. 2; arxiv.org/abs/1812.06127), applied through its gradient
 * {@code μ·(w − w_global)}, which is added to each parameter's accumulated gradient after the
 * backward pass and before clipping: the same update as differentiating the augmented loss (as
 * Flower's FedProx example does), without a second autograd graph.
 */
public final class Proximal {
    private Proximal() {}

    /** {@code grad += mu · (param − anchor)} for every parameter, in place; a no-op for {@code mu == 0}. */
    public static void addGradient(List<NDArray> params, List<NDArray> anchors, double mu) {
        if (mu == 0) {
            return;
        }
        if (params.size() != anchors.size()) {
            throw new IllegalArgumentException("proximal term: " + params.size() + " parameters but " + anchors.size()
                    + " anchors");
        }
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try {
            for (int i = 0; i < params.size(); i++) {
                NDArray p = params.get(i);
                try (NDArray g = p.getGradient(); NDArray d = p.sub(anchors.get(i))) {
                    Ops.muli(d, mu);
                    g.addi(d);
                }
            }
        } finally {
            Ops.setGradMode(grad);
        }
    }

    /** The value {@code mu/2 · Σ ||param − anchor||²} (for logging and tests), in double precision. */
    public static double value(List<NDArray> params, List<NDArray> anchors, double mu) {
        double sum = 0;
        for (int i = 0; i < params.size(); i++) {
            try (NDArray d = params.get(i).sub(anchors.get(i));
                    NDArray d64 = d.toType(ai.djl.ndarray.types.DataType.FLOAT64, true);
                    NDArray sq = d64.square();
                    NDArray s = sq.sum()) {
                sum += s.getDouble();
            }
        }
        return mu / 2 * sum;
    }
}
