package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.partition.stats.LabelHistogram;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SplitAndHoldoutTest {

    @Test
    void evalCountsAreApportionedPerClientByLabel() {
        // Client 0: (7, 3), f = 0.1 → 1 eval row, to the larger label. Client 1: (50, 30, 20) → 10
        // eval rows as 5/3/2. Client 2: 1 row → none (a client keeps at least one training row).
        LabelHistogram cells = new LabelHistogram(List.of("a", "b", "c"),
                new long[][] {{7, 3, 0}, {50, 30, 20}, {0, 1, 0}});
        TrainEvalSplit split = TrainEvalSplit.compute(cells, 0.1, 4);

        assertThat(split.evalHistogram().clientCounts(0)).containsExactly(1, 0, 0);
        assertThat(split.evalHistogram().clientCounts(1)).containsExactly(5, 3, 2);
        assertThat(split.clientEvalCount(2)).isZero();
        // Rounding is per client, not per cell: cells of 3 rows at f = 0.1 would round to 0 each.
        LabelHistogram tiny = new LabelHistogram(List.of("a", "b", "c", "d", "e"), new long[][] {{3, 3, 3, 3, 3}});
        assertThat(TrainEvalSplit.compute(tiny, 0.1, 1).clientEvalCount(0)).isEqualTo(2);
        // A client always keeps one training row.
        LabelHistogram two = new LabelHistogram(List.of("a"), new long[][] {{2}});
        assertThat(TrainEvalSplit.compute(two, 0.9, 1).clientEvalCount(0)).isEqualTo(1);
    }

    @Test
    void evalRowsAreStratifiedDeterministicAndOrderIndependent() {
        // Prepare
        List<Row> rows = TestData.random(8, 3000, 4, 50, 10);
        PartitioningConfig config = new PartitioningConfig(new DirichletConfig(6, 0.5, 10, 10, false, 3), 0.2, 0, null, null);
        // Execute
        Partitioning.Result result = Partitioning.run(config, rows);
        Partitioning.Result shuffled = Partitioning.run(config, TestData.shuffled(rows, 1));
        // Assert: eval rows per (client, label) equal the split's counts.
        LabelHistogram evalCells = result.split().evalHistogram();
        long[][] seen = new long[6][evalCells.numLabels()];
        for (int i = 0; i < rows.size(); i++) {
            if (result.role(i) == Partitioning.Role.EVAL) {
                seen[result.clientOf(i)][evalCells.labels().indexOf(rows.get(i).label())]++;
            }
        }
        for (int c = 0; c < 6; c++) {
            assertThat(seen[c]).containsExactly(evalCells.clientCounts(c));
            long n = result.histogram().clientSize(c);
            assertThat(result.split().clientEvalCount(c)).isEqualTo(Math.round(0.2 * n));
        }
        assertThat(roles(shuffled, TestData.shuffled(rows, 1))).isEqualTo(roles(result, rows));
    }

    @Test
    void evalRowsDependOnTheSeed() {
        List<Row> rows = TestData.random(9, 2000, 3, 50, 10);
        // IID quotas are seed-independent here only in their counts; the eval rows must still move.
        Partitioning.Result a = Partitioning.run(new PartitioningConfig(new IidConfig(4, 1), 0.25, 0, null, null), rows);
        Partitioning.Result b = Partitioning.run(new PartitioningConfig(new IidConfig(4, 2), 0.25, 0, null, null), rows);
        assertThat(roles(b, rows)).isNotEqualTo(roles(a, rows));
    }

    @Test
    void globalHoldoutIsAKeyHashThreshold() {
        GlobalHoldout none = new GlobalHoldout(0, 1);
        GlobalHoldout fifth = new GlobalHoldout(0.2, 1);
        GlobalHoldout tenth = new GlobalHoldout(0.1, 1);
        assertThat(new GlobalHoldout(0.5, 1).threshold()).isEqualTo(Long.MIN_VALUE); // 2^63 as unsigned
        assertThat(none.threshold()).isZero();

        int heldFifth = 0;
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            String key = "k" + i;
            assertThat(none.isHeldOut(key)).isFalse();
            if (fifth.isHeldOut(key)) {
                heldFifth++;
            }
            // Nested: a row held out at 10% is held out at 20% (same hash, larger threshold).
            if (tenth.isHeldOut(key)) {
                assertThat(fifth.isHeldOut(key)).isTrue();
            }
        }
        // Binomial(20000, 0.2): sd ≈ 57; ±400 is 7 sd.
        assertThat(heldFifth).isBetween(3_600, 4_400);
        // Another seed holds out a different set of rows.
        GlobalHoldout otherSeed = new GlobalHoldout(0.2, 2);
        int disagree = 0;
        for (int i = 0; i < 1000; i++) {
            if (otherSeed.isHeldOut("k" + i) != fifth.isHeldOut("k" + i)) {
                disagree++;
            }
        }
        // Independent 20% samples disagree on 2·0.2·0.8 = 32% of rows.
        assertThat(disagree).isBetween(250, 390);
    }

    @Test
    void heldOutRowsBelongToNoClientAndDoNotMoveWhenOtherRowsChange() {
        List<Row> rows = TestData.random(10, 2000, 3, 50, 10);
        PartitioningConfig config = new PartitioningConfig(new IidConfig(5, 7), 0.1, 0.15, null, null);
        Partitioning.Result full = Partitioning.run(config, rows);
        Partitioning.Result half = Partitioning.run(config, rows.subList(0, 1000));

        int held = 0;
        for (int i = 0; i < rows.size(); i++) {
            if (full.role(i) == Partitioning.Role.HELD_OUT) {
                held++;
                assertThat(full.clientOf(i)).isEqualTo(PartitionPlan.UNASSIGNED);
            } else {
                assertThat(full.clientOf(i)).isBetween(0, 4);
            }
            if (i < 1000) {
                assertThat(half.role(i) == Partitioning.Role.HELD_OUT).isEqualTo(full.role(i) == Partitioning.Role.HELD_OUT);
            }
        }
        assertThat(held).isBetween(200, 400);
        assertThat(full.manifest().heldOutRows()).isEqualTo(held);
        assertThat(full.plan().numRows()).isEqualTo(rows.size() - held);
    }

    private static List<String> roles(Partitioning.Result result, List<Row> rows) {
        // Key-ordered roles, so results over differently ordered inputs compare.
        java.util.TreeMap<String, String> byKey = new java.util.TreeMap<>();
        for (int i = 0; i < rows.size(); i++) {
            byKey.put(rows.get(i).key(), result.role(i) + "@" + result.clientOf(i));
        }
        return new ArrayList<>(byKey.values());
    }
}
