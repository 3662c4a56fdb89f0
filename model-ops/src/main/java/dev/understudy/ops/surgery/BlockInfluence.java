package dev.understudy.ops.surgery;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.model.Ops;

/**
 * Block Influence (ShortGPT, Men et al. 2024; FedProxy §4.1, methods.md §3): {@code BI_i = 1 −
 * mean over valid tokens of cos(h_in, h_out)} for block {@code i} with input {@code h_in} and
 * output {@code h_out}. A block that barely changes its input (cosine near 1) has low influence and
 * is the first to drop.
 */
public final class BlockInfluence {
    private BlockInfluence() {}

    /** Cosine similarity of two vectors (0 when either is all zeros). */
    public static double cosine(float[] a, float[] b) {
        checkArgument(a.length == b.length, "vectors of length %s and %s", a.length, b.length);
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    /**
     * Sum over valid tokens of {@code cos(h_in[b,t,:], h_out[b,t,:])} (accumulated in float64).
     *
     * @param hIn {@code [B, T, d]}
     * @param hOut {@code [B, T, d]}
     * @param mask {@code [B, T]} with 1 for real tokens, or null for all tokens
     */
    public static double cosineSum(NDArray hIn, NDArray hOut, NDArray mask) {
        NDArray a = hIn.toType(DataType.FLOAT64, false);
        NDArray b = hOut.toType(DataType.FLOAT64, false);
        NDArray dot = a.mul(b).sum(new int[] {-1});
        NDArray norms = a.square().sum(new int[] {-1}).mul(b.square().sum(new int[] {-1})).sqrt();
        // 0 where a norm is 0, as in cosine(): divide by 1 there (the dot product is 0 too). A
        // floor like max(norms, Double.MIN_NORMAL) does not work: the scalar is rounded to 0.
        NDArray zero = Ops.neq(norms, 0).logicalNot().toType(DataType.FLOAT64, false);
        NDArray cos = dot.div(norms.add(zero)); // (B, T)
        if (mask != null) {
            cos = cos.mul(mask.toType(DataType.FLOAT64, false));
        }
        return cos.sum().getDouble();
    }

    /** {@code 1 − cosSum / tokens}. */
    public static double fromSums(double cosSum, long tokens) {
        checkArgument(tokens > 0, "Block Influence needs at least one calibration token");
        return 1 - cosSum / tokens;
    }
}
