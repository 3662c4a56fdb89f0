package dev.understudy.ops.federation;

import static dev.understudy.ops.federation.Fixtures.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hand-computed Krum scores and Bulyan selections. */
class ByzantineRulesTest {
    // (x, −2x): squared distances are 5·(Δx)², so the scores below are 5× the 1-D ones.
    static final List<float[]> FIVE = List.of(
            new float[] {0f, 0f}, new float[] {1f, -2f}, new float[] {2.5f, -5f}, new float[] {3f, -6f},
            new float[] {100f, -200f});

    @Test
    void krumScoresSumTheNearestNMinusFMinus2() {
        // n = 5, f = 1 → 2 neighbours. 1-D squared distances from x = 0, 1, 2.5, 3, 100:
        // 0: {1, 6.25, 9, 1e4} → 7.25; 1: {1, 2.25, 4, …} → 3.25; 2.5: {6.25, 2.25, 0.25, …} → 2.5;
        // 3: {9, 4, 0.25, …} → 4.25; 100: {97² = 9409, 97.5² = 9506.25, …} → 18915.25
        double[] scores = ByzantineRules.krumScores(
                ByzantineRules.squaredDistances(FIVE), List.of(0, 1, 2, 3, 4), 1);
        assertThat(scores).containsExactly(new double[] {36.25, 16.25, 12.5, 21.25, 94576.25}, within(1e-9));
        assertThat(ByzantineRules.krumSelection(FIVE, 1, 5)).containsExactly(2, 1, 3, 0, 4);
    }

    @Test
    void krumPicksTheLowestScoreAndMultiKrumAveragesTheBestM() {
        assertThat(ByzantineRules.krum(FIVE, 1)).containsExactly(2.5f, -5f);
        // m = 3: x = 2.5, 1, 3 → 6.5/3
        assertThat(ByzantineRules.multiKrum(FIVE, 1, 3))
                .containsExactly(new float[] {6.5f / 3, -13f / 3}, within(1e-6f));
    }

    // Bulyan example, n = 7, f = 1: θ = 5, β = 3
    static final List<float[]> SEVEN = List.of(
            new float[] {0f, 5f}, new float[] {1.2f, 4f}, new float[] {2f, -1f}, new float[] {2.5f, 3f},
            new float[] {3f, 2f}, new float[] {4f, 0f}, new float[] {50f, -40f});

    @Test
    void bulyanSelectsByRepeatedKrum() {
        // Round 1 (7 candidates, 4 neighbours): v4 = (3, 2) has distances 1.25 (v3), 5 (v5), 7.24 (v1),
        // 10 (v2), 18 (v0), 3973 (v6) → 1.25 + 5 + 7.24 + 10 = 23.49, the lowest (v3: 25.44).
        // Round 2 (6 left, 3 neighbours): v3 with 2.69 (v1), 10.25 (v0), 11.25 (v5) → 24.19, the lowest.
        // Round 3 (5 left, 2 neighbours): v1 → 26.28; round 4 (4 left, 1 neighbour): v2 and v5 tie
        // at 5 → the lower index, v2; round 5: v0 and v5 tie at 41 → v0.
        assertThat(ByzantineRules.bulyanSelection(SEVEN, 1)).containsExactly(4, 3, 1, 2, 0);
    }

    @Test
    void bulyanAveragesTheBetaValuesClosestToTheMedian() {
        // selected x: 3, 2.5, 1.2, 2, 0 → median 2; closest 3: 2, 2.5, 1.2 → 1.9
        // selected y: 2, 3, 4, −1, 5 → median 3; closest 3: 3, 2, 4 → 3
        assertThat(ByzantineRules.bulyan(SEVEN, 1)).containsExactly(new float[] {1.9f, 3f}, within(1e-6f));
    }

    @Test
    void refusesTooFewUpdates() {
        assertThatThrownBy(() -> ByzantineRules.krum(FIVE, 2))
                .hasMessageContaining("needs at least 2f + 3 = 7 client updates, got 5");
        assertThatThrownBy(() -> ByzantineRules.bulyan(FIVE, 1))
                .hasMessageContaining("needs at least 4f + 3 = 7 client updates, got 5");
    }

    @Test
    void strategiesApplyTheRulesToTheDeltas() {
        float[] global = {10f, 20f};
        List<ClientUpdate> updates = List.of(update("a", 1, 0f, 0f), update("b", 50, 1f, -2f), update("c", 2, 2.5f, -5f),
                update("d", 9, 3f, -6f), update("e", 1, 100f, -200f));
        FederatedStrategy krum = Strategies.create("krum", Map.of("num_malicious_clients", 1));
        assertThat(krum.aggregate(1, global, updates, List.of()).orElseThrow()).containsExactly(12.5f, 15f);
        assertThat(krum.isLinear()).isFalse();
        // multikrum with the default m = n − f = 4: x = 2.5, 1, 3, 0 → 1.625
        FederatedStrategy multi = Strategies.create("multikrum", Map.of("num_malicious_clients", "1"));
        assertThat(multi.aggregate(1, global, updates, List.of()).orElseThrow())
                .containsExactly(new float[] {11.625f, 16.75f}, within(1e-5f));
        List<ClientUpdate> seven = new java.util.ArrayList<>();
        for (int k = 0; k < SEVEN.size(); k++) {
            seven.add(update("c" + k, k + 1, SEVEN.get(k).clone()));
        }
        FederatedStrategy bulyan = Strategies.create("bulyan", Map.of("num_malicious_clients", 1));
        assertThat(bulyan.aggregate(1, global, seven, List.of()).orElseThrow())
                .containsExactly(new float[] {11.9f, 23f}, within(1e-5f));
        assertThatThrownBy(() -> Strategies.create("krum", Map.of("num_malicious_clients", 1.5)))
                .hasMessage("Cannot set server.num_malicious_clients to 1.5: the value must be a non-negative integer");
    }
}
