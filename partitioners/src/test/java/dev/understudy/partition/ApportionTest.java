package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ApportionTest {

    @Test
    void hamiltonTextbookExample() {
        // 7 seats over populations 5:3:2 → quotas 3.5, 2.1, 1.4 → floors 3, 2, 1 → the spare seat goes
        // to the largest remainder (0.5).
        assertThat(Apportion.largestRemainder(7, new double[] {5, 3, 2}, 1)).containsExactly(4, 2, 1);
        // 10 over 1:1:1 → 3.33 each: one party gets 4; which one depends only on the tie seed.
        long[] parts = Apportion.largestRemainder(10, new double[] {1, 1, 1}, 1);
        assertThat(Arrays.stream(parts).sum()).isEqualTo(10);
        assertThat(parts).containsOnly(3, 4);
        assertThat(Apportion.largestRemainder(10, new double[] {1, 1, 1}, 1)).isEqualTo(parts);
    }

    @Test
    void tieSeedSpreadsTheSpareUnitsOverParties() {
        // With equal weights the spare unit must not always go to party 0.
        boolean[] received = new boolean[5];
        for (long seed = 0; seed < 50; seed++) {
            long[] parts = Apportion.largestRemainder(6, new double[] {1, 1, 1, 1, 1}, seed);
            for (int i = 0; i < 5; i++) {
                if (parts[i] == 2) {
                    received[i] = true;
                }
            }
        }
        assertThat(received).containsOnly(true);
    }

    @Test
    void capsAreFilledFirstAndTheRestReshared() {
        // 10 over 10:1:1 with party 0 capped at 2 → 2, then 8 split 1:1.
        assertThat(Apportion.largestRemainder(10, new double[] {10, 1, 1}, new long[] {2, 100, 100}, 3))
                .containsExactly(2, 4, 4);
        // Chained caps: party 0 capped, which pushes party 1 over its cap too.
        assertThat(Apportion.largestRemainder(12, new double[] {6, 5, 1}, new long[] {1, 3, 100}, 3))
                .containsExactly(1, 3, 8);
    }

    @Test
    void zeroWeightsGetNothing() {
        assertThat(Apportion.largestRemainder(5, new double[] {0, 1, 0, 1}, 9)).satisfies(p -> {
            assertThat(p[0]).isZero();
            assertThat(p[2]).isZero();
            assertThat(p[1] + p[3]).isEqualTo(5);
        });
    }

    @Test
    void infeasibleCapsAreRejected() {
        assertThatThrownBy(() -> Apportion.largestRemainder(10, new double[] {1, 1}, new long[] {3, 3}, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot apportion 10 units");
        assertThatThrownBy(() -> Apportion.largestRemainder(1, new double[] {0, 0}, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void randomInputsSumExactlyStayWithinCapsAndWithinOneOfTheShare() {
        Random r = new Random(1);
        for (int t = 0; t < 2000; t++) {
            // Prepare
            int n = 1 + r.nextInt(30);
            double[] w = new double[n];
            long[] caps = new long[n];
            long capacity = 0;
            boolean capped = r.nextBoolean();
            for (int i = 0; i < n; i++) {
                w[i] = r.nextInt(4) == 0 ? 0 : r.nextDouble() * 10;
                caps[i] = r.nextInt(50);
                if (w[i] > 0) {
                    capacity += capped ? caps[i] : 1_000_000;
                }
            }
            if (capacity == 0) {
                continue;
            }
            long total = (long) (r.nextDouble() * Math.min(capacity, 2_000));
            // Execute
            long[] parts = Apportion.largestRemainder(total, w, capped ? caps : null, t);
            // Assert
            assertThat(Arrays.stream(parts).sum()).isEqualTo(total);
            double wSum = Arrays.stream(w).sum();
            for (int i = 0; i < n; i++) {
                assertThat(parts[i]).isGreaterThanOrEqualTo(0);
                if (w[i] == 0) {
                    assertThat(parts[i]).isZero();
                }
                if (capped) {
                    assertThat(parts[i]).isLessThanOrEqualTo(caps[i]);
                } else {
                    assertThat(Math.abs(parts[i] - total * w[i] / wSum)).isLessThan(1.0);
                }
            }
        }
    }
}
