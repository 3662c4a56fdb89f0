package dev.understudy.partition;

/**
 * Given client sizes (equal, or in the ratio of {@code size_weights}), each client's label mix is
 * drawn from Dirichlet(α) over the labels, as in Flower's {@code InnerDirichletPartitioner}.
 *
 * <p>Clients are filled one at a time in a seeded order. A client's rows are split over the labels
 * by largest remainder on its Dirichlet proportions, capped by the rows each label has left; when a
 * label runs out, its share goes to the client's other labels in proportion to their draws (Flower
 * renormalises over non-exhausted labels the same way). If the client's drawn labels cannot hold
 * its size at all, the rest comes from the remaining labels in proportion to what they have left.
 * The remaining label rows always equal the remaining client capacity, so every client is filled.
 */
public final class InnerDirichletPartitioner implements Partitioner {

    private final InnerDirichletConfig config;

    public InnerDirichletPartitioner(InnerDirichletConfig config) {
        this.config = config;
    }

    @Override
    public String type() {
        return InnerDirichletConfig.TYPE;
    }

    @Override
    public Stratification stratification() {
        return Stratification.LABEL;
    }

    @Override
    public InnerDirichletConfig config() {
        return config;
    }

    @Override
    public PartitionPlan plan(StratumCounts counts) {
        int numClients = config.numClients();
        int numLabels = counts.size();
        Quotas.requireRowsForClients(numClients, counts.total());
        long[] sizes = Quotas.clientSizes(counts.total(), Quotas.sizeWeights(config.sizeWeights(), numClients),
                SeededRandom.derive(config.seed(), "inner_dirichlet/sizes"));
        SeededRandom rng = new SeededRandom(SeededRandom.derive(config.seed(), "inner_dirichlet"));
        int[] order = rng.permutation(numClients);
        long[] remaining = counts.counts();
        long[][] quotas = new long[numLabels][numClients];
        for (int c : order) {
            double[] p = Sampling.dirichlet(config.alpha(), numLabels, rng);
            long capacity = 0;
            for (int l = 0; l < numLabels; l++) {
                if (p[l] > 0) {
                    capacity += remaining[l];
                }
            }
            long first = Math.min(sizes[c], capacity);
            long[] x = Apportion.largestRemainder(first, p, remaining, rng.nextLong());
            take(x, remaining, quotas, c);
            long rest = sizes[c] - first;
            if (rest > 0) {
                double[] w = new double[numLabels];
                for (int l = 0; l < numLabels; l++) {
                    w[l] = remaining[l];
                }
                take(Apportion.largestRemainder(rest, w, remaining, rng.nextLong()), remaining, quotas, c);
            }
        }
        return Quotas.labelPlan(config, numClients, counts, quotas);
    }

    private static void take(long[] x, long[] remaining, long[][] quotas, int client) {
        for (int l = 0; l < x.length; l++) {
            remaining[l] -= x[l];
            quotas[l][client] += x[l];
        }
    }
}
