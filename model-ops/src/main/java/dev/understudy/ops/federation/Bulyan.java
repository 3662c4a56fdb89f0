package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import java.util.List;

/**
 * Bulyan ({@link ByzantineRules#bulyan}): El Mhamdi, Guerraoui, Rouault 2018, "The Hidden
 * Vulnerability of Distributed Learning in Byzantium" (ICML, arXiv:1802.07927): θ = n − 2f deltas
 * chosen by repeated Krum, then a coordinate-wise mean of the β = θ − 2f values closest to the
 * median. Not linear; needs n ≥ 4f + 3 updates per round.
 *
 * <p>YAML keys: {@code server.num_malicious_clients} (f, default 0), {@code server.accept_failures}
 * (default true).
 */
public final class Bulyan extends RobustStrategy {
    private final int f;

    public Bulyan(int f, boolean acceptFailures) {
        super(acceptFailures);
        checkArgument(f >= 0, "Cannot set server.num_malicious_clients to %s: the value must be ≥ 0", f);
        this.f = f;
    }

    @Override
    public String name() {
        return "bulyan";
    }

    @Override
    float[] combine(List<float[]> deltas) {
        return ByzantineRules.bulyan(deltas, f);
    }
}
