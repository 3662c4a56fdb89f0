package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NaturalIdPartitionersTest {

    @Test
    void naturalIdGivesOneClientPerValueInSortedOrder() {
        StratumCounts counts = StratumCounts.of(Map.of("bob", 5L, "alice", 3L, "émile", 2L, "carol", 9L));
        PartitionPlan plan = new NaturalIdConfig("author", 1).create().plan(counts);

        assertThat(plan.isMapping()).isTrue();
        assertThat(plan.mapping()).containsExactly(Map.entry("alice", 0), Map.entry("bob", 1), Map.entry("carol", 2),
                Map.entry("émile", 3));
        assertThat(plan.clientSizes()).containsExactly(3, 5, 9, 2);
        assertThat(new NaturalIdConfig("author", 2).create().plan(counts).mapping()).isEqualTo(plan.mapping());
    }

    @Test
    void aLaterDataSetGetsTheSameClientsThroughTheSamePlan() {
        // Regression for flwrlabs/flower#5243: train and test must agree on value → client even when
        // their value sets differ. The plan is built once (on train) and reused.
        List<Row> train = List.of(Row.withNaturalId("t1", "dana", "x"), Row.withNaturalId("t2", "bob", "y"),
                Row.withNaturalId("t3", "carl", "x"), Row.withNaturalId("t4", "bob", "x"));
        List<Row> test = List.of(Row.withNaturalId("s1", "carl", "y"), Row.withNaturalId("s2", "aaron", "x"),
                Row.withNaturalId("s3", "dana", "y"));
        PartitionPlan plan = new NaturalIdConfig("author", 1).create().plan(StratumCounts.ofRows(train, Stratification.NATURAL_ID));

        int[] trainClients = plan.assign(train);
        int[] testClients = plan.assign(test);

        assertThat(trainClients).containsExactly(2, 0, 1, 0);
        // "carl" and "dana" keep their train clients; "aaron" (unseen, and sorting first) is unassigned
        // instead of shifting everyone's id as a per-split numbering would.
        assertThat(testClients).containsExactly(1, PartitionPlan.UNASSIGNED, 2);
        // The same plan survives persistence.
        assertThat(PartitionPlan.fromJson(plan.toJson()).assign(test)).containsExactly(testClients);
    }

    @Test
    void naturalIdRowsWithoutAValueAreRejected() {
        PartitionPlan plan = new NaturalIdConfig("author", 1).create().plan(StratumCounts.of(Map.of("a", 1L)));
        assertThatThrownBy(() -> plan.assign(List.of(Row.labelled("k", "x"))))
                .hasMessageContaining("row 'k' has no natural-id value");
    }

    @Test
    void groupedNaturalIdBalancesRowsAndUsesEveryClient() {
        // Prepare: 200 values with skewed counts.
        java.util.Map<String, Long> m = new java.util.HashMap<>();
        long maxItem = 0;
        for (int v = 0; v < 200; v++) {
            long n = 1 + (long) (1000.0 / (1 + v));
            m.put("user-" + v, n);
            maxItem = Math.max(maxItem, n);
        }
        StratumCounts counts = StratumCounts.of(m);
        // Execute
        PartitionPlan plan = new GroupedNaturalIdConfig("user", 12, 4).create().plan(counts);
        // Assert: LPT bound: every client is non-empty and no client exceeds average + largest value.
        long[] sizes = plan.clientSizes();
        double average = (double) counts.total() / 12;
        assertThat(Arrays.stream(sizes).min().orElseThrow()).isPositive();
        assertThat((double) Arrays.stream(sizes).max().orElseThrow()).isLessThanOrEqualTo(average + maxItem);
        assertThat(plan.isMapping()).isTrue();
        assertThat(plan.mapping()).hasSize(200);
    }

    @Test
    void groupedNaturalIdIsBalancedWithManySmallValues() {
        java.util.Map<String, Long> m = new java.util.HashMap<>();
        for (int v = 0; v < 1000; v++) {
            m.put("v" + v, 1L + v % 7);
        }
        long[] sizes = new GroupedNaturalIdConfig("user", 10, 1).create().plan(StratumCounts.of(m)).clientSizes();
        long min = Arrays.stream(sizes).min().orElseThrow();
        long max = Arrays.stream(sizes).max().orElseThrow();
        assertThat(max - min).isLessThanOrEqualTo(7);
    }

    @Test
    void groupedNaturalIdFailsFastWithTooFewValues() {
        StratumCounts counts = StratumCounts.of(Map.of("a", 1L, "b", 2L));
        assertThatThrownBy(() -> new GroupedNaturalIdConfig("author", 3, 1).create().plan(counts))
                .isInstanceOf(InfeasiblePartitioningException.class)
                .hasMessage("Cannot set partitioning.num_clients to 3: column 'author' (partitioning.id_column) has"
                        + " only 2 distinct values; lower partitioning.num_clients (or use type natural_id for one"
                        + " client per value)");
    }

    @Test
    void naturalIdSeedChangesTheEvalSplitButNotTheMapping() {
        List<Row> rows = new ArrayList<>(TestData.random(3, 800, 3, 20, 10));
        Partitioning.Result a = Partitioning.run(new PartitioningConfig(new NaturalIdConfig("user", 1), 0.3, 0, null, null), rows);
        Partitioning.Result b = Partitioning.run(new PartitioningConfig(new NaturalIdConfig("user", 2), 0.3, 0, null, null), rows);

        assertThat(b.clients()).isEqualTo(a.clients());
        List<Partitioning.Role> rolesA = new ArrayList<>();
        List<Partitioning.Role> rolesB = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            rolesA.add(a.role(i));
            rolesB.add(b.role(i));
        }
        assertThat(rolesB).isNotEqualTo(rolesA);
    }
}
