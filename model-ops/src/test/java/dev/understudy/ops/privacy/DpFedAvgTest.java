package dev.understudy.ops.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.understudy.ops.federation.ClientUpdate;
import dev.understudy.ops.federation.FedAdam;
import dev.understudy.ops.federation.FedAvg;
import dev.understudy.ops.federation.FedMedian;
import dev.understudy.ops.federation.WeightedMean;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DpFedAvgTest {
    static final float[] GLOBAL = {1f, 2f};
    // weights differ on purpose: DP-FedAvg counts each client once
    static final List<ClientUpdate> UPDATES = List.of(
            new ClientUpdate("a", 100, new float[] {3f, 4f}, 1.0, 10), // norm 5 → clipped to (0.6, 0.8)
            new ClientUpdate("b", 1, new float[] {0.3f, 0.4f}, 1.0, 10)); // norm 0.5, kept

    static DpFedAvg.Settings settings(double z, double budget, AdaptiveClipping adaptive) {
        // q = 0.5 of N = 4 clients: the fixed denominator qN = 2
        return new DpFedAvg.Settings(1.0, z, 0.5, 4, 1e-5, budget, 99, adaptive);
    }

    @Test
    void noiselessRoundIsTheClippedSumOverTheExpectedCount() {
        DpFedAvg dp = new DpFedAvg(new FedAvg(), settings(0, 0, null));
        float[] next = dp.aggregate(1, GLOBAL, UPDATES, List.of()).orElseThrow();
        // (0.6 + 0.3) / 2 = 0.45, (0.8 + 0.4) / 2 = 0.6
        assertThat(next).containsExactly(new float[] {1.45f, 2.6f}, within(1e-6f));
        assertThat(dp.roundMetrics()).containsEntry("dp_clipped_fraction", 0.5).containsEntry("dp_clip_norm", 1.0);
        assertThat(dp.roundMetrics().get("dp_epsilon")).isInfinite();
    }

    @Test
    void noiseIsDrawnOnceFromTheRoundStream() {
        double z = 0.8;
        DpFedAvg dp = new DpFedAvg(new FedAvg(), settings(z, 0, null));
        float[] next = dp.aggregate(3, GLOBAL, UPDATES, List.of()).orElseThrow();
        GaussianNoise g = GaussianNoise.forRound(99, 3, 1);
        float sum0 = 0.6f + 0.3f;
        float sum1 = 0.8f + 0.4f;
        float m0 = (float) ((sum0 / 2f * 2.0 + z * 1.0 * g.next()) / 2.0);
        float m1 = (float) ((sum1 / 2f * 2.0 + z * 1.0 * g.next()) / 2.0);
        assertThat(next[0]).isCloseTo(1f + m0, within(1e-6f));
        assertThat(next[1]).isCloseTo(2f + m1, within(1e-6f));
        assertThat(dp.roundMetrics().get("dp_noise_sigma")).isEqualTo(z * 1.0 / 2.0);
        // the same round again: the same bits
        float[] again = new DpFedAvg(new FedAvg(), settings(z, 0, null)).aggregate(3, GLOBAL, UPDATES, List.of())
                .orElseThrow();
        assertThat(again).isEqualTo(next);
    }

    @Test
    void streamedPathGivesTheSameBitsAsTheDriverPath() {
        DpFedAvg dp = new DpFedAvg(new FedAvg(), settings(1.1, 0, null));
        float[] driver = dp.aggregate(2, GLOBAL, UPDATES, List.of()).orElseThrow();
        WeightedMean sum = WeightedMean.empty(2);
        for (ClientUpdate u : UPDATES) {
            sum.add(new ClientUpdate(u.clientId(), 1, DpClipping.clip(u.delta(), 1.0).delta(), 1.0, 10));
        }
        float[] streamed = new DpFedAvg(new FedAvg(), settings(1.1, 0, null)).applyClippedSum(2, GLOBAL, sum, 1, 0)
                .orElseThrow();
        assertThat(streamed).isEqualTo(driver);
    }

    @Test
    void epsilonInTheMetricsIsTheAccountants() {
        DpFedAvg dp = new DpFedAvg(new FedAvg(), settings(1.3, 0, null));
        for (int round = 1; round <= 5; round++) {
            dp.aggregate(round, GLOBAL, UPDATES, List.of()).orElseThrow();
            Rdp.Epsilon expected = Rdp.epsilon(0.5, 1.3, round, 1e-5);
            assertThat(dp.roundMetrics().get("dp_epsilon")).isCloseTo(expected.epsilon(), within(1e-12));
            assertThat(dp.roundMetrics().get("dp_order")).isEqualTo(expected.order());
        }
    }

    @Test
    void budgetStopsBeforeItWouldBeExceeded() {
        DpFedAvg dp = new DpFedAvg(new FedAvg(), settings(1.3, 5.0, null));
        int last = 0;
        while (dp.allowsRound(last + 1)) {
            last++;
        }
        assertThat(dp.epsilonAfter(last).epsilon()).isLessThanOrEqualTo(5.0);
        assertThat(dp.epsilonAfter(last + 1).epsilon()).isGreaterThan(5.0);
        assertThat(new DpFedAvg(new FedAvg(), settings(1.3, 0, null)).allowsRound(1_000_000)).isTrue();
    }

    @Test
    void unchangedAdapterWithNoiseOnFails() {
        // a server learning rate so small that noise ~0.5 cannot move a float of magnitude 1
        DpFedAvg dp = new DpFedAvg(new FedAvg(1e-30, true), settings(1.0, 0, null));
        assertThatThrownBy(() -> dp.aggregate(1, GLOBAL, UPDATES, List.of()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("left the global adapter unchanged");
    }

    @Test
    void roundWithoutClientsStillReleasesNoise() {
        DpFedAvg dp = new DpFedAvg(new FedAvg(), settings(1.0, 0, null));
        float[] next = dp.applyClippedSum(1, GLOBAL, WeightedMean.empty(2), 0, 0).orElseThrow();
        GaussianNoise g = GaussianNoise.forRound(99, 1, 1);
        assertThat(next[0]).isCloseTo(1f + (float) (g.next() / 2), within(1e-6f));
    }

    @Test
    void wrapsStatefulOptimisersAndResumesBitIdentically() {
        AdaptiveClipping adaptive = new AdaptiveClipping(0.5, 0.2, 2.0);
        DpFedAvg straight = new DpFedAvg(new FedAdam(), settings(1.0, 0, adaptive));
        float[] g = GLOBAL;
        for (int round = 1; round <= 4; round++) {
            g = straight.aggregate(round, g, UPDATES, List.of()).orElseThrow();
        }
        DpFedAvg first = new DpFedAvg(new FedAdam(), settings(1.0, 0, adaptive));
        float[] h = GLOBAL;
        for (int round = 1; round <= 2; round++) {
            h = first.aggregate(round, h, UPDATES, List.of()).orElseThrow();
        }
        Map<String, float[]> saved = first.state();
        assertThat(saved).containsKeys("m", "v", "dp_clip_norm");
        assertThat(saved.get("dp_clip_norm")[0]).isNotEqualTo(1f); // it adapted
        DpFedAvg resumed = new DpFedAvg(new FedAdam(), settings(1.0, 0, adaptive));
        resumed.restoreState(saved, first.roundsApplied());
        for (int round = 3; round <= 4; round++) {
            h = resumed.aggregate(round, h, UPDATES, List.of()).orElseThrow();
        }
        assertThat(h).isEqualTo(g);
        assertThat(resumed.clipNorm()).isEqualTo(straight.clipNorm());
    }

    @Test
    void rejectsWhatBreaksTheAnalysis() {
        assertThatThrownBy(() -> new DpFedAvg(new FedMedian(), settings(1, 0, null)))
                .hasMessageContaining("linear strategies only");
        DpFedAvg dp = new DpFedAvg(new FedAvg(), settings(1, 0, null));
        WeightedMean weighted = WeightedMean.empty(2).add(UPDATES.get(0));
        assertThatThrownBy(() -> dp.applyClippedSum(1, GLOBAL, weighted, 0, 0)).hasMessageContaining("weight 1");
        assertThatThrownBy(() -> new DpFedAvg(new FedAvg(), settings(1, 0, new AdaptiveClipping(0.5, 0.2, 1))).applyMean(
                1, GLOBAL, WeightedMean.empty(2), 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new DpFedAvg.Settings(1, 1, 0, 4, 1e-5, 0, 1, null)).hasMessageContaining("sampling rate");
    }
}
