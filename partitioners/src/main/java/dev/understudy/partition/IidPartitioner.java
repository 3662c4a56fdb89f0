package dev.understudy.partition;

/**
 * IID partitioning: client sizes equal (or in the ratio of {@code size_weights}), and every client's
 * label mix equal to the global mix up to rounding.
 *
 * <p>Unlike Flower's IidPartitioner before flwrlabs/flower#7329, which split the rows in input order
 * so that label-sorted data gave label-skewed "IID" clients, the split here is stratified by label
 * and rows are taken in the seeded hash order, so the input order cannot matter.
 */
public final class IidPartitioner implements Partitioner {

    private final IidConfig config;

    public IidPartitioner(IidConfig config) {
        this.config = config;
    }

    @Override
    public String type() {
        return IidConfig.TYPE;
    }

    @Override
    public Stratification stratification() {
        return Stratification.LABEL;
    }

    @Override
    public IidConfig config() {
        return config;
    }

    @Override
    public PartitionPlan plan(StratumCounts counts) {
        int numClients = config.numClients();
        Quotas.requireRowsForClients(numClients, counts.total());
        long seed = config.seed();
        long[] sizes = Quotas.clientSizes(counts.total(), Quotas.sizeWeights(config.sizeWeights(), numClients),
                SeededRandom.derive(seed, "iid/sizes"));
        long[][] quotas = Quotas.proportionalMix(sizes, counts, SeededRandom.derive(seed, "iid/mix"));
        return Quotas.labelPlan(config, numClients, counts, quotas);
    }
}
