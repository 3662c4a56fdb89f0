package dev.understudy.ops.federation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecordsTest {
    @Test
    void layoutFlattensTensorsInOrder() {
        // Prepare: A (2×3) then B (4) then C (1×1×5)
        ParameterLayout layout = new ParameterLayout(
                List.of("A", "B", "C"), List.of(new long[] {2, 3}, new long[] {4}, new long[] {1, 1, 5}));

        // Assert: offsets 0, 6, 10; total 15
        assertThat(layout.size()).isEqualTo(15);
        assertThat(layout.offset(0)).isZero();
        assertThat(layout.offset(1)).isEqualTo(6);
        assertThat(layout.offset(2)).isEqualTo(10);
        assertThat(layout.indexOf("C")).isEqualTo(2);
        assertThat(layout)
                .isEqualTo(new ParameterLayout(
                        List.of("A", "B", "C"), List.of(new long[] {2, 3}, new long[] {4}, new long[] {1, 1, 5})));
        assertThat(layout.hashCode())
                .isEqualTo(new ParameterLayout(
                                List.of("A", "B", "C"), List.of(new long[] {2, 3}, new long[] {4}, new long[] {1, 1, 5}))
                        .hashCode());
        assertThat(layout).isNotEqualTo(new ParameterLayout(List.of("A", "B", "C"), List.of(new long[] {3, 2}, new long[] {4}, new long[] {5})));
    }

    @Test
    void layoutValidates() {
        assertThatThrownBy(() -> new ParameterLayout(List.of("A", "A"), List.of(new long[] {1}, new long[] {1})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Tensor name A appears twice in the parameter layout");
        assertThatThrownBy(() -> new ParameterLayout(List.of("A"), List.of(new long[] {2, 0})))
                .hasMessage("Tensor A has shape [2, 0]: every dimension must be positive");
        assertThatThrownBy(() -> new ParameterLayout(List.of("A"), List.of()))
                .hasMessage("A parameter layout needs one shape per name, got 1 names and 0 shapes");
    }

    @Test
    void nonFiniteDeltaNamesTheClient() {
        assertThatThrownBy(() -> new ClientUpdate("client-7", 10, new float[] {0f, 1f, Float.NaN}, 1.0, 5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("client client-7 sent a non-finite update at index 2 (NaN);");
        assertThatThrownBy(() -> new ClientUpdate("c2", 10, new float[] {Float.POSITIVE_INFINITY}, 1.0, 5))
                .hasMessageStartingWith("client c2 sent a non-finite update at index 0 (Infinity);");
        assertThatThrownBy(() -> new ClientUpdate("c3", 10, new float[] {1f}, Double.NaN, 5))
                .hasMessageStartingWith("Client c3 reported a non-finite train loss (NaN)");
        assertThatThrownBy(() -> new ClientUpdate("c4", -1, new float[] {1f}, 1.0, 5))
                .hasMessage("Client c4 reported numExamples=-1; the count must be non-negative");
    }

    @Test
    void clientUpdateComparesContents() {
        ClientUpdate a = new ClientUpdate("c", 2, new float[] {1f, 2f}, 0.5, 3, Map.of("acc", 0.9));
        ClientUpdate b = new ClientUpdate("c", 2, new float[] {1f, 2f}, 0.5, 3, Map.of("acc", 0.9));
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a.toString()).contains("delta=float[2]");
        assertThat(new ClientUpdate("c", 2, new float[] {1f}, 0.5, 3, null).metrics()).isEmpty();
    }
}
