package dev.understudy.partition;

import java.util.Locale;

/**
 * Label-skew partitioning with Dirichlet proportions (Hsu, Qi and Brown, "Measuring the effects of
 * non-identical data distribution for federated visual classification", arXiv:1909.06335, 2019),
 * following Flower's {@code DirichletPartitioner} (flwr_datasets).
 *
 * <p>Algorithm, per attempt:
 *
 * <ol>
 *   <li>for each label in sorted order, draw proportions p ~ Dirichlet(α, ..., α) over the clients;
 *   <li>with {@code self_balancing}, zero the proportion of every client that already holds more than
 *       the running average of rows per client (Flower's balancing, not in the paper; it keeps later
 *       labels from piling onto already large clients);
 *   <li>split the label's rows by largest remainder over p (Flower floors cumulative sums; largest
 *       remainder gives the same proportions with exact totals);
 *   <li>accept the attempt if every client has at least {@code min_size} rows.
 * </ol>
 *
 * Attempts are bounded by {@code max_resamples}; each uses its own derived seed, so the outcome is
 * deterministic. When all fail, the error says which knob to turn.
 */
public final class DirichletPartitioner implements Partitioner {

    private final DirichletConfig config;

    public DirichletPartitioner(DirichletConfig config) {
        this.config = config;
    }

    @Override
    public String type() {
        return DirichletConfig.TYPE;
    }

    @Override
    public Stratification stratification() {
        return Stratification.LABEL;
    }

    @Override
    public DirichletConfig config() {
        return config;
    }

    @Override
    public PartitionPlan plan(StratumCounts counts) {
        return Quotas.labelPlan(config, config.numClients(), counts, quotas(counts));
    }

    /**
     * The quota phase without the plan: quotas[stratum][client], rows summing to the stratum counts,
     * every client with at least {@code min_size} rows. {@link GroupedDirichletPartitioner} runs it on
     * each group's label counts.
     *
     * @throws InfeasiblePartitioningException as {@link #plan}
     */
    long[][] quotas(StratumCounts counts) {
        int numClients = config.numClients();
        long rows = counts.total();
        Quotas.requireRowsForClients(numClients, rows);
        Quotas.requireMinSize(numClients, config.minSize(), rows);
        long bestSmallest = -1;
        for (int attempt = 0; attempt < config.maxResamples(); attempt++) {
            SeededRandom rng = new SeededRandom(SeededRandom.derive(config.seed(), "dirichlet/" + attempt));
            long[][] quotas = sample(counts, rng);
            long smallest = Long.MAX_VALUE;
            for (int c = 0; c < numClients; c++) {
                long size = 0;
                for (long[] q : quotas) {
                    size += q[c];
                }
                smallest = Math.min(smallest, size);
            }
            if (smallest >= config.minSize()) {
                return quotas;
            }
            bestSmallest = Math.max(bestSmallest, smallest);
        }
        throw new InfeasiblePartitioningException(String.format(Locale.ROOT,
                "Cannot give every client ≥ %d rows with α=%s over %d labels (%d clients, %d rows): after %d"
                        + " attempts the smallest client had at most %d rows; lower partitioning.min_size, raise"
                        + " partitioning.alpha, lower partitioning.num_clients or raise partitioning.max_resamples",
                config.minSize(), config.alpha(), counts.size(), numClients, rows, config.maxResamples(), bestSmallest));
    }

    private long[][] sample(StratumCounts counts, SeededRandom rng) {
        int numClients = config.numClients();
        long[] assigned = new long[numClients];
        long assignedTotal = 0;
        long[][] quotas = new long[counts.size()][];
        for (int s = 0; s < counts.size(); s++) {
            double[] p = Sampling.dirichlet(config.alpha(), numClients, rng);
            if (config.selfBalancing() && assignedTotal > 0) {
                double average = (double) assignedTotal / numClients;
                double kept = 0;
                for (int c = 0; c < numClients; c++) {
                    if (assigned[c] > average) {
                        p[c] = 0;
                    }
                    kept += p[c];
                }
                if (kept == 0) {
                    // Every eligible client's proportion underflowed (tiny α): share equally among them.
                    for (int c = 0; c < numClients; c++) {
                        p[c] = assigned[c] > average ? 0 : 1;
                    }
                }
            }
            quotas[s] = Apportion.largestRemainder(counts.count(s), p, rng.nextLong());
            for (int c = 0; c < numClients; c++) {
                assigned[c] += quotas[s][c];
            }
            assignedTotal += counts.count(s);
        }
        return quotas;
    }
}
