package dev.understudy.partition;

import java.util.Map;

/**
 * One client per distinct value of a column (domain, author, user, language).
 *
 * @param idColumn {@code partitioning.id_column}: the column whose values become clients
 * @param seed {@code partitioning.seed}: used by the train/eval split; the value → client mapping is
 *     the sorted order of the values and does not depend on it
 */
public record NaturalIdConfig(String idColumn, long seed) implements PartitionerConfig {

    public static final String TYPE = "natural_id";

    public NaturalIdConfig {
        Checks.check(idColumn != null && !idColumn.isBlank(), "id_column", idColumn, "a non-empty column name");
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Map<String, Object> parameters() {
        return Map.of("id_column", idColumn);
    }

    @Override
    public Partitioner create() {
        return new NaturalIdPartitioner(this);
    }
}
