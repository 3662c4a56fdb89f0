package dev.understudy.partition;

/**
 * Turns aggregate row counts into a {@link PartitionPlan}: the quota phase of partitioning.
 *
 * <p>A partitioner never sees rows, only {@link StratumCounts} (rows per label, or rows per
 * natural-id value), so it runs on the Spark driver at warehouse scale. It is a pure function of
 * (its config, including the seed; the counts): input order, Spark's partitioning and the machine
 * cannot change the plan. Rows are then assigned by {@link PartitionPlan#clientForRank} from their
 * rank in the seeded {@link RowOrder}, either in memory ({@link PartitionPlan#assign}) or on Spark
 * with a window function, with identical results.
 *
 * <p>Implementations: {@link IidPartitioner}, {@link DirichletPartitioner}, {@link
 * PathologicalPartitioner}, {@link SizePartitioner}, {@link InnerDirichletPartitioner} (label
 * strata), {@link NaturalIdPartitioner}, {@link GroupedNaturalIdPartitioner} (natural-id strata),
 * {@link GroupedDirichletPartitioner} ((group, label) strata).
 * Create them from config records or from a YAML/--set map:
 *
 * <pre>
 *   Partitioner p = new DirichletConfig(100, 0.5, 10, 10, false, 42).create();
 *   // or: PartitionerConfig.fromMap(Map.of("type", "dirichlet", "num_clients", 100, "alpha", 0.5)).create();
 *
 *   StratumCounts counts = StratumCounts.of(Map.of("positive", 60_000L, "negative", 40_000L));
 *   PartitionPlan plan = p.plan(counts);              // throws InfeasiblePartitioningException with advice
 *   int[] clientOfRow = plan.assign(rows);            // in memory; Spark uses plan.clientForRank
 *   System.out.println(PartitionStats.of(plan.labelHistogram()).toTable());
 * </pre>
 *
 * <p>For the whole pipeline (global hold-out, plan, assignment, per-client train/eval split,
 * statistics, manifest) on in-memory rows, see {@link Partitioning#run}.
 */
public interface Partitioner {

    /** The config type string, e.g. {@code "dirichlet"}. */
    String type();

    /**
     * Whether the plan's strata are labels, natural-id values or (group, label) pairs, i.e. which
     * counts {@link #plan} expects.
     */
    Stratification stratification();

    /** The config this partitioner was created from. */
    PartitionerConfig config();

    /**
     * Computes the plan.
     *
     * @param counts rows per stratum, as {@link #stratification()} says
     * @throws InfeasiblePartitioningException if the data cannot satisfy the configuration
     */
    PartitionPlan plan(StratumCounts counts);
}
