package dev.understudy.partition;

import dev.understudy.partition.stats.LabelHistogram;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-client train/eval split, stratified by label.
 *
 * <p>Quota phase: client c with n rows holds out {@code e = min(round(f · n), n - 1)} rows (at
 * least one row always stays for training), apportioned over the client's labels by largest
 * remainder in proportion to its label counts. Apportioning per client rather than rounding each
 * (client, label) cell keeps the client's eval share close to f even when its cells are tiny, as
 * they are under strong label skew.
 *
 * <p>Assignment: within each (client, label) cell, rows are ordered by {@code (RowOrder.hash(
 * orderSeed(), key), key)} and the first {@code evalCount(client, label)} are eval. On Spark:
 * {@code row_number() over (partition by client_id, label order by h2, key) - 1 < evalCount}.
 * The order hash uses a seed of its own, so the eval rows are not the rows that came first in the
 * partition order.
 */
public final class TrainEvalSplit {

    private final double evalFraction;
    private final long seed;
    private final List<String> labels;
    private final long[][] evalCounts; // (client, label)
    private final Map<String, Integer> labelIndex = new HashMap<>();

    private TrainEvalSplit(double evalFraction, long seed, List<String> labels, long[][] evalCounts) {
        this.evalFraction = evalFraction;
        this.seed = seed;
        this.labels = labels;
        this.evalCounts = evalCounts;
        for (int l = 0; l < labels.size(); l++) {
            labelIndex.put(labels.get(l), l);
        }
    }

    /**
     * @param cells rows per (client, label) after partitioning
     * @param evalFraction {@code partitioning.eval_fraction}, in [0, 1)
     * @param seed the partitioning seed
     */
    public static TrainEvalSplit compute(LabelHistogram cells, double evalFraction, long seed) {
        Checks.fraction("eval_fraction", evalFraction);
        int numClients = cells.numClients();
        int numLabels = cells.numLabels();
        long[][] eval = new long[numClients][];
        long tieSeed = SeededRandom.derive(seed, "eval_split/ties");
        for (int c = 0; c < numClients; c++) {
            long[] counts = cells.clientCounts(c);
            long n = 0;
            for (long v : counts) {
                n += v;
            }
            long e = Math.min(Math.round(evalFraction * n), Math.max(n - 1, 0));
            double[] weights = new double[numLabels];
            for (int l = 0; l < numLabels; l++) {
                weights[l] = counts[l];
            }
            eval[c] = Apportion.largestRemainder(e, weights, counts, SeededRandom.mix64(tieSeed + c));
        }
        return new TrainEvalSplit(evalFraction, seed, cells.labels(), eval);
    }

    public double evalFraction() {
        return evalFraction;
    }

    /** The seed of the within-cell order hash: {@code RowOrder.hash(seed, "eval_split/order")}. */
    public long orderSeed() {
        return SeededRandom.derive(seed, "eval_split/order");
    }

    public List<String> labels() {
        return labels;
    }

    public long evalCount(int client, String label) {
        Integer l = labelIndex.get(label);
        return l == null ? 0 : evalCounts[client][l];
    }

    public long evalCount(int client, int labelIndex) {
        return evalCounts[client][labelIndex];
    }

    public long clientEvalCount(int client) {
        long e = 0;
        for (long v : evalCounts[client]) {
            e += v;
        }
        return e;
    }

    /** Whether the row with 0-based {@code rankInCell} in its (client, label) cell is an eval row. */
    public boolean isEval(int client, String label, long rankInCell) {
        return rankInCell < evalCount(client, label);
    }

    /** Eval rows per (client, label). */
    public LabelHistogram evalHistogram() {
        return new LabelHistogram(labels, evalCounts);
    }

    /**
     * In-memory split of assigned rows.
     *
     * @param clientOfRow per-row client id; rows with a negative id are never eval
     * @return per-row eval flag
     */
    public boolean[] assign(List<Row> rows, int[] clientOfRow) {
        int n = rows.size();
        int numLabels = labels.size();
        long cellCount = (long) evalCounts.length * numLabels;
        if (cellCount >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException("too many (client, label) cells for the in-memory path: " + cellCount);
        }
        int unassignedGroup = (int) cellCount;
        long[] hashes = new long[n];
        int[] group = new int[n];
        long order = orderSeed();
        for (int i = 0; i < n; i++) {
            Row r = rows.get(i);
            hashes[i] = RowOrder.hash(order, r.key());
            if (clientOfRow[i] < 0) {
                group[i] = unassignedGroup;
                continue;
            }
            Integer l = labelIndex.get(r.label());
            if (l == null) {
                throw new IllegalArgumentException("row '" + r.key() + "' has label '" + r.label()
                        + "', which the split was not computed for");
            }
            group[i] = clientOfRow[i] * numLabels + l;
        }
        Ranks.Sorted sorted = Ranks.sort(hashes, group, unassignedGroup + 1,
                (a, b) -> RowOrder.compareKeys(rows.get(a).key(), rows.get(b).key()));
        boolean[] eval = new boolean[n];
        for (int g = 0; g < unassignedGroup; g++) {
            int from = sorted.start[g];
            long evalCount = evalCounts[g / numLabels][g % numLabels];
            for (int p = from; p < sorted.start[g + 1]; p++) {
                eval[sorted.rows[p]] = p - from < evalCount;
            }
        }
        return eval;
    }
}
