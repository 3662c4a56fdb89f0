package dev.understudy.ops.federation;

import static dev.understudy.ops.federation.Fixtures.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class RobustStrategiesTest {
    static final float[] GLOBAL = {10f, 20f};
    // weights differ on purpose: order statistics ignore them
    static final List<ClientUpdate> UPDATES = List.of(
            update("c1", 1, 1f, 5f),
            update("c2", 100, 3f, -1f),
            update("c3", 1, 2f, 2f),
            update("c4", 7, 400f, -300f)); // an outlier

    @Test
    void fedMedianAddsTheCoordinateMedian() {
        // columns sorted: [1, 2, 3, 400] → 2.5; [-300, -1, 2, 5] → 0.5
        float[] next = new FedMedian().aggregate(1, GLOBAL, UPDATES, List.of()).orElseThrow();
        assertThat(next).containsExactly(12.5f, 20.5f);
    }

    @Test
    void fedTrimmedAvgAddsTheTrimmedMean() {
        // β = 0.25, n = 4 → drop 1 per end: [2, 3] → 2.5; [-1, 2] → 0.5
        FedTrimmedAvg strategy = new FedTrimmedAvg(0.25);
        float[] next = strategy.aggregate(1, GLOBAL, UPDATES, List.of()).orElseThrow();
        assertThat(next).containsExactly(12.5f, 20.5f);
        assertThat(strategy.isLinear()).isFalse();
        assertThat(strategy.roundsApplied()).isEqualTo(1);
    }

    @Test
    void followsTheFailurePolicy() {
        List<ClientFailure> failures = List.of(new ClientFailure("c5", "timeout"));
        assertThat(new FedMedian(false).aggregate(1, GLOBAL, UPDATES, failures)).isEmpty();
        assertThat(new FedMedian(true).aggregate(1, GLOBAL, UPDATES, failures)).isPresent();
        assertThat(new FedMedian().aggregate(1, GLOBAL, List.of(), List.of())).isEmpty();
    }

    @Test
    void refusesTheStreamedPath() {
        assertThatThrownBy(() -> new FedMedian().applyMean(1, GLOBAL, WeightedMean.empty(2), 0))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("fedmedian is not linear");
    }

    @Test
    void rejectsInvalidBeta() {
        assertThatThrownBy(() -> new FedTrimmedAvg(0.6))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Cannot set server.beta to 0.6: the value must be in [0, 0.5)");
    }
}
