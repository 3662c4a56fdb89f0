package dev.understudy.ops.federation;

import static dev.understudy.ops.federation.Fixtures.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FedAvgTest {
    // Shared round: x = [1, 2, 3]; c1 (1 example) Δ = [0.5, -1, 2], c2 (3 examples) Δ = [1.5, 1, -2]
    // Δ̄ = (1·Δ1 + 3·Δ2) / 4 = [(0.5 + 4.5)/4, (-1 + 3)/4, (2 - 6)/4] = [1.25, 0.5, -1]
    static final float[] GLOBAL = {1f, 2f, 3f};
    static final List<ClientUpdate> UPDATES =
            List.of(update("c1", 1, 0.5f, -1f, 2f), update("c2", 3, 1.5f, 1f, -2f));

    @Test
    void averagesDeltasWeightedByExamples() {
        // Prepare
        FedAvg strategy = new FedAvg();

        // Execute
        Optional<float[]> next = strategy.aggregate(1, GLOBAL, UPDATES, List.of());

        // Assert: x + Δ̄ = [1 + 1.25, 2 + 0.5, 3 - 1] (all exact in binary)
        assertThat(next).get().isEqualTo(new float[] {2.25f, 2.5f, 2f});
        assertThat(strategy.roundsApplied()).isEqualTo(1);
        assertThat(strategy.state()).isEmpty();
        assertThat(GLOBAL).containsExactly(1f, 2f, 3f); // input untouched
    }

    @Test
    void serverLearningRateScalesTheMeanDelta() {
        // Prepare
        FedAvg strategy = new FedAvg(0.5, true);

        // Execute
        float[] next = strategy.aggregate(1, GLOBAL, UPDATES, List.of()).orElseThrow();

        // Assert: x + 0.5·Δ̄ = [1 + 0.625, 2 + 0.25, 3 - 0.5]
        assertThat(next).containsExactly(1.625f, 2.25f, 2.5f);
    }

    @Test
    void keepsTheGlobalWhenFailuresAreNotAccepted() {
        // Prepare
        FedAvg strict = new FedAvg(false);
        FedAvg lenient = new FedAvg(true);
        List<ClientFailure> failures = List.of(new ClientFailure("c3", "executor lost"));

        // Execute
        Optional<float[]> strictResult = strict.aggregate(1, GLOBAL, UPDATES, failures);
        Optional<float[]> lenientResult = lenient.aggregate(1, GLOBAL, UPDATES, failures);

        // Assert
        assertThat(strictResult).isEmpty();
        assertThat(strict.roundsApplied()).isZero();
        assertThat(lenientResult).get().isEqualTo(new float[] {2.25f, 2.5f, 2f});
    }

    @Test
    void keepsTheGlobalWithoutUpdatesOrWithoutExamples() {
        // Prepare
        FedAvg strategy = new FedAvg();
        List<ClientUpdate> empty = List.of(update("c1", 0, 1f, 1f, 1f), update("c2", 0, 2f, 2f, 2f));

        // Execute / Assert
        assertThat(strategy.aggregate(1, GLOBAL, List.of(), List.of())).isEmpty();
        assertThat(strategy.aggregate(1, GLOBAL, empty, List.of())).isEmpty();
        assertThat(strategy.roundsApplied()).isZero();
    }

    @Test
    void fedProxAggregatesLikeFedAvgAndCarriesMu() {
        // Prepare
        FedProx prox = new FedProx(0.01);

        // Execute
        float[] next = prox.aggregate(1, GLOBAL, UPDATES, List.of()).orElseThrow();

        // Assert
        assertThat(next).containsExactly(2.25f, 2.5f, 2f);
        assertThat(prox.proximalMu()).isEqualTo(0.01);
        assertThat(prox.name()).isEqualTo("fedprox");
        assertThat(new FedAvg().proximalMu()).isZero();
    }

    @Test
    void rejectsInvalidParametersNamingTheYamlKey() {
        assertThatThrownBy(() -> new FedAvg(-1.0, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Cannot set server.server_learning_rate to -1.0: the value must be positive");
        assertThatThrownBy(() -> new FedProx(-0.5))
                .hasMessage("Cannot set server.proximal_mu to -0.5: the value must be non-negative");
        assertThatThrownBy(() -> new FedAvgM(1.0, 1.0))
                .hasMessage("Cannot set server.server_momentum to 1.0: the value must be in [0, 1)");
    }

    @Test
    void rejectsUpdatesOfTheWrongLength() {
        // Prepare
        List<ClientUpdate> wrong = List.of(update("c9", 1, 1f, 2f));

        // Execute / Assert
        assertThatThrownBy(() -> new FedAvg().aggregate(1, GLOBAL, wrong, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("client c9 sent an update of 2 elements but the global vector has 3");
    }

    @Test
    void rejectsStateForAStatelessStrategy() {
        assertThatThrownBy(() -> new FedAvg().restoreState(java.util.Map.of("m", new float[3]), 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("fedavg keeps no server state, but the checkpoint has [m]");
    }
}
