package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GroupedDirichletPartitionerTest {

    private static String key(String group, String label) {
        return Stratification.groupLabelKey(group, label);
    }

    /** (group, label) counts from {group, label, count, ...} triples, inserted in the given order. */
    private static StratumCounts counts(Object... triples) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < triples.length; i += 3) {
            m.put(key((String) triples[i], (String) triples[i + 1]), ((Number) triples[i + 2]).longValue());
        }
        return StratumCounts.of(m);
    }

    /** Client ids that hold rows of {@code group} in the plan. */
    private static Set<Integer> clientsOfGroup(PartitionPlan plan, String group) {
        Set<Integer> out = new HashSet<>();
        for (String s : plan.strata()) {
            if (Stratification.groupOf(s).equals(group)) {
                plan.quotas(s).forEach(q -> out.add(q.clientId()));
            }
        }
        return out;
    }

    @Test
    void stratumKeysAreGroupMajorAndSplitBack() {
        assertThat(key("imdb", "1")).isEqualTo("imdb\u00001");
        assertThat(Stratification.groupOf("imdb\u0000a\u0000b")).isEqualTo("imdb");
        assertThat(Stratification.labelOf("imdb\u0000a\u0000b")).isEqualTo("a\u0000b");
        // "a" < "ab" as groups, so every key of group "a" sorts before any key of group "ab".
        assertThat(RowOrder.compareKeys(key("a", "zzz"), key("ab", "0"))).isNegative();
        assertThatThrownBy(() -> key("im\u0000db", "1")).hasMessageContaining("contains the character U+0000");
        assertThatThrownBy(() -> Stratification.labelOf("imdb")).hasMessageContaining("stratum 'imdb' is not a (group, label) key");
        assertThat(Stratification.parse("group_label")).isEqualTo(Stratification.GROUP_LABEL);
    }

    @Test
    void clientsAreApportionedByRowsWithAtLeastOnePerGroup() {
        // Exact shares: 600/300/100 rows of 1000 over 10 clients → 6, 3, 1.
        assertThat(GroupedDirichletPartitioner.clientsPerGroup(new long[] {600, 300, 100}, 10, 1)).containsExactly(6, 3, 1);
        // Shares 4.5, 0.45, 0.05: the two small groups get one client each, the big one the other 3
        // (a plain largest remainder would give 5, 0, 0).
        assertThat(GroupedDirichletPartitioner.clientsPerGroup(new long[] {900, 90, 10}, 5, 1)).containsExactly(3, 1, 1);
        // Cascade: shares 2.9, 1.1, 0.5, 0.5 → c, d fixed at 1; then 3 clients over 290 + 110 rows give b
        // 3 × 110 / 400 = 0.825 < 1 → b fixed at 1; a gets the remaining 2. (Plain largest remainder: 3, 1, 1, 0.)
        assertThat(GroupedDirichletPartitioner.clientsPerGroup(new long[] {290, 110, 50, 50}, 5, 1)).containsExactly(2, 1, 1, 1);
        // Ties (3 equal groups, 10 clients: 3.33 each) go to one group by the seeded priority.
        int[] tied = GroupedDirichletPartitioner.clientsPerGroup(new long[] {1000, 1000, 1000}, 10, 7);
        assertThat(Arrays.stream(tied).sorted().toArray()).containsExactly(3, 3, 4);
        // As many clients as groups: one each, however skewed.
        assertThat(GroupedDirichletPartitioner.clientsPerGroup(new long[] {10_000, 1, 1}, 3, 1)).containsExactly(1, 1, 1);
    }

    @Test
    void clientIdsAreContiguousPerGroupInSortedGroupOrder() {
        // Prepare: amazon 10 rows, imdb 20, yelp 20 → with 5 clients: amazon 1, imdb 2, yelp 2.
        StratumCounts c = counts("yelp", "0", 12, "yelp", "1", 8, "imdb", "0", 10, "imdb", "1", 10,
                "amazon", "0", 5, "amazon", "1", 5);
        GroupedDirichletPartitioner p = new GroupedDirichletPartitioner(new GroupedDirichletConfig("domain", 5, 0.5, 1, 42));
        // Execute
        PartitionPlan plan = p.plan(c);
        // Assert
        assertThat(p.clientsPerGroup(c)).containsExactly(Map.entry("amazon", 1), Map.entry("imdb", 2), Map.entry("yelp", 2));
        assertThat(plan.stratification()).isEqualTo(Stratification.GROUP_LABEL);
        assertThat(plan.numClients()).isEqualTo(5);
        assertThat(plan.strata()).containsExactly(key("amazon", "0"), key("amazon", "1"), key("imdb", "0"), key("imdb", "1"),
                key("yelp", "0"), key("yelp", "1"));
        assertThat(clientsOfGroup(plan, "amazon")).containsExactly(0);
        assertThat(clientsOfGroup(plan, "imdb")).isSubsetOf(1, 2);
        assertThat(clientsOfGroup(plan, "yelp")).isSubsetOf(3, 4);
        long[] sizes = plan.clientSizes();
        assertThat(sizes[0]).isEqualTo(10);
        assertThat(sizes[1] + sizes[2]).isEqualTo(20);
        assertThat(sizes[3] + sizes[4]).isEqualTo(20);
        assertThat(Arrays.stream(sizes).min().orElseThrow()).isGreaterThanOrEqualTo(1);
        for (String s : c.strata()) {
            assertThat(plan.stratumCount(s)).isEqualTo(c.count(s));
        }
        // The label histogram sums the (group, label) quotas per label.
        assertThat(plan.labelHistogram().labels()).containsExactly("0", "1");
        assertThat(plan.labelHistogram().labelTotals()).containsExactly(27, 23);
        assertThat(plan.labelHistogram().clientCounts(0)).containsExactly(5, 5);
        // The plan survives persistence.
        assertThat(PartitionPlan.fromJson(plan.toJson())).isEqualTo(plan);
    }

    @Test
    void eachGroupIsSplitByDirichletPartitionerWithASeedFromTheGroupName() {
        StratumCounts c = counts("imdb", "neg", 500, "imdb", "pos", 500, "yelp", "neg", 300, "yelp", "pos", 700);
        GroupedDirichletConfig config = new GroupedDirichletConfig("domain", 8, 0.3, 10, 42);
        PartitionPlan plan = config.create().plan(c);
        // imdb (1000 rows) gets clients 0..3, yelp (1000 rows) 4..7.
        long imdbSeed = SeededRandom.derive(42, "grouped_dirichlet/group/imdb");
        PartitionPlan imdb = new DirichletConfig(4, 0.3, 10, 10, false, imdbSeed).create()
                .plan(StratumCounts.of(Map.of("neg", 500L, "pos", 500L)));
        long yelpSeed = SeededRandom.derive(42, "grouped_dirichlet/group/yelp");
        PartitionPlan yelp = new DirichletConfig(4, 0.3, 10, 10, false, yelpSeed).create()
                .plan(StratumCounts.of(Map.of("neg", 300L, "pos", 700L)));
        for (String label : List.of("neg", "pos")) {
            assertThat(plan.quotas(key("imdb", label))).isEqualTo(imdb.quotas(label));
            assertThat(plan.quotas(key("yelp", label))).isEqualTo(shift(yelp.quotas(label), 4));
        }
    }

    private static List<PartitionPlan.Quota> shift(List<PartitionPlan.Quota> quotas, int offset) {
        List<PartitionPlan.Quota> out = new ArrayList<>();
        quotas.forEach(q -> out.add(new PartitionPlan.Quota(q.clientId() + offset, q.count())));
        return out;
    }

    @Test
    void aGroupsSplitDoesNotDependOnTheOtherGroupsOrTheirOrder() {
        Object[] two = {"imdb", "0", 400, "imdb", "1", 600, "yelp", "0", 700, "yelp", "1", 300};
        Object[] three = {"yelp", "1", 300, "amazon", "1", 250, "imdb", "0", 400, "amazon", "0", 250, "yelp", "0", 700,
                "imdb", "1", 600};
        // Two groups, 6 clients: imdb 0..2, yelp 3..5. Adding amazon (500 rows) with 8 clients: amazon 0..1,
        // imdb 2..4, yelp 5..7: the same 3 clients for imdb and yelp, only shifted.
        PartitionPlan a = new GroupedDirichletConfig("domain", 6, 0.5, 5, 9).create().plan(counts(two));
        PartitionPlan b = new GroupedDirichletConfig("domain", 8, 0.5, 5, 9).create().plan(counts(three));
        for (String label : List.of("0", "1")) {
            assertThat(b.quotas(key("imdb", label))).isEqualTo(shift(a.quotas(key("imdb", label)), 2));
            assertThat(b.quotas(key("yelp", label))).isEqualTo(shift(a.quotas(key("yelp", label)), 2));
        }
        // The same counts enumerated in another order give the same plan.
        List<Object[]> reordered = new ArrayList<>();
        for (int i = three.length - 3; i >= 0; i -= 3) {
            reordered.add(new Object[] {three[i], three[i + 1], three[i + 2]});
        }
        Object[] flat = reordered.stream().flatMap(Arrays::stream).toArray();
        assertThat(new GroupedDirichletConfig("domain", 8, 0.5, 5, 9).create().plan(counts(flat))).isEqualTo(b);
    }

    @Test
    void sameSeedSamePlanDifferentSeedDifferentPlan() {
        StratumCounts c = counts("imdb", "0", 500, "imdb", "1", 500, "yelp", "0", 500, "yelp", "1", 500);
        PartitionPlan a = new GroupedDirichletConfig("domain", 6, 0.5, 10, 1).create().plan(c);
        assertThat(new GroupedDirichletConfig("domain", 6, 0.5, 10, 1).create().plan(c)).isEqualTo(a);
        assertThat(new GroupedDirichletConfig("domain", 6, 0.5, 10, 2).create().plan(c)).isNotEqualTo(a);
    }

    @Test
    void everyRowGoesToOneClientOfItsOwnGroup() {
        // Prepare: the uci-sentiment shape, scaled down: 3 domains × 200 rows, two labels, 10 clients.
        List<Row> rows = new ArrayList<>();
        String[] domains = {"yelp", "imdb", "amazon"};
        for (int i = 0; i < 600; i++) {
            rows.add(Row.withGroup("row-" + i, domains[i % 3], (i / 3) % 2 == 0 ? "negative" : "positive"));
        }
        PartitioningConfig config = PartitioningConfig.fromMap(Map.of("type", "grouped_dirichlet", "group_column", "domain",
                "num_clients", 10, "alpha", 0.5, "min_size", 5, "seed", 3, "eval_fraction", 0.2));
        // Execute
        Partitioning.Result result = Partitioning.run(config, rows);
        // Assert: every row has a client; each client holds one domain; sizes match the plan.
        PartitionPlan plan = result.plan();
        Map<Integer, Set<String>> domainsOfClient = new HashMap<>();
        long[] sizes = new long[plan.numClients()];
        for (int i = 0; i < rows.size(); i++) {
            int client = result.clientOf(i);
            assertThat(client).isBetween(0, 9);
            sizes[client]++;
            domainsOfClient.computeIfAbsent(client, x -> new HashSet<>()).add(rows.get(i).naturalId());
        }
        assertThat(sizes).isEqualTo(plan.clientSizes());
        assertThat(Arrays.stream(sizes).sum()).isEqualTo(600);
        assertThat(Arrays.stream(sizes).min().orElseThrow()).isGreaterThanOrEqualTo(5);
        assertThat(domainsOfClient).hasSize(10).allSatisfy((c, d) -> assertThat(d).hasSize(1));
        Map<String, Integer> perGroup = new HashMap<>();
        domainsOfClient.forEach((c, d) -> perGroup.merge(d.iterator().next(), 1, Integer::sum));
        assertThat(perGroup.values()).containsExactlyInAnyOrder(3, 3, 4);
        // Clients 0.. belong to amazon, then imdb, then yelp.
        int amazon = perGroup.get("amazon");
        int imdb = perGroup.get("imdb");
        for (int c = 0; c < 10; c++) {
            String expected = c < amazon ? "amazon" : c < amazon + imdb ? "imdb" : "yelp";
            assertThat(domainsOfClient.get(c)).containsExactly(expected);
        }
        // The histogram of the assigned rows is the plan's, and the manifest records the stratification.
        assertThat(result.histogram()).isEqualTo(plan.labelHistogram());
        assertThat(Manifest.fromJson(result.manifest().toJson())).isEqualTo(result.manifest());
        assertThat(result.manifest().toJson()).containsPattern("\"stratification\": *\"group_label\"");
    }

    @Test
    void configParsesWithDefaultsAndRejectsUnknownKeys() {
        assertThat(PartitionerConfig.fromMap(Map.of("type", "grouped_dirichlet", "group_column", "domain", "num_clients", 10)))
                .isEqualTo(new GroupedDirichletConfig("domain", 10, 0.5, 10, 42));
        assertThat(PartitionerConfig.fromMap(Map.of("type", "grouped_dirichlet", "group_column", "domain", "num_clients", "4",
                "alpha", "0.1", "min_size", "0", "seed", "7")))
                .isEqualTo(new GroupedDirichletConfig("domain", 4, 0.1, 0, 7));
        assertThatThrownBy(() -> PartitionerConfig.fromMap(Map.of("type", "grouped_dirichlet", "num_clients", 10)))
                .hasMessage("Missing key partitioning.group_column, which type 'grouped_dirichlet' requires");
        assertThatThrownBy(() -> PartitionerConfig.fromMap(Map.of("type", "grouped_dirichlet", "group_column", "domain")))
                .hasMessage("Missing key partitioning.num_clients, which type 'grouped_dirichlet' requires");
        assertThatThrownBy(() -> PartitionerConfig.fromMap(Map.of("type", "grouped_dirichlet", "group_column", "domain",
                "num_clients", 10, "id_column", "domain")))
                .hasMessage("Unknown key partitioning.id_column for type 'grouped_dirichlet'; known keys: [alpha,"
                        + " eval_fraction, group_column, holdout_fraction, label_column, min_size, num_clients,"
                        + " row_key_column, seed, type]");
        assertThatThrownBy(() -> new GroupedDirichletConfig(" ", 3, 0.5, 1, 1))
                .hasMessage("Cannot set partitioning.group_column to ' ': the value must be a non-empty column name");
        assertThatThrownBy(() -> new GroupedDirichletConfig("domain", 3, 0, 1, 1))
                .hasMessage("Cannot set partitioning.alpha to 0.0: the value must be > 0 and finite");
    }

    @Test
    void infeasibleDataIsRejectedNamingTheKeyToChange() {
        StratumCounts c = counts("amazon", "0", 50, "imdb", "0", 50, "yelp", "0", 50);
        assertThatThrownBy(() -> new GroupedDirichletConfig("domain", 2, 0.5, 0, 1).create().plan(c))
                .isInstanceOf(InfeasiblePartitioningException.class)
                .hasMessage("Cannot set partitioning.num_clients to 2: column 'domain' (partitioning.group_column) has 3"
                        + " groups [amazon, imdb, yelp] and every group needs at least one client; raise"
                        + " partitioning.num_clients to at least 3");
        // 3 clients per group of 50 rows cannot each hold 20.
        assertThatThrownBy(() -> new GroupedDirichletConfig("domain", 9, 0.5, 20, 1).create().plan(c))
                .isInstanceOf(InfeasiblePartitioningException.class)
                .hasMessageStartingWith("Group 'amazon' of column 'domain' (partitioning.group_column), 50 rows over its 3"
                        + " of the 9 clients: Cannot give every client ≥ 20 rows")
                .hasMessageContaining("partitioning.min_size");
        assertThatThrownBy(() -> new GroupedDirichletConfig("domain", 200, 0.5, 0, 1).create().plan(c))
                .isInstanceOf(InfeasiblePartitioningException.class)
                .hasMessageContaining("the data has only 150 rows");
        // Counts keyed by plain labels (not (group, label)) are a programming error, named as such.
        assertThatThrownBy(() -> new GroupedDirichletConfig("domain", 2, 0.5, 0, 1).create()
                .plan(StratumCounts.of(Map.of("pos", 5L))))
                .hasMessageContaining("stratum 'pos' is not a (group, label) key");
        // Rows without a group value.
        assertThatThrownBy(() -> Partitioning.run(new PartitioningConfig(new GroupedDirichletConfig("domain", 1, 0.5, 0, 1)),
                List.of(Row.labelled("k", "x"))))
                .hasMessageContaining("row 'k' has no group value");
    }
}
