package dev.understudy.ops.federation;

import static dev.understudy.ops.federation.Fixtures.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** FedAvgM, FedAdagrad, FedAdam, FedYogi over two hand-computed rounds. */
class ServerOptimizerTest {
    // Two rounds on 2 coordinates, x0 = [1, -1]:
    //   round 1: c1 (1 ex) Δ = [2, -2], c2 (1 ex) Δ = [0, -2]        → Δ̄1 = [1, -2]
    //   round 2: c1 (3 ex) Δ = [1,  2], c2 (1 ex) Δ = [-1, 2]        → Δ̄2 = [(3 - 1)/4, 2] = [0.5, 2]
    // FedOpt parameters: η = 1, β1 = 0.5, β2 = 0.75, τ = 0.5, so v starts at τ² = 0.25 and
    //   m1 = 0.5·0 + 0.5·Δ̄1 = [0.5, -1];  m2 = 0.5·m1 + 0.5·Δ̄2 = [0.25 + 0.25, -0.5 + 1] = [0.5, 0.5]
    static final float[] X0 = {1f, -1f};
    static final List<ClientUpdate> ROUND1 = List.of(update("c1", 1, 2f, -2f), update("c2", 1, 0f, -2f));
    static final List<ClientUpdate> ROUND2 = List.of(update("c1", 3, 1f, 2f), update("c2", 1, -1f, 2f));
    static final float TOL = 1e-6f;

    static float[][] twoRounds(FederatedStrategy strategy) {
        float[] x1 = strategy.aggregate(1, X0, ROUND1, List.of()).orElseThrow();
        float[] x2 = strategy.aggregate(2, x1, ROUND2, List.of()).orElseThrow();
        return new float[][] {x1, x2};
    }

    @Test
    void fedAvgMAccumulatesServerMomentum() {
        // Prepare: η = 2, β = 0.5
        FedAvgM strategy = new FedAvgM(2.0, 0.5);

        // Execute
        float[][] x = twoRounds(strategy);

        // Assert
        // round 1: v = Δ̄1 = [1, -2];                   x1 = [1 + 2·1, -1 + 2·(-2)] = [3, -5]
        assertThat(x[0]).containsExactly(3f, -5f);
        // round 2: v = 0.5·[1, -2] + [0.5, 2] = [1, 1]; x2 = [3 + 2·1, -5 + 2·1]   = [5, -3]
        assertThat(x[1]).containsExactly(5f, -3f);
        assertThat(strategy.state()).containsOnlyKeys("momentum");
        assertThat(strategy.state().get("momentum")).containsExactly(1f, 1f);
    }

    @Test
    void fedAdagradSumsSquaredMeanDeltas() {
        // Prepare
        FedAdagrad strategy = new FedAdagrad(1.0, 0.5, 0.5, true);

        // Execute
        float[][] x = twoRounds(strategy);

        // Assert
        // round 1: v1 = 0.25 + [1, 4] = [1.25, 4.25]
        //   x1 = [1 + 0.5/(√1.25 + 0.5), -1 - 1/(√4.25 + 0.5)] = [1 + 0.5/1.6180340, -1 - 1/2.5615528]
        //      = [1.309016994, -1.390388203]
        assertThat(x[0][0]).isCloseTo(1.309016994f, within(TOL));
        assertThat(x[0][1]).isCloseTo(-1.390388203f, within(TOL));
        // round 2: v2 = v1 + [0.25, 4] = [1.5, 8.25]
        //   x2 = [1.309016994 + 0.5/(√1.5 + 0.5), -1.390388203 + 0.5/(√8.25 + 0.5)]
        //      = [1.309016994 + 0.5/1.7247449, -1.390388203 + 0.5/3.3722813] = [1.598914943, -1.242120620]
        assertThat(x[1][0]).isCloseTo(1.598914943f, within(TOL));
        assertThat(x[1][1]).isCloseTo(-1.242120620f, within(TOL));
        assertThat(strategy.state().get("m")).containsExactly(0.5f, 0.5f);
        assertThat(strategy.state().get("v")).containsExactly(1.5f, 8.25f);
    }

    @Test
    void fedAdamDecaysTheSecondMomentWithoutBiasCorrection() {
        // Prepare
        FedAdam strategy = new FedAdam(1.0, 0.5, 0.75, 0.5, true);

        // Execute
        float[][] x = twoRounds(strategy);

        // Assert
        // round 1: v1 = 0.75·0.25 + 0.25·[1, 4] = [0.4375, 1.1875]
        //   x1 = [1 + 0.5/(0.6614378 + 0.5), -1 - 1/(1.0897247 + 0.5)] = [1.430500874, -1.629039718]
        assertThat(x[0][0]).isCloseTo(1.430500874f, within(TOL));
        assertThat(x[0][1]).isCloseTo(-1.629039718f, within(TOL));
        // round 2: v2 = 0.75·v1 + 0.25·[0.25, 4] = [0.328125 + 0.0625, 0.890625 + 1] = [0.390625, 1.890625]
        //   √v2 = [0.625, 1.375];  x2 = [1.430500874 + 0.5/1.125, -1.629039718 + 0.5/1.875]
        //      = [1.430500874 + 0.444444444, -1.629039718 + 0.266666667] = [1.874945318, -1.362373052]
        assertThat(x[1][0]).isCloseTo(1.874945318f, within(TOL));
        assertThat(x[1][1]).isCloseTo(-1.362373052f, within(TOL));
        assertThat(strategy.state().get("v")).containsExactly(0.390625f, 1.890625f);
    }

    @Test
    void fedYogiMovesTheSecondMomentAdditively() {
        // Prepare
        FedYogi strategy = new FedYogi(1.0, 0.5, 0.75, 0.5, true);

        // Execute
        float[][] x = twoRounds(strategy);

        // Assert
        // round 1: Δ̄1² = [1, 4] > v0 = 0.25, so sign(v − Δ̄²) = -1 and v grows:
        //   v1 = 0.25 + 0.25·[1, 4] = [0.5, 1.25]
        //   x1 = [1 + 0.5/(√0.5 + 0.5), -1 - 1/(√1.25 + 0.5)] = [1 + 0.5/1.2071068, -1 - 1/1.6180340]
        //      = [1.414213562, -1.618033989]
        assertThat(x[0][0]).isCloseTo(1.414213562f, within(TOL));
        assertThat(x[0][1]).isCloseTo(-1.618033989f, within(TOL));
        // round 2: Δ̄2² = [0.25, 4]; v1 − Δ̄2² = [0.25, -2.75] → signs [+1, -1]
        //   v2 = [0.5 − 0.25·0.25, 1.25 + 0.25·4] = [0.4375, 2.25]
        //   x2 = [1.414213562 + 0.5/(0.6614378 + 0.5), -1.618033989 + 0.5/(1.5 + 0.5)]
        //      = [1.414213562 + 0.430500874, -1.618033989 + 0.25] = [1.844714436, -1.368033989]
        assertThat(x[1][0]).isCloseTo(1.844714436f, within(TOL));
        assertThat(x[1][1]).isCloseTo(-1.368033989f, within(TOL));
        assertThat(strategy.state().get("v")).containsExactly(0.4375f, 2.25f);
    }

    @Test
    void usesFlowerDefaults() {
        FedAdam adam = new FedAdam();
        FedYogi yogi = new FedYogi();
        FedAdagrad adagrad = new FedAdagrad();
        assertThat(List.of(adam.eta(), adam.beta1(), adam.beta2(), adam.tau())).containsExactly(1e-1, 0.9, 0.99, 1e-9);
        assertThat(List.of(yogi.eta(), yogi.beta1(), yogi.beta2(), yogi.tau())).containsExactly(1e-2, 0.9, 0.99, 1e-3);
        assertThat(List.of(adagrad.eta(), adagrad.beta1(), adagrad.tau())).containsExactly(1e-1, 0.0, 1e-9);
    }

    @Test
    void rejectsInvalidParametersNamingTheYamlKey() {
        assertThatThrownBy(() -> new FedAdam(-1.0, 0.9, 0.99, 1e-9, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Cannot set server.eta to -1.0: the value must be positive");
        assertThatThrownBy(() -> new FedYogi(0.01, 1.5, 0.99, 1e-3, true))
                .hasMessage("Cannot set server.beta_1 to 1.5: the value must be in [0, 1)");
        assertThatThrownBy(() -> new FedAdam(0.1, 0.9, -0.1, 1e-9, true))
                .hasMessage("Cannot set server.beta_2 to -0.1: the value must be in [0, 1)");
        assertThatThrownBy(() -> new FedAdagrad(0.1, 0.0, 0.0, true))
                .hasMessage("Cannot set server.tau to 0.0: the value must be positive");
        assertThatThrownBy(() -> new FedAdam(Double.NaN, 0.9, 0.99, 1e-9, true))
                .hasMessage("Cannot set server.eta to NaN: the value must be positive");
    }

    @Test
    void restoreRejectsMismatchedCheckpoints() {
        FedAdam adam = new FedAdam();
        assertThatThrownBy(() -> adam.restoreState(Map.of("m", new float[2]), 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("The fedadam checkpoint has state entries [m]; expected [m, v]");
        assertThatThrownBy(() -> adam.restoreState(Map.of(), 3))
                .hasMessageContaining("The fedadam checkpoint has state entries [] after 3 applied rounds");
        assertThatThrownBy(() -> adam.restoreState(Map.of("m", new float[2], "v", new float[3]), 1))
                .hasMessageContaining("different lengths");
        assertThatThrownBy(() -> adam.restoreState(Map.of("m", new float[] {Float.NaN}, "v", new float[1]), 1))
                .hasMessage("The fedadam checkpoint's state 'm' is non-finite at index 0 (NaN)");
    }

    @Test
    void restoredStateOfTheWrongLayoutFailsOnTheNextRound() {
        // Prepare
        FedAdam adam = new FedAdam();
        adam.restoreState(Map.of("m", new float[5], "v", new float[5]), 1);

        // Execute / Assert
        assertThatThrownBy(() -> adam.aggregate(2, X0, ROUND1, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("The fedadam state 'm' has 5 elements but the global vector has 2");
    }
}
