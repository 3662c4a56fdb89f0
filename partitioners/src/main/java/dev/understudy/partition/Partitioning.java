package dev.understudy.partition;

import dev.understudy.partition.stats.LabelHistogram;
import dev.understudy.partition.stats.PartitionStats;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The whole pipeline on in-memory rows, for tests, notebooks and small data. The Spark job runs the
 * same steps with the same functions (see {@link PartitionPlan} and {@link TrainEvalSplit}):
 *
 * <ol>
 *   <li>global hold-out by key hash ({@link GlobalHoldout});
 *   <li>counts per stratum of the remaining rows → {@link Partitioner#plan};
 *   <li>row assignment by rank ({@link PartitionPlan#assign});
 *   <li>per-client stratified train/eval split ({@link TrainEvalSplit});
 *   <li>statistics and manifest.
 * </ol>
 */
public final class Partitioning {

    private Partitioning() {}

    /**
     * @param rows the data set; row keys must be unique
     * @throws InfeasiblePartitioningException if the data cannot satisfy the configuration
     */
    public static Result run(PartitioningConfig config, List<Row> rows) {
        requireUniqueKeys(rows);
        Partitioner partitioner = config.partitioner().create();
        GlobalHoldout holdout = config.holdout();

        // 1) Global hold-out.
        int n = rows.size();
        boolean[] heldOut = new boolean[n];
        List<Row> kept = new ArrayList<>(n);
        int[] keptIndex = new int[n];
        for (int i = 0; i < n; i++) {
            heldOut[i] = holdout.isHeldOut(rows.get(i).key());
            if (!heldOut[i]) {
                keptIndex[kept.size()] = i;
                kept.add(rows.get(i));
            }
        }

        // 2) Quotas from aggregates, 3) assignment by rank.
        StratumCounts counts = StratumCounts.ofRows(kept, partitioner.stratification());
        PartitionPlan plan = partitioner.plan(counts);
        int[] keptClient = plan.assign(kept);
        int[] clientOfRow = new int[n];
        java.util.Arrays.fill(clientOfRow, PartitionPlan.UNASSIGNED);
        for (int k = 0; k < kept.size(); k++) {
            clientOfRow[keptIndex[k]] = keptClient[k];
        }

        // 4) Histogram and train/eval split over the assigned rows.
        TreeSet<String> labelSet = new TreeSet<>(RowOrder.KEY_ORDER);
        kept.forEach(r -> labelSet.add(r.label()));
        List<String> labels = List.copyOf(labelSet);
        Map<String, Integer> labelIndex = new HashMap<>();
        for (int l = 0; l < labels.size(); l++) {
            labelIndex.put(labels.get(l), l);
        }
        int[] labelOfRow = new int[n];
        for (int i = 0; i < n; i++) {
            labelOfRow[i] = heldOut[i] ? 0 : labelIndex.get(rows.get(i).label());
        }
        LabelHistogram histogram = LabelHistogram.fromAssignment(plan.numClients(), labels, clientOfRow, labelOfRow);
        TrainEvalSplit split = TrainEvalSplit.compute(histogram, config.evalFraction(), config.seed());
        boolean[] eval = split.assign(rows, clientOfRow);

        // 5) Statistics and manifest.
        long heldOutRows = n - kept.size();
        Manifest manifest = Manifest.create(plan, n, Manifest.rowKeyDigest(rows), holdout, heldOutRows, histogram, split);
        return new Result(plan, clientOfRow, eval, heldOut, histogram, split, PartitionStats.of(histogram), manifest);
    }

    private static void requireUniqueKeys(List<Row> rows) {
        Map<String, Integer> first = new HashMap<>(rows.size() * 2);
        for (int i = 0; i < rows.size(); i++) {
            Integer prev = first.putIfAbsent(rows.get(i).key(), i);
            if (prev != null) {
                throw new IllegalArgumentException("row key '" + rows.get(i).key() + "' appears at rows " + prev
                        + " and " + i + "; row keys must be unique (choose another partitioning.row_key_column)");
            }
        }
    }

    /** What a row became. */
    public enum Role {
        TRAIN,
        EVAL,
        HELD_OUT
    }

    /** The outcome of {@link #run}, indexed by input row position. */
    public static final class Result {
        private final PartitionPlan plan;
        private final int[] clientOfRow;
        private final boolean[] eval;
        private final boolean[] heldOut;
        private final LabelHistogram histogram;
        private final TrainEvalSplit split;
        private final PartitionStats stats;
        private final Manifest manifest;

        Result(PartitionPlan plan, int[] clientOfRow, boolean[] eval, boolean[] heldOut, LabelHistogram histogram,
                TrainEvalSplit split, PartitionStats stats, Manifest manifest) {
            this.plan = plan;
            this.clientOfRow = clientOfRow;
            this.eval = eval;
            this.heldOut = heldOut;
            this.histogram = histogram;
            this.split = split;
            this.stats = stats;
            this.manifest = manifest;
        }

        public PartitionPlan plan() {
            return plan;
        }

        public int numRows() {
            return clientOfRow.length;
        }

        /** The row's client, or {@link PartitionPlan#UNASSIGNED} if it is in the global hold-out. */
        public int clientOf(int row) {
            return clientOfRow[row];
        }

        /** A copy of the per-row client ids. */
        public int[] clients() {
            return clientOfRow.clone();
        }

        public Role role(int row) {
            return heldOut[row] ? Role.HELD_OUT : eval[row] ? Role.EVAL : Role.TRAIN;
        }

        /** Rows per (client, label) over train and eval rows. */
        public LabelHistogram histogram() {
            return histogram;
        }

        public TrainEvalSplit split() {
            return split;
        }

        public PartitionStats stats() {
            return stats;
        }

        public Manifest manifest() {
            return manifest;
        }
    }
}
