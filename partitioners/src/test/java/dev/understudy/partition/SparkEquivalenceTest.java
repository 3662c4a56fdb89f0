package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Recomputes assignments the way the Spark job will, independently of {@link Ranks} and {@link
 * LongIntSort}: per stratum, sort by (signed hash, UTF-8 bytes of the key) with a plain comparator,
 * then {@code clientForRank(stratum, row_number - 1)}. The in-memory path must agree exactly.
 */
class SparkEquivalenceTest {

    @Test
    void windowFunctionSimulationGivesTheInMemoryAssignment() {
        for (long seed = 0; seed < 10; seed++) {
            // Prepare
            List<Row> rows = TestData.random(seed, 500 + (int) seed * 137, 2 + (int) (seed % 5), 20, 30);
            for (PartitionerConfig config : List.of(new IidConfig(7, seed), new DirichletConfig(7, 0.3, 1, 10, false, seed),
                    new PathologicalConfig(7, 2, seed), SizeConfig.powerLaw(7, 1.2, 2, seed),
                    new InnerDirichletConfig(7, 0.5, List.of(), seed), new GroupedDirichletConfig("user", 40, 0.3, 0, seed))) {
                Partitioner p = config.create();
                PartitionPlan plan = p.plan(StratumCounts.ofRows(rows, p.stratification()));
                // Execute
                int[] inMemory = plan.assign(rows);
                Map<String, Integer> simulated = simulateSpark(plan, rows);
                // Assert
                for (int i = 0; i < rows.size(); i++) {
                    assertThat(inMemory[i]).as("%s row %s", config.type(), rows.get(i).key())
                            .isEqualTo(simulated.get(rows.get(i).key()));
                }
            }
        }
    }

    static Map<String, Integer> simulateSpark(PartitionPlan plan, List<Row> rows) {
        long seed = plan.rowOrderSeed();
        Map<String, List<Row>> byStratum = new HashMap<>();
        for (Row r : rows) {
            byStratum.computeIfAbsent(r.stratum(plan.stratification()), k -> new ArrayList<>()).add(r);
        }
        Map<String, Integer> out = new HashMap<>();
        Comparator<Row> order = Comparator.<Row>comparingLong(r -> RowOrder.hash(seed, r.key()))
                .thenComparing((a, b) -> RowOrderTest.compareUtf8(a.key().getBytes(StandardCharsets.UTF_8),
                        b.key().getBytes(StandardCharsets.UTF_8)));
        byStratum.forEach((stratum, list) -> {
            list.sort(order);
            for (int rank = 0; rank < list.size(); rank++) {
                out.put(list.get(rank).key(), plan.clientForRank(stratum, rank));
            }
        });
        return out;
    }
}
