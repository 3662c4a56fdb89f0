package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigTest {

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void everyTypeParsesFromAMapWithDefaults() {
        assertThat(PartitionerConfig.fromMap(map("type", "iid", "num_clients", 10)))
                .isEqualTo(new IidConfig(10, List.of(), 42));
        assertThat(PartitionerConfig.fromMap(map("type", "dirichlet", "num_clients", 5, "alpha", 0.3, "seed", 7)))
                .isEqualTo(new DirichletConfig(5, 0.3, 10, 10, false, 7));
        assertThat(PartitionerConfig.fromMap(map("type", "pathological", "num_clients", 5)))
                .isEqualTo(new PathologicalConfig(5, 2, 42));
        assertThat(PartitionerConfig.fromMap(map("type", "size", "num_clients", 5, "exponent", 2)))
                .isEqualTo(SizeConfig.powerLaw(5, 2.0, 1, 42));
        assertThat(PartitionerConfig.fromMap(map("type", "size", "num_clients", 5, "distribution", "log_normal", "sigma", 0.5)))
                .isEqualTo(SizeConfig.logNormal(5, 0.5, 1, 42));
        assertThat(PartitionerConfig.fromMap(map("type", "natural_id", "id_column", "author")))
                .isEqualTo(new NaturalIdConfig("author", 42));
        assertThat(PartitionerConfig.fromMap(map("type", "grouped_natural_id", "id_column", "author", "num_clients", 3)))
                .isEqualTo(new GroupedNaturalIdConfig("author", 3, 42));
        assertThat(PartitionerConfig.fromMap(map("type", "inner_dirichlet", "num_clients", 2, "size_weights", List.of(1, 3))))
                .isEqualTo(new InnerDirichletConfig(2, 0.5, List.of(1.0, 3.0), 42));
        assertThat(PartitionerConfig.fromMap(map("type", "grouped_dirichlet", "group_column", "domain", "num_clients", 10,
                        "alpha", 0.3)))
                .isEqualTo(new GroupedDirichletConfig("domain", 10, 0.3, 10, 42));
        assertThat(PartitionerConfig.TYPES).hasSize(8);
    }

    @Test
    void stringValuesFromSetOverridesAreCoerced() {
        assertThat(PartitionerConfig.fromMap(map("type", "dirichlet", "num_clients", "5", "alpha", "0.25",
                        "self_balancing", "true", "seed", "-3")))
                .isEqualTo(new DirichletConfig(5, 0.25, 10, 10, true, -3));
        assertThat(PartitionerConfig.fromMap(map("type", "iid", "num_clients", "3", "size_weights", "[1, 2, 3]")))
                .isEqualTo(new IidConfig(3, List.of(1.0, 2.0, 3.0), 42));
    }

    @Test
    void invalidValuesNameTheKeyAndTheValue() {
        assertThatThrownBy(() -> new DirichletConfig(10, -1.0, 10, 10, false, 1))
                .hasMessage("Cannot set partitioning.alpha to -1.0: the value must be > 0 and finite");
        assertThatThrownBy(() -> new IidConfig(0, 1))
                .hasMessage("Cannot set partitioning.num_clients to 0: the value must be > 0");
        assertThatThrownBy(() -> new PathologicalConfig(4, 0, 1))
                .hasMessage("Cannot set partitioning.labels_per_client to 0: the value must be > 0");
        assertThatThrownBy(() -> new DirichletConfig(10, 1, -1, 10, false, 1))
                .hasMessage("Cannot set partitioning.min_size to -1: the value must be >= 0");
        assertThatThrownBy(() -> SizeConfig.powerLaw(4, -2, 1, 1))
                .hasMessage("Cannot set partitioning.exponent to -2.0: the value must be >= 0 and finite");
        assertThatThrownBy(() -> new IidConfig(3, List.of(1.0, 2.0), 1))
                .hasMessage("Cannot set partitioning.size_weights to a list of 2 values: partitioning.num_clients is 3;"
                        + " give one weight per client, or none for equal sizes");
        assertThatThrownBy(() -> new IidConfig(2, List.of(1.0, -2.0), 1))
                .hasMessage("Cannot set partitioning.size_weights[1] to -2.0: the value must be > 0 and finite");
        assertThatThrownBy(() -> new NaturalIdConfig(" ", 1))
                .hasMessage("Cannot set partitioning.id_column to ' ': the value must be a non-empty column name");
        assertThatThrownBy(() -> new PartitioningConfig(new IidConfig(2, 1), 1.0, 0, null, null))
                .hasMessage("Cannot set partitioning.eval_fraction to 1.0: the value must be in [0, 1)");
    }

    @Test
    void mapErrorsNameTheKey() {
        assertThatThrownBy(() -> PartitionerConfig.fromMap(map("type", "dirichlet", "num_clients", 5, "alpah", 1)))
                .hasMessage("Unknown key partitioning.alpah for type 'dirichlet'; known keys: [alpha, eval_fraction,"
                        + " holdout_fraction, label_column, max_resamples, min_size, num_clients, row_key_column, seed,"
                        + " self_balancing, type]");
        assertThatThrownBy(() -> PartitionerConfig.fromMap(map("type", "iid", "alpha", 1, "num_clients", 2)))
                .hasMessageStartingWith("Unknown key partitioning.alpha for type 'iid'");
        assertThatThrownBy(() -> PartitionerConfig.fromMap(map("type", "dirichlet")))
                .hasMessage("Missing key partitioning.num_clients, which type 'dirichlet' requires");
        assertThatThrownBy(() -> PartitionerConfig.fromMap(map("num_clients", 2)))
                .hasMessageStartingWith("Missing key partitioning.type; set it to one of [iid, dirichlet");
        assertThatThrownBy(() -> PartitionerConfig.fromMap(map("type", "shards")))
                .hasMessageStartingWith("Cannot set partitioning.type to 'shards': the value must be one of [iid,");
        assertThatThrownBy(() -> PartitionerConfig.fromMap(map("type", "iid", "num_clients", "ten")))
                .hasMessage("Cannot set partitioning.num_clients to 'ten': the value must be an integer");
        assertThatThrownBy(() -> PartitionerConfig.fromMap(map("type", "iid", "num_clients", 2.5)))
                .hasMessage("Cannot set partitioning.num_clients to 2.5: the value must be an integer");
        assertThatThrownBy(() -> PartitionerConfig.fromMap(map("type", "dirichlet", "num_clients", 2, "self_balancing", "yes")))
                .hasMessage("Cannot set partitioning.self_balancing to 'yes': the value must be true or false");
        assertThatThrownBy(() -> PartitionerConfig.fromMap(map("type", "size", "num_clients", 2, "sigma", 1)))
                .hasMessage("partitioning.sigma applies only to distribution log_normal; use partitioning.exponent for power_law");
        assertThatThrownBy(() -> PartitionerConfig.fromMap(map("type", "size", "num_clients", 2, "distribution", "zipf")))
                .hasMessage("Cannot set partitioning.distribution to 'zipf': the value must be power_law or log_normal");
    }

    @Test
    void partitioningSectionParsesTheSharedKeys() {
        PartitioningConfig c = PartitioningConfig.fromMap(map("type", "natural_id", "id_column", "domain",
                "eval_fraction", 0.2, "holdout_fraction", "0.05", "row_key_column", "id", "label_column", "topic", "seed", 9));
        assertThat(c).isEqualTo(new PartitioningConfig(new NaturalIdConfig("domain", 9), 0.2, 0.05, "id", "topic"));
        assertThat(c.seed()).isEqualTo(9);
        PartitioningConfig defaults = PartitioningConfig.fromMap(map("type", "iid", "num_clients", 4));
        assertThat(defaults.evalFraction()).isEqualTo(0.1);
        assertThat(defaults.holdoutFraction()).isZero();
        assertThat(defaults.rowKeyColumn()).isNull();
    }

    @Test
    void parametersAreSnakeCaseAndRoundTripThroughAPlan() {
        DirichletConfig config = new DirichletConfig(3, 0.5, 2, 4, true, 1);
        PartitionPlan plan = config.create().plan(StratumCounts.of(Map.of("a", 30L, "b", 30L)));
        assertThat(plan.parameters()).containsEntry("num_clients", 3L).containsEntry("alpha", 0.5)
                .containsEntry("self_balancing", true).doesNotContainKey("seed");
        assertThat(PartitionPlan.fromJson(plan.toJson()).parameters()).isEqualTo(plan.parameters());
    }
}
