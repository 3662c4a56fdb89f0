package dev.understudy.partition;

import java.util.Map;

/**
 * Clients split by a natural group column (domain, source, language) and, within each group, by
 * Dirichlet label skew: see {@link GroupedDirichletPartitioner}.
 *
 * @param groupColumn {@code partitioning.group_column}: the column whose values are the groups
 * @param numClients {@code partitioning.num_clients}, &gt; 0: clients in total, at least one per group
 * @param alpha {@code partitioning.alpha}, concentration of the per-group Dirichlet over clients, &gt; 0
 * @param minSize {@code partitioning.min_size}, ≥ 0: every client must get at least this many rows
 * @param seed {@code partitioning.seed}
 */
public record GroupedDirichletConfig(String groupColumn, int numClients, double alpha, int minSize, long seed)
        implements PartitionerConfig {

    public static final String TYPE = "grouped_dirichlet";

    /** Dirichlet draws tried per group before giving up (Flower's default, as {@link DirichletConfig}). */
    static final int MAX_RESAMPLES = 10;

    public GroupedDirichletConfig {
        Checks.check(groupColumn != null && !groupColumn.isBlank(), "group_column", groupColumn, "a non-empty column name");
        Checks.positive("num_clients", numClients);
        Checks.positive("alpha", alpha);
        Checks.nonNegative("min_size", minSize);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Map<String, Object> parameters() {
        return Map.of("group_column", groupColumn, "num_clients", numClients, "alpha", alpha, "min_size", minSize);
    }

    @Override
    public Partitioner create() {
        return new GroupedDirichletPartitioner(this);
    }
}
