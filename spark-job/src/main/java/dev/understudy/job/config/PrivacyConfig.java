package dev.understudy.job.config;

/**
 * The {@code privacy} section: client-level DP-FedAvg (McMahan et al. 2018, arXiv:1710.06963).
 * With {@code enabled}, every sampled client's whole update is clipped to {@code clip_norm} inside
 * its client task on the executor, clients are Poisson-sampled with rate q ({@code server.fraction},
 * or {@code server.clients_per_round} / clients), Gaussian noise of std {@code noise_multiplier ×
 * clip_norm} is added once per round to the sum on the driver, and the RDP accountant's ε at
 * {@code delta} is reported with every round.
 *
 * @param enabled {@code privacy.enabled}
 * @param clipNorm {@code privacy.clip_norm}: C, the L2 bound of one client's update (initial C when adaptive)
 * @param noiseMultiplier {@code privacy.noise_multiplier}: z; 0 = clipping only (ε = ∞)
 * @param delta {@code privacy.delta}: δ of the reported (ε, δ)
 * @param epsilonBudget {@code privacy.epsilon_budget}: end the run before a round would take ε above this; 0 = none
 * @param targetQuantile {@code privacy.target_quantile}: adaptive clipping's γ (Andrew et al. 2021); 0 = fixed C
 * @param clipLearningRate {@code privacy.clip_learning_rate}: adaptive clipping's η
 * @param clipCountNoise {@code privacy.clip_count_noise}: adaptive clipping's σ_b; 0 = expected clients / 20
 */
public record PrivacyConfig(boolean enabled, double clipNorm, double noiseMultiplier, double delta, double epsilonBudget,
        double targetQuantile, double clipLearningRate, double clipCountNoise) {
    public PrivacyConfig {
        Checks.positive("privacy.clip_norm", clipNorm);
        Checks.nonNegative("privacy.noise_multiplier", noiseMultiplier);
        Checks.check(delta > 0 && delta < 1, "privacy.delta", delta, "in (0, 1)");
        Checks.nonNegative("privacy.epsilon_budget", epsilonBudget);
        Checks.check(targetQuantile >= 0 && targetQuantile < 1, "privacy.target_quantile", targetQuantile,
                "in [0, 1) (0 = a fixed clip_norm)");
        Checks.positive("privacy.clip_learning_rate", clipLearningRate);
        Checks.nonNegative("privacy.clip_count_noise", clipCountNoise);
        Checks.check(targetQuantile == 0 || noiseMultiplier > 0, "privacy.target_quantile", targetQuantile,
                "0 when privacy.noise_multiplier is 0 (adaptive clipping noises its clip count)");
        Checks.check(epsilonBudget == 0 || noiseMultiplier > 0, "privacy.epsilon_budget", epsilonBudget,
                "0 when privacy.noise_multiplier is 0 (without noise ε is infinite)");
    }
}
