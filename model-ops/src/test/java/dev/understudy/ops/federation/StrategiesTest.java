package dev.understudy.ops.federation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StrategiesTest {
    @Test
    void createsEveryStrategyWithDefaults() {
        for (String name : Strategies.names()) {
            Map<String, Object> params = name.equals("fedprox") ? Map.of("proximal_mu", 0.01) : Map.of();
            FederatedStrategy strategy = Strategies.create(name, params);
            assertThat(strategy.name()).isEqualTo(name);
            assertThat(strategy.isLinear())
                    .isEqualTo(!java.util.Set.of("fedmedian", "fedtrimmedavg", "krum", "multikrum", "bulyan").contains(name));
        }
        assertThat(Strategies.names())
                .containsExactly(
                        "fedavg", "fedprox", "fedavgm", "fedadagrad", "fedadam", "fedyogi", "fedtrimmedavg", "fedmedian",
                        "krum", "multikrum", "bulyan");
    }

    @Test
    void convertsStringOverrides() {
        // Prepare: values as they arrive from --set server.eta=0.05
        Map<String, Object> params = new HashMap<>();
        params.put("eta", "0.05");
        params.put("beta_2", 0.9f);
        params.put("accept_failures", "false");

        // Execute
        FedAdam adam = (FedAdam) Strategies.create("FedAdam", params);

        // Assert
        assertThat(adam.eta()).isEqualTo(0.05);
        assertThat(adam.beta2()).isEqualTo((double) 0.9f);
        assertThat(adam.beta1()).isEqualTo(0.9);
        assertThat(adam.acceptFailures()).isFalse();
        assertThat(Strategies.create("fedprox", Map.of("proximal_mu", "1e-2")).proximalMu()).isEqualTo(0.01);
    }

    @Test
    void unknownNameListsTheValidOnesAndSuggestsTheNearest() {
        assertThatThrownBy(() -> Strategies.create("fedadamm", Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Unknown strategy 'fedadamm'; valid strategies: [fedavg, fedprox, fedavgm, fedadagrad,"
                        + " fedadam, fedyogi, fedtrimmedavg, fedmedian, krum, multikrum, bulyan]. Did you mean fedadam?");
        assertThatThrownBy(() -> Strategies.create("zeno", Map.of()))
                .hasMessageStartingWith("Unknown strategy 'zeno'; valid strategies:")
                .hasMessageNotContaining("Did you mean");
    }

    @Test
    void unknownKeyListsTheValidOnes() {
        assertThatThrownBy(() -> Strategies.create("fedadam", Map.of("etta", 0.1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Unknown parameter server.etta for strategy fedadam; valid keys: [eta, beta_1, beta_2, tau,"
                        + " accept_failures]. Did you mean server.eta?");
        assertThatThrownBy(() -> Strategies.create("fedavg", Map.of("proximal_mu", 0.1)))
                .hasMessageStartingWith("Unknown parameter server.proximal_mu for strategy fedavg; valid keys:"
                        + " [server_learning_rate, accept_failures].");
    }

    @Test
    void invalidValuesNameTheKey() {
        assertThatThrownBy(() -> Strategies.create("fedadam", Map.of("eta", -1.0)))
                .hasMessage("Cannot set server.eta to -1.0: the value must be positive");
        assertThatThrownBy(() -> Strategies.create("fedyogi", Map.of("eta", "fast")))
                .hasMessage("Cannot set server.eta to 'fast': the value must be a number");
        assertThatThrownBy(() -> Strategies.create("fedmedian", Map.of("accept_failures", "yes")))
                .hasMessage("Cannot set server.accept_failures to 'yes': the value must be true or false");
        assertThatThrownBy(() -> Strategies.create("fedprox", Map.of()))
                .hasMessage("server.proximal_mu is required by this strategy and has no default");
        assertThatThrownBy(() -> Strategies.create("fedtrimmedavg", Map.of("beta", "0.5")))
                .hasMessage("Cannot set server.beta to 0.5: the value must be in [0, 0.5)");
    }

    @Test
    void editDistance() {
        assertThat(Strategies.editDistance("kitten", "sitting")).isEqualTo(3);
        assertThat(Strategies.editDistance("", "abc")).isEqualTo(3);
        assertThat(Strategies.editDistance("fedavg", "fedavg")).isZero();
    }
}
