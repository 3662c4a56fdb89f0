package dev.understudy.ops.privacy;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

/**
 * Per-client L2 clipping of a whole update, {@code Δ̃ = Δ · min(1, S/‖Δ‖₂)} (McMahan, Ramage, Talwar,
 * Zhang 2018, "Learning Differentially Private Recurrent Language Models", arXiv:1710.06963,
 * Algorithm 1 "FlatClip"). This is what bounds one client's influence on the sum to S, so it must
 * run where the update is made (the executor), before anything is added to a partial sum.
 */
public final class DpClipping {
    private DpClipping() {}

    /**
     * @param delta the clipped update; the input array itself when it was already within the bound
     * @param norm the L2 norm of the update before clipping
     * @param clipped whether the update was scaled down
     */
    public record Clipped(float[] delta, double norm, boolean clipped) {}

    /** L2 norm, accumulated in double. */
    public static double l2Norm(float[] v) {
        checkNotNull(v, "vector");
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    /**
     * Scales {@code delta} to L2 norm at most {@code clipNorm}. The result's norm, as computed by
     * {@link #l2Norm} on the float result, never exceeds {@code clipNorm}: float rounding of the
     * scaled elements can push it a few ulps over, and the factor is then shrunk until it does not.
     *
     * @param clipNorm S, positive
     */
    public static Clipped clip(float[] delta, double clipNorm) {
        checkNotNull(delta, "delta");
        checkArgument(clipNorm > 0 && Double.isFinite(clipNorm),
                "Cannot set privacy.clip_norm to %s: the value must be positive", clipNorm);
        double norm = l2Norm(delta);
        if (norm <= clipNorm) {
            return new Clipped(delta, norm, false);
        }
        double factor = clipNorm / norm;
        for (int attempt = 0; attempt < 64; attempt++) {
            float[] out = new float[delta.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) (delta[i] * factor);
            }
            if (l2Norm(out) <= clipNorm) {
                return new Clipped(out, norm, true);
            }
            factor *= 1 - 1e-7;
        }
        throw new IllegalStateException("could not clip an update of norm " + norm + " to " + clipNorm);
    }
}
