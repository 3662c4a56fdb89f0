package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SeededRandomTest {

    @Test
    void nextLongIsSplitMix64AsInTheJdk() {
        // SplitMix64 reference output for seed 0 (Vigna's splitmix64.c), and the JDK's SplittableRandom,
        // whose nextLong is the same generator.
        assertThat(new SeededRandom(0).nextLong()).isEqualTo(0xE220A8397B1DCDAFL);
        SeededRandom ours = new SeededRandom(1234);
        SplittableRandom jdk = new SplittableRandom(1234);
        for (int i = 0; i < 1000; i++) {
            assertThat(ours.nextLong()).isEqualTo(jdk.nextLong());
        }
    }

    @Test
    void nextIntIsUniformAndInRange() {
        SeededRandom r = new SeededRandom(3);
        int[] counts = new int[7];
        for (int i = 0; i < 70_000; i++) {
            counts[r.nextInt(7)]++;
        }
        // 10,000 expected per bucket; sd ≈ 93, so ±600 is more than 6 sd.
        for (int c : counts) {
            assertThat(c).isBetween(9_400, 10_600);
        }
    }

    @Test
    void gaussianHasUnitMoments() {
        SeededRandom r = new SeededRandom(11);
        int n = 100_000;
        double sum = 0;
        double sumSq = 0;
        for (int i = 0; i < n; i++) {
            double x = r.nextGaussian();
            sum += x;
            sumSq += x * x;
        }
        assertThat(sum / n).isBetween(-0.02, 0.02);
        assertThat(sumSq / n).isBetween(0.98, 1.02);
    }

    @Test
    void permutationContainsEveryIndexOnce() {
        int[] p = new SeededRandom(8).permutation(1000);
        assertThat(p).hasSize(1000);
        assertThat(java.util.Arrays.stream(p).sorted().toArray()).isEqualTo(java.util.stream.IntStream.range(0, 1000).toArray());
        assertThat(p).isNotEqualTo(java.util.stream.IntStream.range(0, 1000).toArray());
    }

    @Test
    void derivedSeedsDependOnPurposeAndSeed() {
        assertThat(SeededRandom.derive(1, "a")).isNotEqualTo(SeededRandom.derive(1, "b"));
        assertThat(SeededRandom.derive(1, "a")).isNotEqualTo(SeededRandom.derive(2, "a"));
        assertThat(SeededRandom.derive(1, "a")).isEqualTo(RowOrder.hash(1, "a"));
    }
}
