package dev.understudy.ops.federation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class AggregationsTest {
    static final float[] A = {1f, 5f, -2f};
    static final float[] B = {3f, -1f, 0f};
    static final float[] C = {2f, 2f, 10f};
    static final float[] D = {4f, 0f, 1f};
    static final float[] E = {100f, -100f, 3f};

    @Test
    void weightedMeanOfHandValues() {
        // [1·1 + 3·3, 1·5 + 3·(-1), 1·(-2) + 3·0] / 4 = [10/4, 2/4, -2/4]
        assertThat(Aggregations.weightedMean(List.of(A, B), new long[] {1, 3})).containsExactly(2.5f, 0.5f, -0.5f);
    }

    @Test
    void medianOfAnOddCountIsTheMiddleValue() {
        // columns sorted: [1, 2, 3] → 2; [-1, 2, 5] → 2; [-2, 0, 10] → 0
        assertThat(Aggregations.coordinateMedian(List.of(A, B, C))).containsExactly(2f, 2f, 0f);
    }

    @Test
    void medianOfAnEvenCountAveragesTheMiddlePair() {
        // columns sorted: [1, 2, 3, 4] → (2+3)/2 = 2.5; [-1, 0, 2, 5] → (0+2)/2 = 1; [-2, 0, 1, 10] → 0.5
        assertThat(Aggregations.coordinateMedian(List.of(A, B, C, D))).containsExactly(2.5f, 1f, 0.5f);
    }

    @Test
    void trimmedMeanDropsTheExtremes() {
        // n = 5, β = 0.2 → drop ⌊0.2·5⌋ = 1 from each end
        // columns sorted: [1, 2, 3, 4, 100] → (2+3+4)/3 = 3; [-100, -1, 0, 2, 5] → (-1+0+2)/3 = 1/3;
        //                 [-2, 0, 1, 3, 10] → (0+1+3)/3 = 4/3
        float[] result = Aggregations.trimmedMean(List.of(A, B, C, D, E), 0.2);
        assertThat(result[0]).isEqualTo(3f);
        assertThat(result[1]).isCloseTo(1f / 3, within(1e-7f));
        assertThat(result[2]).isCloseTo(4f / 3, within(1e-7f));
    }

    @Test
    void trimmedMeanEdgeCases() {
        // β = 0.1, n = 5: ⌊0.5⌋ = 0 trimmed → plain mean [110/5, -94/5, 12/5]
        assertThat(Aggregations.trimmedMean(List.of(A, B, C, D, E), 0.1)).containsExactly(22f, -18.8f, 2.4f);
        // β = 0.4, n = 5: 2 trimmed from each end → the median
        assertThat(Aggregations.trimmedMean(List.of(A, B, C, D, E), 0.4)).containsExactly(3f, 0f, 1f);
        // β = 0.25, n = 4: 1 from each end → mean of the middle pair, the even median
        assertThat(Aggregations.trimmedMean(List.of(A, B, C, D), 0.25)).containsExactly(2.5f, 1f, 0.5f);
    }

    @Test
    void rejectsInvalidInputs() {
        assertThatThrownBy(() -> Aggregations.trimmedMean(List.of(A, B), 0.5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Cannot set server.beta to 0.5: the value must be in [0, 0.5)");
        assertThatThrownBy(() -> Aggregations.trimmedMean(List.of(A, B), -0.1))
                .hasMessage("Cannot set server.beta to -0.1: the value must be in [0, 0.5)");
        assertThatThrownBy(() -> Aggregations.coordinateMedian(List.of()))
                .hasMessage("Cannot aggregate an empty list of vectors");
        assertThatThrownBy(() -> Aggregations.coordinateMedian(List.of(A, new float[2])))
                .hasMessage("Vector 1 has 2 elements but vector 0 has 3");
        assertThatThrownBy(() -> Aggregations.weightedMean(List.of(A, B), new long[] {0, 0}))
                .hasMessage("The weights [0, 0] sum to 0");
    }
}
