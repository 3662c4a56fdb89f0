package dev.understudy.job.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.apache.spark.Partitioner;

/**
 * Spark partitioner that packs whole clients into partitions balanced by size (longest-processing-
 * time first: largest client to the currently lightest partition), so each round's training stage
 * has no partition holding far more work than the others. Deterministic: ties break by client id.
 */
public final class ClientPacking extends Partitioner {
    private static final long serialVersionUID = 1L;

    private final Map<String, Integer> assignment;
    private final int partitions;

    private ClientPacking(Map<String, Integer> assignment, int partitions) {
        this.assignment = assignment;
        this.partitions = partitions;
    }

    /** Packs clients of the given sizes into {@code partitions} partitions. */
    public static ClientPacking of(Map<String, Long> sizes, int partitions) {
        List<Map.Entry<String, Long>> order = new ArrayList<>(sizes.entrySet());
        order.sort(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        PriorityQueue<long[]> load = new PriorityQueue<>(Comparator.<long[]>comparingLong(a -> a[0]).thenComparingLong(a -> a[1]));
        for (int p = 0; p < partitions; p++) {
            load.add(new long[] {0, p});
        }
        Map<String, Integer> assignment = new HashMap<>();
        for (Map.Entry<String, Long> e : order) {
            long[] lightest = load.poll();
            assignment.put(e.getKey(), (int) lightest[1]);
            lightest[0] += Math.max(1, e.getValue());
            load.add(lightest);
        }
        return new ClientPacking(assignment, partitions);
    }

    @Override
    public int numPartitions() {
        return partitions;
    }

    @Override
    public int getPartition(Object key) {
        Integer p = assignment.get((String) key);
        if (p == null) {
            throw new IllegalArgumentException("client " + key + " was not in the packing plan");
        }
        return p;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClientPacking c && c.partitions == partitions && c.assignment.equals(assignment);
    }

    @Override
    public int hashCode() {
        return assignment.hashCode() * 31 + partitions;
    }
}
