package dev.understudy.ops.surgery;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.model.ForwardTap;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per-layer, per-neuron counts of (near-)zero FFN activations plus the number of tokens counted:
 * the sums behind FedPFT's APoZ (average percentage of zeros, methods.md §2(a) Step C), {@code
 * APoZ[i][j] = Σ_c Z_c[i][j] / Σ_c n_c}. Counts are exact integers, so {@link #merge} is
 * associative and commutative: any order of clients gives the same totals.
 *
 * <p>The statistic: a token counts as a zero for neuron {@code j} when {@code |a_j| ≤ threshold},
 * where {@code a} is the post-activation FFN value ({@link ForwardTap#ffnActivation}; for SwiGLU
 * the gated product {@code silu(gate)·up}).
 *
 * <ul>
 *   <li>{@code threshold = 0} is the reference code's exact {@code == 0.0} (FedPFT, GELU). Note that
 *       fp32 erf-GELU returns exactly 0 only for pre-activations ≲ −5.5 (methods.md §2, caveat 1),
 *       and ReLU for any negative input.
 *   <li>{@code threshold > 0} is <b>our variant</b> for activations that are almost never exactly 0
 *       (SwiGLU; GELU in practice): "near-zero" tokens. {@link #defaultThreshold} gives the
 *       default per activation.
 * </ul>
 *
 * Tokens are counted only where the attention mask is 1 unless {@code countPadding} (FedPFT's code
 * counts padding tokens too).
 */
public final class ActivationStats {
    private final double threshold;
    private final TreeMap<Integer, long[]> zeros = new TreeMap<>();
    private long tokens;

    public ActivationStats(double threshold) {
        checkArgument(threshold >= 0 && Double.isFinite(threshold), "zero threshold %s must be ≥ 0", threshold);
        this.threshold = threshold;
    }

    /** 0 (exact zeros, the reference) for ReLU and GELU; 1e-3 (near-zero, ours) for SiLU/SwiGLU. */
    public static double defaultThreshold(dev.understudy.ops.model.ModelConfig.Activation activation) {
        return activation == dev.understudy.ops.model.ModelConfig.Activation.SILU ? 1e-3 : 0.0;
    }

    public double threshold() {
        return threshold;
    }

    /** Tokens counted (each token counted once, for every layer). */
    public long tokens() {
        return tokens;
    }

    /** Zero counts per neuron of {@code layer} (a copy), or null if the layer was not observed. */
    public long[] zeros(int layer) {
        long[] z = zeros.get(layer);
        return z == null ? null : z.clone();
    }

    /** The observed layers. */
    public java.util.Set<Integer> layers() {
        return Collections.unmodifiableSet(zeros.keySet());
    }

    /** {@code zeros / tokens} per neuron of {@code layer}. */
    public double[] apoz(int layer) {
        long[] z = zeros.get(layer);
        checkArgument(z != null && tokens > 0, "no statistics for layer %s", layer);
        double[] out = new double[z.length];
        for (int j = 0; j < z.length; j++) {
            out[j] = z[j] / (double) tokens;
        }
        return out;
    }

    /**
     * Adds counts observed elsewhere (another batch, another client). The layers and widths must
     * match where both have them.
     */
    public ActivationStats merge(ActivationStats other) {
        checkArgument(other.threshold == threshold, "cannot merge statistics of threshold %s and %s", threshold,
                other.threshold);
        for (Map.Entry<Integer, long[]> e : other.zeros.entrySet()) {
            add(e.getKey(), e.getValue());
        }
        tokens += other.tokens;
        return this;
    }

    /** Adds raw counts for one layer (the building block of {@link #merge} and of the tap). */
    public void add(int layer, long[] counts) {
        long[] z = zeros.computeIfAbsent(layer, k -> new long[counts.length]);
        checkArgument(z.length == counts.length, "layer %s has %s neurons here and %s in the added counts", layer,
                z.length, counts.length);
        for (int j = 0; j < z.length; j++) {
            z[j] += counts[j];
        }
    }

    /** Adds {@code n} to the token count. */
    public void addTokens(long n) {
        checkArgument(n >= 0, "token count %s", n);
        tokens += n;
    }

    /**
     * Counts zeros of one activation tensor {@code a: [B, T, N]} under {@code mask: [B, T]} (null:
     * every position).
     */
    public static long[] countZeros(NDArray a, NDArray mask, double threshold) {
        NDArray isZero = (threshold == 0 ? a.eq(0f) : a.abs().lte((float) threshold)).toType(DataType.INT64, false);
        if (mask != null) {
            isZero = isZero.mul(mask.toType(DataType.INT64, false).expandDims(-1));
        }
        return isZero.sum(new int[] {0, 1}).toLongArray();
    }

    /**
     * A tap that adds one forward pass's counts for {@code layers} (all layers when null) to this
     * object: pass it to the client's training forward, so no second forward is needed.
     *
     * @param mask the batch's attention mask {@code [B, T]}, or null to count every position
     */
    public ForwardTap tap(NDArray mask, java.util.Set<Integer> layers, boolean countPadding) {
        NDArray m = countPadding ? null : mask;
        return new ForwardTap() {
            private boolean counted;

            @Override
            public boolean wantsFfnActivation(int layer) {
                return layers == null || layers.contains(layer);
            }

            @Override
            public void ffnActivation(int layer, NDArray a) {
                if (!counted) {
                    long n = m == null ? a.getShape().get(0) * a.getShape().get(1) : countOnes(m);
                    addTokens(n);
                    counted = true;
                }
                add(layer, countZeros(a, m, threshold));
            }
        };
    }

    private static long countOnes(NDArray mask) {
        return mask.toType(DataType.INT64, false).sum().getLong();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ActivationStats s) || s.threshold != threshold || s.tokens != tokens
                || !s.zeros.keySet().equals(zeros.keySet())) {
            return false;
        }
        for (Integer k : zeros.keySet()) {
            if (!Arrays.equals(zeros.get(k), s.zeros.get(k))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(tokens) * 31 + zeros.size();
    }
}
