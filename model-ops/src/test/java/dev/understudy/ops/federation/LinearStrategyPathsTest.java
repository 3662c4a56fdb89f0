package dev.understudy.ops.federation;

import static dev.understudy.ops.federation.Fixtures.bits;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The streamed path equals the collected path, and checkpoint/resume continues bit for bit. */
class LinearStrategyPathsTest {
    static final int SIZE = 97;

    static Stream<Arguments> linearStrategies() {
        return Stream.of(
                Arguments.of("fedavg", Map.of("server_learning_rate", 0.7)),
                Arguments.of("fedprox", Map.of("proximal_mu", 0.1)),
                Arguments.of("fedavgm", Map.of("server_learning_rate", 0.9, "server_momentum", 0.9)),
                Arguments.of("fedadagrad", Map.of("beta_1", 0.5, "tau", 1e-3)),
                Arguments.of("fedadam", Map.of()),
                Arguments.of("fedyogi", Map.of()));
    }

    static List<ClientUpdate> round(int r) {
        return Fixtures.randomUpdates(100 + r, 5, SIZE);
    }

    @ParameterizedTest
    @MethodSource("linearStrategies")
    void applyMeanOfMergedPartialsEqualsAggregate(String name, Map<String, ?> params) {
        // Prepare
        FederatedStrategy collected = Strategies.create(name, params);
        FederatedStrategy streamed = Strategies.create(name, params);
        float[] x1 = Fixtures.randomVector(1, SIZE);
        float[] x2 = x1;

        for (int r = 1; r <= 2; r++) {
            List<ClientUpdate> updates = round(r);
            // partials as two executors would build them, merged right-into-left in reverse order
            WeightedMean left = WeightedMean.empty(SIZE).add(updates.get(4)).add(updates.get(2));
            WeightedMean right = WeightedMean.empty(SIZE).add(updates.get(3)).add(updates.get(0)).add(updates.get(1));

            // Execute
            x1 = collected.aggregate(r, x1, updates, List.of()).orElseThrow();
            x2 = streamed.applyMean(r, x2, right.merge(left), 0).orElseThrow();

            // Assert
            assertThat(collected.isLinear()).isTrue();
            assertThat(bits(x2)).as("%s round %s", name, r).isEqualTo(bits(x1));
        }
    }

    @ParameterizedTest
    @MethodSource("linearStrategies")
    void resumeFromStateContinuesBitForBit(String name, Map<String, ?> params) {
        // Prepare
        FederatedStrategy uninterrupted = Strategies.create(name, params);
        FederatedStrategy first = Strategies.create(name, params);
        float[] x0 = Fixtures.randomVector(2, SIZE);

        // Execute: three rounds in one go
        float[] a = x0;
        for (int r = 1; r <= 3; r++) {
            a = uninterrupted.aggregate(r, a, round(r), List.of()).orElseThrow();
        }
        // ... and two rounds, a checkpoint, a fresh instance, and the third round
        float[] b = x0;
        for (int r = 1; r <= 2; r++) {
            b = first.aggregate(r, b, round(r), List.of()).orElseThrow();
        }
        Map<String, float[]> saved = first.state();
        long roundsApplied = first.roundsApplied();
        first.aggregate(3, b, round(5), List.of()); // mutating the old instance must not leak into the copy
        FederatedStrategy resumed = Strategies.create(name, params);
        resumed.restoreState(saved, roundsApplied);
        b = resumed.aggregate(3, b, round(3), List.of()).orElseThrow();

        // Assert
        assertThat(bits(b)).isEqualTo(bits(a));
        assertThat(resumed.roundsApplied()).isEqualTo(3);
        assertThat(resumed.state().keySet()).isEqualTo(uninterrupted.state().keySet());
        for (String key : uninterrupted.state().keySet()) {
            assertThat(bits(resumed.state().get(key))).isEqualTo(bits(uninterrupted.state().get(key)));
        }
    }

    @ParameterizedTest
    @MethodSource("linearStrategies")
    void skippedRoundsLeaveTheStateAlone(String name, Map<String, ?> params) {
        // Prepare
        FederatedStrategy strategy = Strategies.create(name, params);
        float[] x = strategy.aggregate(1, Fixtures.randomVector(3, SIZE), round(1), List.of()).orElseThrow();
        Map<String, float[]> before = strategy.state();

        // Execute: a round in which nothing arrived
        Optional<float[]> skipped = strategy.applyMean(2, x, WeightedMean.empty(SIZE), 2);

        // Assert
        assertThat(skipped).isEmpty();
        assertThat(strategy.roundsApplied()).isEqualTo(1);
        for (String key : before.keySet()) {
            assertThat(strategy.state().get(key)).isEqualTo(before.get(key));
        }
    }
}
