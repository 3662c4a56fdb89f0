package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import java.util.List;

/**
 * Krum and Multi-Krum ({@link ByzantineRules#krum}, {@link ByzantineRules#multiKrum}): Blanchard et
 * al. 2017, "Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent" (NeurIPS).
 * The global vector moves by the lowest-scoring client delta (Krum), or by the unweighted mean of
 * the m lowest-scoring ones (Multi-Krum; Flower's {@code Krum} with {@code num_clients_to_keep}
 * averages them weighted by examples instead). Not linear; needs n ≥ 2f + 3 updates per round.
 *
 * <p>YAML keys: {@code server.num_malicious_clients} (f, default 0), {@code
 * server.num_clients_to_keep} (multikrum only: m, default 0 = n − f, as El Mhamdi et al. 2018),
 * {@code server.accept_failures} (default true).
 */
public final class Krum extends RobustStrategy {
    private final int f;
    private final int keep; // 1 = Krum; 0 = n − f
    private final boolean multi;

    /** Krum. */
    public Krum(int f, boolean acceptFailures) {
        this(f, 1, false, acceptFailures);
    }

    /** Multi-Krum keeping {@code keep} updates (0 = n − f). */
    public static Krum multi(int f, int keep, boolean acceptFailures) {
        return new Krum(f, keep, true, acceptFailures);
    }

    private Krum(int f, int keep, boolean multi, boolean acceptFailures) {
        super(acceptFailures);
        checkArgument(f >= 0, "Cannot set server.num_malicious_clients to %s: the value must be ≥ 0", f);
        checkArgument(keep >= 0, "Cannot set server.num_clients_to_keep to %s: the value must be ≥ 0 (0 = n − f)", keep);
        this.f = f;
        this.keep = keep;
        this.multi = multi;
    }

    @Override
    public String name() {
        return multi ? "multikrum" : "krum";
    }

    @Override
    float[] combine(List<float[]> deltas) {
        if (!multi) {
            return ByzantineRules.krum(deltas, f);
        }
        int m = keep == 0 ? deltas.size() - f : Math.min(keep, deltas.size());
        return ByzantineRules.multiKrum(deltas, f, m);
    }
}
