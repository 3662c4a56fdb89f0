package dev.understudy.partition;

import java.util.Map;

/**
 * The whole {@code partitioning} section of a job config: the partitioner, plus the hold-outs and the
 * columns the Spark side reads.
 *
 * <p>Pipeline order: global hold-out (by key hash) → plan over the remaining rows → assignment →
 * per-client train/eval split. All randomness derives from {@code partitioner.seed()}.
 *
 * @param partitioner the partitioner (its keys: see each config record)
 * @param evalFraction {@code partitioning.eval_fraction} in [0, 1): share of each client's rows held
 *     out for evaluation, stratified by label (default 0.1)
 * @param holdoutFraction {@code partitioning.holdout_fraction} in [0, 1): expected share of all rows
 *     removed before partitioning into a global test set (default 0)
 * @param rowKeyColumn {@code partitioning.row_key_column}: the stable unique row key column, or null
 *     to let the Spark side derive a content hash
 * @param labelColumn {@code partitioning.label_column}: the label column, or null for unlabelled data
 */
public record PartitioningConfig(PartitionerConfig partitioner, double evalFraction, double holdoutFraction,
        String rowKeyColumn, String labelColumn) {

    public static final double DEFAULT_EVAL_FRACTION = 0.1;

    public PartitioningConfig {
        Checks.check(partitioner != null, "type", null, "one of " + PartitionerConfig.TYPES);
        Checks.fraction("eval_fraction", evalFraction);
        Checks.fraction("holdout_fraction", holdoutFraction);
    }

    /** Default eval fraction, no global hold-out, columns left to the Spark side. */
    public PartitioningConfig(PartitionerConfig partitioner) {
        this(partitioner, DEFAULT_EVAL_FRACTION, 0.0, null, null);
    }

    /**
     * Parses a {@code partitioning} section. Example (YAML):
     *
     * <pre>
     *   partitioning:
     *     type: dirichlet
     *     num_clients: 100
     *     alpha: 0.3
     *     seed: 7
     *     eval_fraction: 0.1
     *     label_column: category
     * </pre>
     */
    public static PartitioningConfig fromMap(Map<String, ?> section) {
        ConfigValues v = new ConfigValues(section);
        PartitionerConfig partitioner = ConfigValues.parsePartitioner(v);
        return new PartitioningConfig(partitioner, v.optionalDouble("eval_fraction", DEFAULT_EVAL_FRACTION),
                v.optionalDouble("holdout_fraction", 0.0), v.optionalString("row_key_column", null),
                v.optionalString("label_column", null));
    }

    public long seed() {
        return partitioner.seed();
    }

    public GlobalHoldout holdout() {
        return new GlobalHoldout(holdoutFraction, partitioner.seed());
    }
}
