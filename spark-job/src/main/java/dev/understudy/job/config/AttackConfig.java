package dev.understudy.job.config;

/**
 * The {@code attack} section: a <b>simulated</b> Byzantine attack, for robustness experiments only
 * ({@link dev.understudy.ops.federation.ByzantineAttack}). A seeded share of the clients, fixed for
 * the run, misbehaves inside its client task on the executor every round it is sampled. Runs with an
 * attack say so in their log and round manifests.
 *
 * @param kind {@code attack.kind}: none, sign_flip, scale or label_flip
 * @param fraction {@code attack.fraction}: share of all clients that attack, in [0, 1)
 * @param scale {@code attack.scale}: the factor of sign_flip (−scale·Δ) and scale (scale·Δ)
 * @param seed {@code attack.seed}: picks the attackers
 */
public record AttackConfig(String kind, double fraction, double scale, long seed) {
    public AttackConfig {
        Checks.check(kind != null && java.util.Set.of("none", "sign_flip", "scale", "label_flip").contains(kind),
                "attack.kind", kind, "one of none, sign_flip, scale, label_flip");
        Checks.check(fraction >= 0 && fraction < 1, "attack.fraction", fraction, "in [0, 1)");
        Checks.check(Double.isFinite(scale) && scale != 0, "attack.scale", scale, "finite and non-zero");
        Checks.check(!kind.equals("none") || fraction == 0, "attack.fraction", fraction,
                "0 when attack.kind is none (set attack.kind)");
    }

    /** Whether any client attacks. */
    public boolean active() {
        return !kind.equals("none") && fraction > 0;
    }
}
