package dev.understudy.ops.privacy;

import static dev.understudy.ops.util.Preconditions.checkArgument;

/**
 * Adaptive clipping norm by a private quantile estimate: Andrew, Thakkar, McMahan, Ramaswamy 2021,
 * "Differentially Private Learning with Adaptive Clipping" (NeurIPS, arXiv:1905.03871), Algorithm 1
 * with the geometric update. Each sampled client reports the bit {@code b_k = 1[‖Δ_k‖ ≤ C]}; the
 * server estimates the unclipped fraction as {@code b̄ = (Σ b_k + N(0, σ_b²)) / (qN)} and sets
 * {@code C ← C · exp(−η (b̄ − γ))}, so that C tracks the γ-quantile of the update norms.
 *
 * <p>The bits cost privacy too: with update noise multiplier z_Δ and bit noise σ_b, the round is a
 * Gaussian mechanism with multiplier {@code z = (z_Δ^{−2} + (2σ_b)^{−2})^{−1/2}} (their Theorem 1).
 * Understudy takes z (what the accountant sees) from the configuration and derives z_Δ, so the
 * accounting is unchanged by turning adaptive clipping on.
 *
 * @param targetQuantile γ in (0, 1); 0.5 in the paper
 * @param learningRate η, positive; 0.2 in the paper
 * @param bitNoise σ_b, the standard deviation of the noise on the count of unclipped clients; the
 *     paper uses qN/20
 */
public record AdaptiveClipping(double targetQuantile, double learningRate, double bitNoise) {
    public AdaptiveClipping {
        checkArgument(targetQuantile > 0 && targetQuantile < 1,
                "Cannot set privacy.target_quantile to %s: the value must be in (0, 1)", targetQuantile);
        checkArgument(learningRate > 0 && Double.isFinite(learningRate),
                "Cannot set privacy.clip_learning_rate to %s: the value must be positive", learningRate);
        checkArgument(bitNoise > 0 && Double.isFinite(bitNoise),
                "Cannot set privacy.clip_count_noise to %s: the value must be positive", bitNoise);
    }

    /**
     * The noise multiplier left for the update once the bits take their share: {@code z_Δ = (z^{−2} −
     * (2σ_b)^{−2})^{−1/2}}.
     *
     * @throws IllegalArgumentException if {@code 2σ_b ≤ z} (the bits alone would spend the budget)
     */
    public double updateNoiseMultiplier(double z) {
        double rest = 1 / (z * z) - 1 / (4 * bitNoise * bitNoise);
        checkArgument(rest > 0,
                "privacy.clip_count_noise=%s is too small for privacy.noise_multiplier=%s: adaptive clipping needs"
                        + " 2·clip_count_noise > noise_multiplier (the paper uses expected clients / 20)",
                bitNoise, z);
        return 1 / Math.sqrt(rest);
    }

    /**
     * The next clipping norm.
     *
     * @param clipNorm the norm used this round
     * @param unclipped Σ b_k, the sampled clients whose update was within the norm
     * @param expectedClients qN
     * @param noise one N(0, 1) draw
     */
    public float next(float clipNorm, int unclipped, double expectedClients, double noise) {
        double fraction = (unclipped + bitNoise * noise) / expectedClients;
        return (float) (clipNorm * Math.exp(-learningRate * (fraction - targetQuantile)));
    }
}
