package dev.understudy.partition;

import java.util.List;
import java.util.Map;

/**
 * Given client sizes, each client's label mix drawn from Dirichlet(α).
 *
 * @param numClients {@code partitioning.num_clients}, &gt; 0
 * @param alpha {@code partitioning.alpha}, &gt; 0
 * @param sizeWeights {@code partitioning.size_weights}: relative client sizes, one per client, or
 *     empty for equal sizes
 * @param seed {@code partitioning.seed}
 */
public record InnerDirichletConfig(int numClients, double alpha, List<Double> sizeWeights, long seed)
        implements PartitionerConfig {

    public static final String TYPE = "inner_dirichlet";

    public InnerDirichletConfig {
        Checks.positive("num_clients", numClients);
        Checks.positive("alpha", alpha);
        sizeWeights = List.copyOf(sizeWeights);
        ConfigValues.checkSizeWeights(sizeWeights, numClients);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Map<String, Object> parameters() {
        return Map.of("num_clients", numClients, "alpha", alpha, "size_weights", sizeWeights);
    }

    @Override
    public Partitioner create() {
        return new InnerDirichletPartitioner(this);
    }
}
