package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PartitioningTest {

    @Test
    void endToEndRolesAndStatisticsAddUp() {
        // Prepare
        List<Row> rows = TestData.random(31, 4000, 5, 40, 10);
        PartitioningConfig config = PartitioningConfig.fromMap(Map.of("type", "pathological", "num_clients", 10,
                "labels_per_client", 2, "seed", 3, "eval_fraction", 0.2, "holdout_fraction", 0.1));
        // Execute
        Partitioning.Result result = Partitioning.run(config, rows);
        // Assert
        int train = 0;
        int eval = 0;
        int held = 0;
        for (int i = 0; i < rows.size(); i++) {
            switch (result.role(i)) {
                case TRAIN -> train++;
                case EVAL -> eval++;
                case HELD_OUT -> held++;
            }
        }
        assertThat(train + eval + held).isEqualTo(4000);
        assertThat(held).isEqualTo((int) result.manifest().heldOutRows()).isBetween(300, 500);
        assertThat(result.histogram().total()).isEqualTo(train + eval);
        // For label plans the assigned rows reproduce the plan's quota matrix exactly.
        assertThat(result.histogram()).isEqualTo(result.plan().labelHistogram());
        assertThat(result.stats().minDistinctLabels()).isEqualTo(2);
        assertThat(result.stats().maxDistinctLabels()).isEqualTo(2);
        assertThat((double) eval / (train + eval)).isBetween(0.19, 0.21);
        assertThat(result.stats().toTable()).contains("10 clients");
    }

    @Test
    void unlabelledDataIsOneStratum() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 103; i++) {
            rows.add(Row.unlabelled("doc-" + i));
        }
        Partitioning.Result result = Partitioning.run(new PartitioningConfig(new IidConfig(10, 1)), rows);
        assertThat(result.plan().strata()).containsExactly(Row.NO_LABEL);
        assertThat(result.plan().clientSizes()).containsOnly(10, 11);
        assertThat(result.stats().meanJsDistance()).isZero();
    }

    @Test
    void duplicateKeysAreRejectedUpFront() {
        List<Row> rows = List.of(Row.labelled("a", "x"), Row.labelled("b", "y"), Row.labelled("a", "y"));
        assertThatThrownBy(() -> Partitioning.run(new PartitioningConfig(new IidConfig(2, 1)), rows))
                .hasMessage("row key 'a' appears at rows 0 and 2; row keys must be unique (choose another"
                        + " partitioning.row_key_column)");
    }

    @Test
    void naturalIdHistogramComesFromTheRows() {
        List<Row> rows = TestData.random(32, 1000, 3, 30, 25);
        Partitioning.Result result = Partitioning.run(new PartitioningConfig(new GroupedNaturalIdConfig("user", 5, 1)), rows);
        assertThat(result.histogram().total()).isEqualTo(1000);
        assertThat(result.histogram().numLabels()).isEqualTo(3);
        assertThatThrownBy(() -> result.plan().labelHistogram()).isInstanceOf(IllegalStateException.class);
    }
}
