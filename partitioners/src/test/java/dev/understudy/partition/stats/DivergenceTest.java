package dev.understudy.partition.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class DivergenceTest {

    @Test
    void jsDivergenceOfHandComputedPairs() {
        // Disjoint supports: the maximum, 1 bit.
        assertThat(Divergence.jsDivergence(new double[] {1, 0}, new double[] {0, 1})).isCloseTo(1.0, within(1e-12));
        // Identical: 0.
        assertThat(Divergence.jsDivergence(new double[] {0.3, 0.7}, new double[] {0.3, 0.7})).isCloseTo(0.0, within(1e-12));
        // p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4);
        // KL(p||m) = log2(4/3) = 0.4150375; KL(q||m) = ½·log2(2/3) + ½·log2(2) = 0.2075187;
        // JS = ½(0.4150375 + 0.2075187) = 0.3112781.
        assertThat(Divergence.jsDivergence(new double[] {1, 0}, new double[] {0.5, 0.5})).isCloseTo(0.3112781, within(1e-7));
        assertThat(Divergence.jsDistance(new double[] {1, 0}, new double[] {0.5, 0.5}))
                .isCloseTo(Math.sqrt(0.3112781), within(1e-7));
    }

    @Test
    void klDivergenceInBits() {
        // KL((1/2,1/2) || (1/4,3/4)) = ½·log2(2) + ½·log2(2/3) = 0.5 - 0.2924813 = 0.2075187.
        assertThat(Divergence.klDivergenceBits(new double[] {0.5, 0.5}, new double[] {0.25, 0.75}))
                .isCloseTo(0.2075187, within(1e-7));
        assertThat(Divergence.klDivergenceBits(new double[] {1, 0}, new double[] {0, 1})).isInfinite();
    }

    @Test
    void effectiveNumberOfLabels() {
        assertThat(Divergence.effectiveNumber(new double[] {0.25, 0.25, 0.25, 0.25})).isCloseTo(4.0, within(1e-12));
        assertThat(Divergence.effectiveNumber(new double[] {1, 0, 0})).isCloseTo(1.0, within(1e-12));
        // H(0.5, 0.25, 0.25) = 1.5·ln 2 → exp = 2^1.5 = 2.8284271.
        assertThat(Divergence.effectiveNumber(new double[] {0.5, 0.25, 0.25})).isCloseTo(2.8284271, within(1e-7));
    }

    @Test
    void earthMoversDistanceOnOrderedPoints() {
        // All mass moves from the first to the last point: distance = span.
        assertThat(Divergence.emd1d(new double[] {1, 0, 0}, new double[] {0, 0, 1}, new double[] {0, 1, 2}))
                .isCloseTo(2.0, within(1e-12));
        assertThat(Divergence.emd1d(new double[] {1, 0, 0}, new double[] {0, 0, 1}, new double[] {0, 1, 5}))
                .isCloseTo(5.0, within(1e-12));
        // Half the mass moves one step: 0.5.
        assertThat(Divergence.emd1d(new double[] {0.5, 0.5, 0}, new double[] {0.5, 0, 0.5}, new double[] {0, 1, 2}))
                .isCloseTo(0.5, within(1e-12));
    }

    @Test
    void normalizeHandlesAllZeroCounts() {
        assertThat(Divergence.normalize(new long[] {1, 3})).containsExactly(0.25, 0.75);
        assertThat(Divergence.normalize(new long[] {0, 0})).containsExactly(0.0, 0.0);
    }
}
