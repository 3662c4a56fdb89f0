package dev.understudy.partition;

import java.util.Map;

/**
 * Several natural-id values per client, grouped so that client sizes (in rows) are balanced.
 *
 * @param idColumn {@code partitioning.id_column}: the column whose values are grouped
 * @param numClients {@code partitioning.num_clients}, &gt; 0 and at most the number of distinct values
 * @param seed {@code partitioning.seed}
 */
public record GroupedNaturalIdConfig(String idColumn, int numClients, long seed) implements PartitionerConfig {

    public static final String TYPE = "grouped_natural_id";

    public GroupedNaturalIdConfig {
        Checks.check(idColumn != null && !idColumn.isBlank(), "id_column", idColumn, "a non-empty column name");
        Checks.positive("num_clients", numClients);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Map<String, Object> parameters() {
        return Map.of("id_column", idColumn, "num_clients", numClients);
    }

    @Override
    public Partitioner create() {
        return new GroupedNaturalIdPartitioner(this);
    }
}
