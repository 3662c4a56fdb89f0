package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SamplingTest {

    @ParameterizedTest
    @ValueSource(doubles = {0.1, 0.5, 1.0, 2.5, 40.0})
    void gammaHasMeanAndVarianceEqualToShape(double shape) {
        // Prepare
        SeededRandom r = new SeededRandom(17);
        int n = 40_000;
        double sum = 0;
        double sumSq = 0;
        // Execute
        for (int i = 0; i < n; i++) {
            double x = Math.exp(Sampling.logGamma(shape, r));
            sum += x;
            sumSq += x * x;
        }
        double mean = sum / n;
        double variance = sumSq / n - mean * mean;
        // Assert: Gamma(k, 1) has mean k and variance k; the standard error of the mean is sqrt(k / n).
        double se = Math.sqrt(shape / n);
        assertThat(mean).isCloseTo(shape, org.assertj.core.data.Offset.offset(6 * se));
        assertThat(variance / shape).isBetween(0.85, 1.15);
    }

    @Test
    void dirichletIsAProbabilityVectorWithMeanOneOverK() {
        SeededRandom r = new SeededRandom(2);
        double[] mean = new double[4];
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            double[] p = Sampling.dirichlet(0.7, 4, r);
            double sum = 0;
            for (int k = 0; k < 4; k++) {
                assertThat(p[k]).isBetween(0.0, 1.0);
                sum += p[k];
                mean[k] += p[k] / n;
            }
            assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
        }
        for (double m : mean) {
            assertThat(m).isBetween(0.24, 0.26);
        }
    }

    @Test
    void tinyAlphaStillGivesAFiniteNormalisedVector() {
        // With α = 0.001, U^(1/α) underflows to 0 almost always; log space keeps the draw usable.
        SeededRandom r = new SeededRandom(4);
        int concentrated = 0;
        for (int i = 0; i < 1000; i++) {
            double[] p = Sampling.dirichlet(0.001, 3, r);
            double sum = p[0] + p[1] + p[2];
            assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
            if (Math.max(p[0], Math.max(p[1], p[2])) > 0.99) {
                concentrated++;
            }
        }
        // Almost all mass sits on one category; two gamma draws within a factor of 100 of each other
        // happen in a few percent of draws at α = 0.001.
        assertThat(concentrated).isGreaterThan(950);
    }

    @Test
    void hugeAlphaIsNearlyUniform() {
        double[] p = Sampling.dirichlet(1e6, 5, new SeededRandom(9));
        for (double v : p) {
            assertThat(v).isBetween(0.199, 0.201);
        }
    }
}
