package dev.understudy.partition;

import java.util.List;

/** Quota-phase building blocks shared by the label partitioners. */
final class Quotas {

    private Quotas() {}

    /** Fails fast when there are fewer rows than clients: some client would be empty. */
    static void requireRowsForClients(int numClients, long rows) {
        if (numClients > rows) {
            throw new InfeasiblePartitioningException("Cannot set partitioning.num_clients to " + numClients
                    + ": the data has only " + rows + " rows to partition (after any global hold-out), so some client"
                    + " would be empty; lower partitioning.num_clients");
        }
    }

    /** Fails when {@code numClients × minSize} rows cannot fit in {@code rows}, naming the keys to change. */
    static void requireMinSize(int numClients, int minSize, long rows) {
        long needed = (long) numClients * minSize;
        if (needed > rows) {
            throw new InfeasiblePartitioningException(String.format(java.util.Locale.ROOT,
                    "Cannot give every client ≥ %d rows: %d clients × %d = %d exceeds the %d rows;"
                            + " lower partitioning.min_size or partitioning.num_clients",
                    minSize, numClients, minSize, needed, rows));
        }
    }

    /** Relative weights from {@code size_weights}, or all ones. */
    static double[] sizeWeights(List<Double> configured, int numClients) {
        double[] w = new double[numClients];
        for (int c = 0; c < numClients; c++) {
            w[c] = configured.isEmpty() ? 1.0 : configured.get(c);
        }
        return w;
    }

    /** Splits {@code total} rows into client sizes by weight; every client must get at least one row. */
    static long[] clientSizes(long total, double[] weights, long tieSeed) {
        long[] sizes = Apportion.largestRemainder(total, weights, tieSeed);
        for (int c = 0; c < sizes.length; c++) {
            if (sizes[c] == 0) {
                throw new InfeasiblePartitioningException("Client " + c + " would get 0 of the " + total
                        + " rows with partitioning.size_weights[" + c + "]=" + weights[c]
                        + "; raise that weight or lower partitioning.num_clients");
            }
        }
        return sizes;
    }

    /**
     * IID label mix for given client sizes: quotas[stratum][client] with row sums equal to the stratum
     * counts and column sums equal to {@code clientSizes} exactly.
     *
     * <p>Strata are taken in order; each is apportioned over the clients in proportion to their
     * <em>remaining</em> capacity, capped by it. Since the remaining capacities always sum to the
     * remaining rows, every stratum fits, the last one fills every client exactly, and each client's
     * mix stays within rounding of the global mix (a two-way controlled rounding; a plain cell-wise
     * rounding of n_l · s_c / N cannot guarantee both margins).
     */
    static long[][] proportionalMix(long[] clientSizes, StratumCounts counts, long seed) {
        int numClients = clientSizes.length;
        long[] remaining = clientSizes.clone();
        long[][] quotas = new long[counts.size()][];
        double[] weights = new double[numClients];
        for (int s = 0; s < counts.size(); s++) {
            for (int c = 0; c < numClients; c++) {
                weights[c] = remaining[c];
            }
            quotas[s] = Apportion.largestRemainder(counts.count(s), weights, remaining, SeededRandom.mix64(seed + s));
            for (int c = 0; c < numClients; c++) {
                remaining[c] -= quotas[s][c];
            }
        }
        return quotas;
    }

    /** A label-stratified plan from a dense quotas[stratum][client] matrix. */
    static PartitionPlan labelPlan(PartitionerConfig config, int numClients, StratumCounts counts, long[][] quotas) {
        PartitionPlan.Builder b = PartitionPlan.builder(config.type(), config.parameters(), config.seed(),
                Stratification.LABEL, numClients);
        for (int s = 0; s < counts.size(); s++) {
            b.stratum(counts.strata().get(s), quotas[s]);
        }
        return b.build();
    }
}
