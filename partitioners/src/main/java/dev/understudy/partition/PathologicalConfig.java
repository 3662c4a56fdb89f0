package dev.understudy.partition;

import java.util.Map;

/**
 * McMahan et al.'s pathological non-IID split: every client holds exactly {@code labelsPerClient}
 * distinct labels.
 *
 * @param numClients {@code partitioning.num_clients}, &gt; 0
 * @param labelsPerClient {@code partitioning.labels_per_client}, &gt; 0 and at most the number of labels
 * @param seed {@code partitioning.seed}
 */
public record PathologicalConfig(int numClients, int labelsPerClient, long seed) implements PartitionerConfig {

    public static final String TYPE = "pathological";

    public PathologicalConfig {
        Checks.positive("num_clients", numClients);
        Checks.positive("labels_per_client", labelsPerClient);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Map<String, Object> parameters() {
        return Map.of("num_clients", numClients, "labels_per_client", labelsPerClient);
    }

    @Override
    public Partitioner create() {
        return new PathologicalPartitioner(this);
    }
}
