package dev.understudy.partition.stats;

import java.util.Arrays;
import java.util.List;

/**
 * Rows per (client, label): the table every statistic, the train/eval split and the manifest are
 * computed from. On Spark it is one {@code groupBy(client_id, label).count()}; for label-stratified
 * plans it is simply the plan's quota matrix.
 */
public final class LabelHistogram {

    private final List<String> labels;
    private final long[][] counts; // (client, label)

    /**
     * @param labels label names, in the order of the columns of {@code counts}
     * @param counts {@code counts[client][label]}, non-negative; copied
     */
    public LabelHistogram(List<String> labels, long[][] counts) {
        this.labels = List.copyOf(labels);
        this.counts = new long[counts.length][];
        for (int c = 0; c < counts.length; c++) {
            if (counts[c].length != this.labels.size()) {
                throw new IllegalArgumentException("client " + c + " has " + counts[c].length
                        + " label counts but there are " + this.labels.size() + " labels");
            }
            for (long v : counts[c]) {
                if (v < 0) {
                    throw new IllegalArgumentException("client " + c + " has a negative count " + v);
                }
            }
            this.counts[c] = counts[c].clone();
        }
    }

    /**
     * Builds the histogram from a per-row assignment.
     *
     * @param clientOfRow client id per row; rows with a negative id (held out, unassigned) are skipped
     * @param labelOfRow label index per row, into {@code labels}
     */
    public static LabelHistogram fromAssignment(int numClients, List<String> labels, int[] clientOfRow, int[] labelOfRow) {
        long[][] counts = new long[numClients][labels.size()];
        for (int i = 0; i < clientOfRow.length; i++) {
            if (clientOfRow[i] >= 0) {
                counts[clientOfRow[i]][labelOfRow[i]]++;
            }
        }
        return new LabelHistogram(labels, counts);
    }

    public List<String> labels() {
        return labels;
    }

    public int numClients() {
        return counts.length;
    }

    public int numLabels() {
        return labels.size();
    }

    public long count(int client, int label) {
        return counts[client][label];
    }

    /** A copy of one client's counts, in label order. */
    public long[] clientCounts(int client) {
        return counts[client].clone();
    }

    public long clientSize(int client) {
        long s = 0;
        for (long v : counts[client]) {
            s += v;
        }
        return s;
    }

    public long[] clientSizes() {
        long[] sizes = new long[counts.length];
        for (int c = 0; c < counts.length; c++) {
            sizes[c] = clientSize(c);
        }
        return sizes;
    }

    /** Rows per label over all clients. */
    public long[] labelTotals() {
        long[] totals = new long[labels.size()];
        for (long[] row : counts) {
            for (int l = 0; l < row.length; l++) {
                totals[l] += row[l];
            }
        }
        return totals;
    }

    public long total() {
        long t = 0;
        for (long v : labelTotals()) {
            t += v;
        }
        return t;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LabelHistogram other && labels.equals(other.labels) && Arrays.deepEquals(counts, other.counts);
    }

    @Override
    public int hashCode() {
        return labels.hashCode() * 31 + Arrays.deepHashCode(counts);
    }

    @Override
    public String toString() {
        return "LabelHistogram[" + counts.length + " clients x " + labels.size() + " labels, " + total() + " rows]";
    }
}
