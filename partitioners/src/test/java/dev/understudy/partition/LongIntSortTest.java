package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LongIntSortTest {

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 47, 48, 49, 1_000, 65_535, 65_536, 200_000})
    void sortsLikeArraysSortAndCarriesThePayload(int n) {
        // Prepare: random signed keys with some duplicates, inside a larger array (offset 3).
        Random r = new Random(n);
        long[] keys = new long[n + 6];
        int[] values = new int[n + 6];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = r.nextInt(4) == 0 ? r.nextInt(10) - 5 : r.nextLong();
            values[i] = i;
        }
        long[] original = keys.clone();
        long[] expected = Arrays.copyOfRange(keys, 3, 3 + n);
        Arrays.sort(expected);
        // Execute
        LongIntSort.sort(keys, values, 3, 3 + n, new long[n], new int[n]);
        // Assert
        assertThat(Arrays.copyOfRange(keys, 3, 3 + n)).isEqualTo(expected);
        for (int i = 3; i < 3 + n; i++) {
            assertThat(original[values[i]]).isEqualTo(keys[i]);
        }
        assertThat(Arrays.stream(values, 3, 3 + n).sorted().toArray())
                .isEqualTo(java.util.stream.IntStream.range(3, 3 + n).toArray());
        // Outside the range nothing moved.
        assertThat(keys[0]).isEqualTo(original[0]);
        assertThat(keys[n + 5]).isEqualTo(original[n + 5]);
    }
}
