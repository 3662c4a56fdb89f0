package dev.understudy.job;

import dev.understudy.job.config.AttackConfig;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.config.PrivacyConfig;
import dev.understudy.job.engine.EvalFunction;
import dev.understudy.job.engine.RoundPrivacy;
import dev.understudy.ops.federation.ByzantineAttack;
import java.util.Locale;

/** The {@code privacy} and {@code attack} sections as the round engine's {@link RoundPrivacy}. */
final class PrivacyOptions {
    private PrivacyOptions() {}

    /**
     * @param labels label candidates (for {@code attack.kind: label_flip}), or null
     */
    static RoundPrivacy of(JobConfig cfg, EvalFunction.Labels labels) {
        PrivacyConfig p = cfg.privacy();
        AttackConfig a = cfg.attack();
        if (!p.enabled() && !a.active()) {
            return RoundPrivacy.OFF;
        }
        RoundPrivacy.Dp dp = p.enabled() ? new RoundPrivacy.Dp(p.clipNorm(), p.noiseMultiplier(), p.delta(),
                p.epsilonBudget(), p.targetQuantile(), p.clipLearningRate(), p.clipCountNoise()) : null;
        ByzantineAttack attack = a.active()
                ? new ByzantineAttack(ByzantineAttack.Kind.parse(a.kind()), a.fraction(), a.scale(), a.seed())
                : ByzantineAttack.NONE;
        if (dp != null) {
            System.out.printf(Locale.ROOT, "privacy: DP-FedAvg, clip_norm %s%s, noise_multiplier %s, delta %s, Poisson"
                    + " client sampling%s%n", p.clipNorm(), p.targetQuantile() > 0 ? " (adaptive, quantile "
                            + p.targetQuantile() + ")" : "", p.noiseMultiplier(), p.delta(),
                    p.epsilonBudget() > 0 ? ", epsilon budget " + p.epsilonBudget() : "");
        }
        if (a.active()) {
            System.out.printf(Locale.ROOT, "attack: SIMULATED %s by %.0f%% of the clients (scale %s, seed %d) -- an"
                    + " experiment, not a real run%n", a.kind(), 100 * a.fraction(), a.scale(), a.seed());
        }
        return new RoundPrivacy(dp, attack, labels == null ? null : labels.responses());
    }
}
