package dev.understudy.ops.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DpMechanismTest {
    @Test
    void clipsToTheNormAndKeepsSmallUpdates() {
        DpClipping.Clipped c = DpClipping.clip(new float[] {3, 4}, 1.0);
        assertThat(c.clipped()).isTrue();
        assertThat(c.norm()).isEqualTo(5.0);
        assertThat(c.delta()).containsExactly(new float[] {0.6f, 0.8f}, within(1e-7f));
        float[] small = {0.3f, 0.4f};
        DpClipping.Clipped k = DpClipping.clip(small, 1.0);
        assertThat(k.clipped()).isFalse();
        assertThat(k.delta()).isSameAs(small);
        assertThatThrownBy(() -> DpClipping.clip(small, 0)).hasMessageContaining("privacy.clip_norm");
    }

    @Test
    void clippedNormNeverExceedsTheBound() {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 200; trial++) {
            float[] v = new float[1 + r.nextInt(5000)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-3, 4)));
            }
            double s = Math.pow(10, r.nextDouble(-3, 2));
            DpClipping.Clipped c = DpClipping.clip(v, s);
            assertThat(DpClipping.l2Norm(c.delta())).isLessThanOrEqualTo(s);
            if (c.clipped()) {
                assertThat(DpClipping.l2Norm(c.delta())).isCloseTo(s, within(s * 1e-5));
            }
        }
    }

    @Test
    void noiseStreamIsSeededPerRoundAndStandardNormal() {
        GaussianNoise a = GaussianNoise.forRound(42, 3, 1);
        GaussianNoise b = GaussianNoise.forRound(42, 3, 1);
        GaussianNoise otherRound = GaussianNoise.forRound(42, 4, 1);
        GaussianNoise otherSalt = GaussianNoise.forRound(42, 3, 2);
        double first = a.next();
        assertThat(b.next()).isEqualTo(first);
        assertThat(otherRound.next()).isNotEqualTo(first);
        assertThat(otherSalt.next()).isNotEqualTo(first);
        int n = 200_000;
        double sum = 0;
        double sq = 0;
        int beyond2 = 0;
        GaussianNoise g = GaussianNoise.forRound(1, 1, 1);
        for (int i = 0; i < n; i++) {
            double x = g.next();
            sum += x;
            sq += x * x;
            beyond2 += Math.abs(x) > 2 ? 1 : 0;
        }
        // 6-sigma bounds on the mean, variance and P(|x| > 2) = 0.0455
        assertThat(sum / n).isCloseTo(0, within(6 / Math.sqrt(n)));
        assertThat(sq / n).isCloseTo(1, within(6 * Math.sqrt(2.0 / n)));
        assertThat((double) beyond2 / n).isCloseTo(0.0455, within(6 * Math.sqrt(0.0455 * 0.9545 / n)));
    }

    @Test
    void poissonSamplingIsSeededAndHasRateQ() {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            ids.add(String.format("c%04d", i));
        }
        assertThat(PoissonSampling.sample(ids, 0.1, 5, 2)).isEqualTo(PoissonSampling.sample(ids, 0.1, 5, 2));
        assertThat(PoissonSampling.sample(ids, 0.1, 5, 2)).isNotEqualTo(PoissonSampling.sample(ids, 0.1, 5, 3));
        assertThat(PoissonSampling.sample(ids, 1.0, 5, 2)).isEqualTo(ids);
        long total = 0;
        for (int round = 1; round <= 100; round++) {
            List<String> s = PoissonSampling.sample(ids, 0.1, 5, round);
            assertThat(s).isSorted().isSubsetOf(ids);
            total += s.size();
        }
        // mean 10,000 draws, sd sqrt(100000·0.09) ≈ 95
        assertThat(total).isBetween(10_000L - 600, 10_000L + 600);
    }

    @Test
    void adaptiveClippingFollowsTheGeometricUpdate() {
        AdaptiveClipping a = new AdaptiveClipping(0.5, 0.2, 1.0);
        // 8 of 10 unclipped, noise draw 0.5, qN = 10: b̄ = 8.5/10 → C·exp(−0.2·0.35)
        assertThat(a.next(2f, 8, 10, 0.5)).isEqualTo((float) (2 * Math.exp(-0.2 * 0.35)));
        // z_Δ = (z^−2 − (2σ_b)^−2)^−1/2: z = 1, σ_b = 1 → (1 − 1/4)^−1/2
        assertThat(a.updateNoiseMultiplier(1.0)).isCloseTo(1 / Math.sqrt(0.75), within(1e-15));
        assertThatThrownBy(() -> a.updateNoiseMultiplier(2.5)).hasMessageContaining("clip_count_noise");
    }
}
