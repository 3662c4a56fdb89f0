package dev.understudy.partition;

import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * Several natural-id values per client, balanced by rows: longest-processing-time-first greedy
 * (Graham 1969). Values are taken by descending row count (ties by seeded hash) and each goes to the
 * client with the fewest rows so far (ties by a seeded client priority). The largest client is then
 * at most 4/3 of the optimum, and at most the average plus the largest single value.
 *
 * <p>Like {@link NaturalIdPartitioner}, the plan is a value → client mapping to be reused for later
 * data sets. Flower's GroupedNaturalIdPartitioner instead groups a fixed number of ids per client in
 * sorted order, regardless of how many rows each id has.
 */
public final class GroupedNaturalIdPartitioner implements Partitioner {

    private final GroupedNaturalIdConfig config;

    public GroupedNaturalIdPartitioner(GroupedNaturalIdConfig config) {
        this.config = config;
    }

    @Override
    public String type() {
        return GroupedNaturalIdConfig.TYPE;
    }

    @Override
    public Stratification stratification() {
        return Stratification.NATURAL_ID;
    }

    @Override
    public GroupedNaturalIdConfig config() {
        return config;
    }

    @Override
    public PartitionPlan plan(StratumCounts counts) {
        int numClients = config.numClients();
        int numValues = counts.size();
        if (numClients > numValues) {
            throw new InfeasiblePartitioningException("Cannot set partitioning.num_clients to " + numClients
                    + ": column '" + config.idColumn() + "' (partitioning.id_column) has only " + numValues
                    + " distinct values; lower partitioning.num_clients (or use type natural_id for one client per value)");
        }
        long valueSeed = SeededRandom.derive(config.seed(), "grouped_natural_id/values");
        long clientSeed = SeededRandom.derive(config.seed(), "grouped_natural_id/clients");
        long[] valueTie = new long[numValues];
        for (int s = 0; s < numValues; s++) {
            valueTie[s] = RowOrder.hash(valueSeed, counts.strata().get(s));
        }
        Integer[] order = new Integer[numValues];
        for (int s = 0; s < numValues; s++) {
            order[s] = s;
        }
        // Strata are already in KEY_ORDER, so the index is the final tie-break.
        Arrays.sort(order, (a, b) -> {
            int c = Long.compare(counts.count(b), counts.count(a));
            if (c != 0) {
                return c;
            }
            c = Long.compare(valueTie[a], valueTie[b]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        long[] load = new long[numClients];
        long[] priority = new long[numClients];
        for (int c = 0; c < numClients; c++) {
            priority[c] = SeededRandom.mix64(clientSeed + c);
        }
        PriorityQueue<Integer> lightest = new PriorityQueue<>(numClients, (a, b) -> {
            int c = Long.compare(load[a], load[b]);
            if (c != 0) {
                return c;
            }
            c = Long.compare(priority[a], priority[b]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        for (int c = 0; c < numClients; c++) {
            lightest.add(c);
        }
        int[] clientOfValue = new int[numValues];
        for (int s : order) {
            int c = lightest.poll();
            clientOfValue[s] = c;
            load[c] += counts.count(s);
            lightest.add(c);
        }
        PartitionPlan.Builder b = PartitionPlan.builder(config.type(), config.parameters(), config.seed(),
                Stratification.NATURAL_ID, numClients);
        for (int s = 0; s < numValues; s++) {
            b.stratum(counts.strata().get(s), new int[] {clientOfValue[s]}, new long[] {counts.count(s)});
        }
        return b.build();
    }
}
