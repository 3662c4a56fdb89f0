package dev.understudy.partition;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Clients split by a natural group column <em>and</em> by Dirichlet label skew within each group, e.g.
 * review domains (imdb, yelp, amazon) each split over a few clients with skewed label mixes. Strata
 * are (group, label) pairs ({@link Stratification#GROUP_LABEL}, key {@code group + "\u0000" + label}).
 *
 * <ol>
 *   <li><b>Clients per group.</b> The {@code num_clients} clients are apportioned to the groups in
 *       proportion to the groups' row counts, by largest remainder with a floor of one client per
 *       group: groups whose proportional share is below one get exactly one, the remaining clients are
 *       re-shared among the other groups (repeated until every share is ≥ 1), and leftover clients go
 *       to the largest fractional parts (ties by a seeded priority). {@code num_clients} below the
 *       number of groups is an error naming {@code partitioning.num_clients}.
 *   <li><b>Client ids.</b> Groups in {@link RowOrder#KEY_ORDER} of their names; each group gets a
 *       contiguous block of ids (the first group 0..k₀-1, the next k₀..k₀+k₁-1, ...). Every client
 *       belongs to exactly one group and only ever holds that group's rows.
 *   <li><b>Within a group.</b> The group's rows are split over its clients by {@link
 *       DirichletPartitioner}'s algorithm on the group's label counts, with {@code alpha}, {@code
 *       min_size}, {@value GroupedDirichletConfig#MAX_RESAMPLES} attempts, no self-balancing, and the
 *       seed {@code derive(seed, "grouped_dirichlet/group/" + group)}. A group's split therefore
 *       depends only on the seed, the group's name, its label counts and its client count, never on
 *       the other groups or the order the groups were enumerated in.
 * </ol>
 *
 * The plan is a label-style plan (quotas per stratum, rows assigned by rank within their (group,
 * label) stratum), so it is applied exactly like the other label plans, in memory or on Spark.
 */
public final class GroupedDirichletPartitioner implements Partitioner {

    private final GroupedDirichletConfig config;

    public GroupedDirichletPartitioner(GroupedDirichletConfig config) {
        this.config = config;
    }

    @Override
    public String type() {
        return GroupedDirichletConfig.TYPE;
    }

    @Override
    public Stratification stratification() {
        return Stratification.GROUP_LABEL;
    }

    @Override
    public GroupedDirichletConfig config() {
        return config;
    }

    @Override
    public PartitionPlan plan(StratumCounts counts) {
        SortedMap<String, StratumCounts> groups = groups(counts);
        int[] clients = apportion(groups);
        int numClients = config.numClients();
        Quotas.requireRowsForClients(numClients, counts.total());
        TreeMap<String, long[]> byStratum = new TreeMap<>(RowOrder.KEY_ORDER);
        int offset = 0;
        int g = 0;
        for (var e : groups.entrySet()) {
            String group = e.getKey();
            StratumCounts labels = e.getValue();
            int k = clients[g++];
            long[][] quotas = groupQuotas(group, labels, k);
            for (int l = 0; l < labels.size(); l++) {
                long[] dense = new long[numClients];
                System.arraycopy(quotas[l], 0, dense, offset, k);
                byStratum.put(Stratification.groupLabelKey(group, labels.strata().get(l)), dense);
            }
            offset += k;
        }
        PartitionPlan.Builder b = PartitionPlan.builder(config.type(), config.parameters(), config.seed(),
                Stratification.GROUP_LABEL, numClients);
        byStratum.forEach(b::stratum);
        return b.build();
    }

    /**
     * Clients per group (groups in {@link RowOrder#KEY_ORDER}); the group with the i-th smallest name
     * holds the ids after those of the groups before it.
     *
     * @param counts rows per (group, label) stratum
     */
    public SortedMap<String, Integer> clientsPerGroup(StratumCounts counts) {
        SortedMap<String, StratumCounts> groups = groups(counts);
        int[] clients = apportion(groups);
        TreeMap<String, Integer> out = new TreeMap<>(RowOrder.KEY_ORDER);
        int g = 0;
        for (String group : groups.keySet()) {
            out.put(group, clients[g++]);
        }
        return Collections.unmodifiableSortedMap(out);
    }

    /** (group, label) counts → per group, its label counts; groups in KEY_ORDER. */
    private SortedMap<String, StratumCounts> groups(StratumCounts counts) {
        TreeMap<String, TreeMap<String, Long>> byGroup = new TreeMap<>(RowOrder.KEY_ORDER);
        for (int s = 0; s < counts.size(); s++) {
            String key = counts.strata().get(s);
            byGroup.computeIfAbsent(Stratification.groupOf(key), x -> new TreeMap<>(RowOrder.KEY_ORDER))
                    .put(Stratification.labelOf(key), counts.count(s));
        }
        if (byGroup.isEmpty()) {
            throw new InfeasiblePartitioningException("Column '" + config.groupColumn() + "' (partitioning.group_column)"
                    + " has no values: there are no rows to partition (after any global hold-out)");
        }
        TreeMap<String, StratumCounts> out = new TreeMap<>(RowOrder.KEY_ORDER);
        byGroup.forEach((group, labels) -> out.put(group, StratumCounts.of(labels)));
        return out;
    }

    private int[] apportion(SortedMap<String, StratumCounts> groups) {
        int numGroups = groups.size();
        if (config.numClients() < numGroups) {
            List<String> names = new ArrayList<>(groups.keySet());
            String shown = names.size() <= 10 ? names.toString() : names.subList(0, 10) + " and " + (names.size() - 10) + " more";
            throw new InfeasiblePartitioningException("Cannot set partitioning.num_clients to " + config.numClients()
                    + ": column '" + config.groupColumn() + "' (partitioning.group_column) has " + numGroups + " groups "
                    + shown + " and every group needs at least one client; raise partitioning.num_clients to at least "
                    + numGroups);
        }
        long[] rows = new long[numGroups];
        int g = 0;
        for (StratumCounts c : groups.values()) {
            rows[g++] = c.total();
        }
        return clientsPerGroup(rows, config.numClients(), SeededRandom.derive(config.seed(), "grouped_dirichlet/clients"));
    }

    /**
     * Largest remainder of {@code numClients} over groups weighted by {@code rows}, every group at
     * least one: groups whose share is below one are fixed at one and the rest re-shared, until no
     * share is below one; then floors plus the leftover to the largest fractional parts.
     *
     * @param rows rows per group, all &gt; 0; {@code rows.length <= numClients}
     */
    static int[] clientsPerGroup(long[] rows, int numClients, long tieSeed) {
        int n = rows.length;
        boolean[] fixed = new boolean[n];
        int fixedCount = 0;
        boolean changed = true;
        while (changed) {
            changed = false;
            double weightSum = 0;
            for (int i = 0; i < n; i++) {
                if (!fixed[i]) {
                    weightSum += rows[i];
                }
            }
            long remaining = numClients - fixedCount;
            int newlyFixed = 0;
            for (int i = 0; i < n; i++) {
                // The same share as Apportion computes, so a share ≥ 1 here has a floor ≥ 1 there.
                if (!fixed[i] && remaining * (rows[i] / weightSum) < 1) {
                    fixed[i] = true;
                    newlyFixed++;
                }
            }
            fixedCount += newlyFixed;
            changed = newlyFixed > 0;
        }
        double[] weights = new double[n];
        for (int i = 0; i < n; i++) {
            weights[i] = fixed[i] ? 0 : rows[i];
        }
        long[] parts = Apportion.largestRemainder(numClients - fixedCount, weights, tieSeed);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = fixed[i] ? 1 : Math.toIntExact(parts[i]);
            if (out[i] < 1) {
                throw new IllegalStateException("group " + i + " got no client: " + java.util.Arrays.toString(parts));
            }
        }
        return out;
    }

    /** DirichletPartitioner's quotas for one group, with a seed from the config seed and the group name. */
    private long[][] groupQuotas(String group, StratumCounts labels, int numClients) {
        DirichletConfig dirichlet = new DirichletConfig(numClients, config.alpha(), config.minSize(),
                GroupedDirichletConfig.MAX_RESAMPLES, false, SeededRandom.derive(config.seed(), "grouped_dirichlet/group/" + group));
        try {
            return new DirichletPartitioner(dirichlet).quotas(labels);
        } catch (InfeasiblePartitioningException e) {
            throw new InfeasiblePartitioningException(String.format(Locale.ROOT,
                    "Group '%s' of column '%s' (partitioning.group_column), %d rows over its %d of the %d clients: %s",
                    group, config.groupColumn(), labels.total(), numClients, config.numClients(), e.getMessage()));
        }
    }
}
