package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.partition.stats.LabelHistogram;
import dev.understudy.partition.stats.PartitionStats;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Behaviour specific to each label-stratified partitioner. */
class LabelPartitionersTest {

    /** 10 labels × 1,000 rows. */
    private static final StratumCounts TEN_BY_THOUSAND = counts(10, 1_000);

    private static StratumCounts counts(int labels, long perLabel) {
        Map<String, Long> m = new HashMap<>();
        for (int l = 0; l < labels; l++) {
            m.put("label-" + l, perLabel);
        }
        return StratumCounts.of(m);
    }

    private static PartitionStats stats(PartitionerConfig config, StratumCounts counts) {
        return PartitionStats.of(config.create().plan(counts).labelHistogram());
    }

    // ---- Iid ----

    @Test
    void iidOnLabelSortedInputGivesEveryClientTheGlobalMix() {
        // Regression for flwrlabs/flower#7327: an IID split of label-sorted rows must not be label-skewed.
        // Prepare: 4 labels × 250 rows, sorted by label.
        List<Row> rows = TestData.sortedByLabel(4, 250);
        PartitionPlan plan = new IidConfig(10, 5).create().plan(StratumCounts.ofRows(rows, Stratification.LABEL));
        // Execute
        int[] clients = plan.assign(rows);
        // Assert: each client has 25 ± 1 rows of every label (exactly 25 here, since 250 / 10 is whole).
        long[][] hist = new long[10][4];
        for (int i = 0; i < rows.size(); i++) {
            hist[clients[i]][Integer.parseInt(rows.get(i).label().substring(6))]++;
        }
        for (long[] client : hist) {
            assertThat(client).containsExactly(25, 25, 25, 25);
        }
        // And the rows within a label are spread by hash, not taken in input order.
        assertThat(clients[0]).isNotEqualTo(clients[1]).as("first two rows of label 0 land in the same client");
    }

    @Test
    void iidSizesFollowTheGivenWeightsAndTheMixStaysWithinRounding() {
        StratumCounts counts = StratumCounts.of(Map.of("a", 333L, "b", 500L, "c", 167L));
        PartitionPlan plan = new IidConfig(4, List.of(1.0, 2.0, 3.0, 4.0), 9).create().plan(counts);

        assertThat(plan.clientSizes()).containsExactly(100, 200, 300, 400);
        LabelHistogram h = plan.labelHistogram();
        long[] totals = counts.counts();
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 3; l++) {
                double ideal = (double) totals[l] * h.clientSize(c) / counts.total();
                assertThat(Math.abs(h.count(c, l) - ideal)).as("client %d label %d", c, l).isLessThan(1.0);
            }
        }
    }

    @Test
    void iidFailsFastWhenAWeightLeavesAClientEmpty() {
        StratumCounts counts = StratumCounts.of(Map.of("a", 10L));
        assertThatThrownBy(() -> new IidConfig(2, List.of(1.0, 0.01), 1).create().plan(counts))
                .isInstanceOf(InfeasiblePartitioningException.class)
                .hasMessage("Client 1 would get 0 of the 10 rows with partitioning.size_weights[1]=0.01;"
                        + " raise that weight or lower partitioning.num_clients");
    }

    @Test
    void moreClientsThanRowsFailsFastForEveryLabelPartitioner() {
        StratumCounts counts = StratumCounts.of(Map.of("a", 3L, "b", 2L));
        for (PartitionerConfig config : List.of(new IidConfig(6, 1), new DirichletConfig(6, 1, 0, 5, false, 1),
                new PathologicalConfig(6, 1, 1), SizeConfig.powerLaw(6, 1, 1, 1),
                new InnerDirichletConfig(6, 1, List.of(), 1))) {
            assertThatThrownBy(() -> config.create().plan(counts))
                    .as(config.type())
                    .isInstanceOf(InfeasiblePartitioningException.class)
                    .hasMessageStartingWith("Cannot set partitioning.num_clients to 6: the data has only 5 rows");
        }
    }

    // ---- Dirichlet ----

    @Test
    void dirichletHeterogeneityOrdersByAlpha() {
        // Prepare: 10 labels × 1,000 rows over 20 clients, fixed seeds.
        double iid = stats(new IidConfig(20, 1), TEN_BY_THOUSAND).meanJsDistance();
        double huge = stats(new DirichletConfig(20, 10_000, 10, 10, false, 1), TEN_BY_THOUSAND).meanJsDistance();
        double mild = stats(new DirichletConfig(20, 1.0, 10, 10, false, 1), TEN_BY_THOUSAND).meanJsDistance();
        double skewed = stats(new DirichletConfig(20, 0.1, 10, 10, false, 1), TEN_BY_THOUSAND).meanJsDistance();

        // Assert: with α → ∞ Dirichlet is as homogeneous as IID; small α is far from it.
        assertThat(iid).isLessThan(0.01);
        assertThat(huge).isCloseTo(iid, org.assertj.core.data.Offset.offset(0.02));
        assertThat(mild).isGreaterThan(huge + 0.1);
        assertThat(skewed).isGreaterThan(mild + 0.1).isGreaterThan(0.5);
    }

    @Test
    void dirichletGivesEveryClientAtLeastMinSize() {
        PartitionPlan plan = new DirichletConfig(30, 0.3, 50, 50, false, 4).create().plan(TEN_BY_THOUSAND);
        assertThat(java.util.Arrays.stream(plan.clientSizes()).min().orElseThrow()).isGreaterThanOrEqualTo(50);
    }

    @Test
    void dirichletSelfBalancingKeepsClientSizesCloser() {
        // Flower's balancing stops feeding clients above the running average; over many labels the
        // spread of client sizes shrinks.
        StratumCounts counts = counts(50, 200);
        double plain = stats(new DirichletConfig(20, 0.5, 0, 10, false, 2), counts).stdSize();
        double balanced = stats(new DirichletConfig(20, 0.5, 0, 10, true, 2), counts).stdSize();
        assertThat(balanced).isLessThan(0.5 * plain);
    }

    @Test
    void dirichletImpossibleMinSizeFailsWithActionableMessage() {
        // Prepare: 3 labels × 100 rows, 20 clients, α = 0.05: each label lands on one or two clients,
        // so most clients stay empty however often it is resampled.
        StratumCounts counts = counts(3, 100);
        // Execute / Assert
        assertThatThrownBy(() -> new DirichletConfig(20, 0.05, 10, 10, false, 1).create().plan(counts))
                .isInstanceOf(InfeasiblePartitioningException.class)
                .hasMessageStartingWith("Cannot give every client ≥ 10 rows with α=0.05 over 3 labels (20 clients, 300 rows):"
                        + " after 10 attempts the smallest client had at most 0 rows;")
                .hasMessageEndingWith("lower partitioning.min_size, raise partitioning.alpha, lower partitioning.num_clients"
                        + " or raise partitioning.max_resamples");
        assertThatThrownBy(() -> new DirichletConfig(40, 1, 10, 10, false, 1).create().plan(counts))
                .isInstanceOf(InfeasiblePartitioningException.class)
                .hasMessage("Cannot give every client ≥ 10 rows: 40 clients × 10 = 400 exceeds the 300 rows;"
                        + " lower partitioning.min_size or partitioning.num_clients");
    }

    // ---- Pathological ----

    @Test
    void pathologicalGivesEveryClientExactlyKDistinctLabels() {
        for (int labels = 2; labels <= 12; labels += 5) {
            for (int k = 1; k <= labels; k += 2) {
                for (int clients : new int[] {(labels + k - 1) / k, 17, 101}) {
                    // Prepare
                    StratumCounts counts = counts(labels, 500);
                    // Execute
                    PartitionPlan plan = new PathologicalConfig(clients, k, labels * 31L + k).create().plan(counts);
                    PartitionStats stats = PartitionStats.of(plan.labelHistogram());
                    // Assert
                    String what = labels + " labels, k=" + k + ", " + clients + " clients";
                    assertThat(stats.minDistinctLabels()).as(what).isEqualTo(k);
                    assertThat(stats.maxDistinctLabels()).as(what).isEqualTo(k);
                    int[] holders = new int[labels];
                    LabelHistogram h = plan.labelHistogram();
                    for (int c = 0; c < clients; c++) {
                        for (int l = 0; l < labels; l++) {
                            if (h.count(c, l) > 0) {
                                holders[l]++;
                            }
                        }
                    }
                    int min = java.util.Arrays.stream(holders).min().orElseThrow();
                    int max = java.util.Arrays.stream(holders).max().orElseThrow();
                    assertThat(max - min).as("holders per label, " + what).isLessThanOrEqualTo(1);
                }
            }
        }
    }

    @Test
    void pathologicalSplitsEachLabelEvenlyAmongItsHolders() {
        PartitionPlan plan = new PathologicalConfig(10, 2, 3).create().plan(counts(5, 1001));
        // 10 × 2 / 5 = 4 holders per label: 1001 rows → 250 or 251 each.
        for (String label : plan.strata()) {
            assertThat(plan.quotas(label)).hasSize(4)
                    .allSatisfy(q -> assertThat(q.count()).isBetween(250L, 251L));
        }
    }

    @Test
    void pathologicalImpossibleConfigurationsFailWithActionableMessages() {
        assertThatThrownBy(() -> new PathologicalConfig(10, 5, 1).create().plan(counts(3, 100)))
                .isInstanceOf(InfeasiblePartitioningException.class)
                .hasMessage("Cannot set partitioning.labels_per_client to 5: the data has only 3 labels;"
                        + " lower partitioning.labels_per_client");
        assertThatThrownBy(() -> new PathologicalConfig(2, 2, 1).create().plan(counts(5, 100)))
                .isInstanceOf(InfeasiblePartitioningException.class)
                .hasMessageStartingWith("partitioning.num_clients × partitioning.labels_per_client = 2 × 2 = 4 is less than the 5 labels");
        StratumCounts rare = StratumCounts.of(Map.of("common", 1000L, "rare", 3L));
        assertThatThrownBy(() -> new PathologicalConfig(10, 1, 1).create().plan(rare))
                .isInstanceOf(InfeasiblePartitioningException.class)
                .hasMessage("Label 'rare' has 3 rows but 5 clients must hold it (10 clients × 1 labels each, spread"
                        + " over 2 labels); lower partitioning.num_clients or partitioning.labels_per_client, or drop"
                        + " labels this rare");
    }

    // ---- Size ----

    @Test
    void sizeSkewFollowsTheConfiguredDistribution() {
        StratumCounts counts = counts(4, 2_500);
        long[] flat = new SizeConfig(10, SizeConfig.Distribution.POWER_LAW, 0, 0, 1, 3).create().plan(counts).clientSizes();
        assertThat(flat).containsOnly(1_000);
        long[] zipf = SizeConfig.powerLaw(10, 1.0, 5, 3).create().plan(counts).clientSizes();
        long[] sortedZipf = java.util.Arrays.stream(zipf).sorted().toArray();
        // Zipf(1) over 10 ranks: the largest client is 10x the smallest, up to min_size and rounding.
        assertThat((double) sortedZipf[9] / sortedZipf[0]).isBetween(8.0, 11.0);
        assertThat(sortedZipf[0]).isGreaterThanOrEqualTo(5);
        long[] logNormal = SizeConfig.logNormal(10, 0, 1, 3).create().plan(counts).clientSizes();
        assertThat(logNormal).containsOnly(1_000);
        PartitionStats skewed = stats(SizeConfig.logNormal(50, 1.5, 1, 3), counts);
        assertThat(skewed.maxSize()).isGreaterThan(5 * (long) skewed.medianSize());
    }

    @Test
    void sizeSkewKeepsLabelsIid() {
        PartitionStats stats = stats(SizeConfig.powerLaw(20, 1.0, 50, 8), TEN_BY_THOUSAND);
        // Even the smallest clients (50 rows over 10 labels) stay close to the global mix.
        assertThat(stats.meanJsDistance()).isLessThan(0.1);
        assertThat(stats.minDistinctLabels()).isEqualTo(10);
    }

    @Test
    void sizeSkewImpossibleMinSizeFailsFast() {
        assertThatThrownBy(() -> SizeConfig.powerLaw(10, 1, 200, 1).create().plan(counts(2, 500)))
                .isInstanceOf(InfeasiblePartitioningException.class)
                .hasMessage("Cannot give every client ≥ 200 rows: 10 clients × 200 = 2000 exceeds the 1000 rows;"
                        + " lower partitioning.min_size or partitioning.num_clients");
    }

    // ---- InnerDirichlet ----

    @Test
    void innerDirichletKeepsGivenSizesAndSkewsLabels() {
        PartitionPlan plan = new InnerDirichletConfig(4, 0.2, List.of(1.0, 1.0, 2.0, 6.0), 5).create().plan(TEN_BY_THOUSAND);
        assertThat(plan.clientSizes()).containsExactly(1_000, 1_000, 2_000, 6_000);
        double skewed = PartitionStats.of(plan.labelHistogram()).meanJsDistance();
        double flat = stats(new InnerDirichletConfig(4, 10_000, List.of(1.0, 1.0, 2.0, 6.0), 5), TEN_BY_THOUSAND).meanJsDistance();
        assertThat(flat).isLessThan(0.05);
        assertThat(skewed).isGreaterThan(flat + 0.2);
    }
}
