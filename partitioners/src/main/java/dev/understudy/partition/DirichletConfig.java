package dev.understudy.partition;

import java.util.Map;

/**
 * Label-skew partitioning with per-label client proportions drawn from Dirichlet(α).
 *
 * @param numClients {@code partitioning.num_clients}, &gt; 0
 * @param alpha {@code partitioning.alpha}, concentration, &gt; 0: small values give few labels per client
 * @param minSize {@code partitioning.min_size}, ≥ 0: every client must get at least this many rows
 * @param maxResamples {@code partitioning.max_resamples}, ≥ 1: Dirichlet draws tried before giving up
 * @param selfBalancing {@code partitioning.self_balancing}: Flower's balancing, which stops giving
 *     rows of later labels to clients already above the running average size
 * @param seed {@code partitioning.seed}
 */
public record DirichletConfig(int numClients, double alpha, int minSize, int maxResamples, boolean selfBalancing, long seed)
        implements PartitionerConfig {

    public static final String TYPE = "dirichlet";

    public DirichletConfig {
        Checks.positive("num_clients", numClients);
        Checks.positive("alpha", alpha);
        Checks.nonNegative("min_size", minSize);
        Checks.positive("max_resamples", maxResamples);
    }

    /** Flower's defaults: min_size 10, 10 attempts, no self-balancing. */
    public DirichletConfig(int numClients, double alpha, long seed) {
        this(numClients, alpha, 10, 10, false, seed);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Map<String, Object> parameters() {
        return Map.of("num_clients", numClients, "alpha", alpha, "min_size", minSize,
                "max_resamples", maxResamples, "self_balancing", selfBalancing);
    }

    @Override
    public Partitioner create() {
        return new DirichletPartitioner(this);
    }
}
