package dev.understudy.partition;

import java.util.List;
import java.util.Map;

/**
 * IID partitioning: every client's label mix follows the global one (stratified), rows shuffled by
 * the seeded row order.
 *
 * @param numClients {@code partitioning.num_clients}, &gt; 0
 * @param sizeWeights {@code partitioning.size_weights}: relative client sizes, one per client, or
 *     empty for equal sizes
 * @param seed {@code partitioning.seed}
 */
public record IidConfig(int numClients, List<Double> sizeWeights, long seed) implements PartitionerConfig {

    public static final String TYPE = "iid";

    public IidConfig {
        Checks.positive("num_clients", numClients);
        sizeWeights = List.copyOf(sizeWeights);
        ConfigValues.checkSizeWeights(sizeWeights, numClients);
    }

    /** Equal sizes. */
    public IidConfig(int numClients, long seed) {
        this(numClients, List.of(), seed);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Map<String, Object> parameters() {
        return Map.of("num_clients", numClients, "size_weights", sizeWeights);
    }

    @Override
    public Partitioner create() {
        return new IidPartitioner(this);
    }
}
