package dev.understudy.partition;


/**
 * Quantity skew: client sizes follow a power law (Zipf) or a log-normal distribution, and each
 * client's label mix is IID (the global mix up to rounding, as in {@link IidPartitioner}).
 *
 * <p>Power law: client sizes rank in a seeded random order, and the client of rank r gets weight
 * (r + 1)^-exponent (Zipf's law; exponent 0 gives equal sizes). Log-normal: weight exp(σ·Z) with Z
 * standard normal (σ = 0 gives equal sizes). Every client first gets {@code min_size} rows; the rest
 * is apportioned by weight.
 */
public final class SizePartitioner implements Partitioner {

    private final SizeConfig config;

    public SizePartitioner(SizeConfig config) {
        this.config = config;
    }

    @Override
    public String type() {
        return SizeConfig.TYPE;
    }

    @Override
    public Stratification stratification() {
        return Stratification.LABEL;
    }

    @Override
    public SizeConfig config() {
        return config;
    }

    @Override
    public PartitionPlan plan(StratumCounts counts) {
        int numClients = config.numClients();
        long rows = counts.total();
        Quotas.requireRowsForClients(numClients, rows);
        Quotas.requireMinSize(numClients, config.minSize(), rows);
        long reserved = (long) numClients * config.minSize();
        SeededRandom rng = new SeededRandom(SeededRandom.derive(config.seed(), "size"));
        double[] weights = weights(rng);
        long[] extra = Apportion.largestRemainder(rows - reserved, weights, rng.nextLong());
        long[] sizes = new long[numClients];
        for (int c = 0; c < numClients; c++) {
            sizes[c] = config.minSize() + extra[c];
        }
        long[][] quotas = Quotas.proportionalMix(sizes, counts, SeededRandom.derive(config.seed(), "size/mix"));
        return Quotas.labelPlan(config, numClients, counts, quotas);
    }

    private double[] weights(SeededRandom rng) {
        int n = config.numClients();
        double[] w = new double[n];
        if (config.distribution() == SizeConfig.Distribution.POWER_LAW) {
            int[] rank = rng.permutation(n);
            for (int c = 0; c < n; c++) {
                w[c] = StrictMath.pow(rank[c] + 1, -config.exponent());
            }
        } else {
            for (int c = 0; c < n; c++) {
                w[c] = StrictMath.exp(config.sigma() * rng.nextGaussian());
            }
        }
        return w;
    }
}
