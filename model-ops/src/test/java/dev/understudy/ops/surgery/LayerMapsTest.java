package dev.understudy.ops.surgery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Layer maps against methods.md §0.5 and Block Influence against hand-computed cosines. */
class LayerMapsTest {
    @Test
    void uniformStrideFollowsMethodsSection05() {
        // OPT-1.3B "2-8-2": 20 middle layers → 8; idx_i = round(i * 19/7)
        assertThat(LayerMaps.uniformStride(20, 8)).containsExactly(0, 3, 5, 8, 11, 14, 16, 19);
        // Python's round is half to even: 2.5 → 2 (Java's Math.round would give 3)
        assertThat(LayerMaps.uniformStride(6, 3)).containsExactly(0, 2, 5);
        assertThat(LayerMaps.uniformStride(4, 3)).containsExactly(0, 2, 3); // 1.5 → 2
        assertThat(LayerMaps.uniformStride(5, 5)).containsExactly(0, 1, 2, 3, 4);
        assertThat(LayerMaps.uniformStride(7, 2)).containsExactly(0, 6);
        assertThat(LayerMaps.uniformStride(2, 1)).containsExactly(0);
        assertThat(LayerMaps.emulator(24, 2, 8, 2))
                .containsExactly(0, 1, 2, 5, 7, 10, 13, 16, 18, 21, 22, 23);
    }

    @Test
    void blockInfluenceRemovesLowestScoresAndKeepsOrder() {
        assertThat(LayerMaps.keepHighestScores(new double[] {0.5, 0.1, 0.3, 0.9}, 2, Set.of())).containsExactly(0, 3);
        assertThat(LayerMaps.keepHighestScores(new double[] {0.5, 0.1, 0.3, 0.9}, 2, Set.of(1))).containsExactly(1, 3);
        assertThat(LayerMaps.keepHighestScores(new double[] {0.2, 0.2, 0.2}, 2, Set.of())).containsExactly(1, 2);
        assertThat(LayerMaps.keepCount(32, 0.5)).isEqualTo(16);
        assertThat(LayerMaps.keepCount(4, 0.9)).isEqualTo(1);
        assertThat(LayerMaps.keepCount(5, 0.5)).isEqualTo(3);
    }

    @Test
    void blockInfluenceMatchesHandComputedCosines() {
        // token 1: in [1, 0], out [1, 1] → cos = 1/sqrt(2); token 2: in [0, 1], out [0, 2] → cos = 1
        // token 3: in [1, 0], out [-1, 0] → cos = -1 (padding in the masked case)
        assertThat(BlockInfluence.cosine(new float[] {1, 0}, new float[] {1, 1})).isCloseTo(Math.sqrt(0.5), within(1e-12));
        assertThat(BlockInfluence.cosine(new float[] {0, 0}, new float[] {1, 1})).isZero();
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray in = m.create(new float[] {1, 0, 0, 1, 1, 0}, new Shape(1, 3, 2));
            NDArray out = m.create(new float[] {1, 1, 0, 2, -1, 0}, new Shape(1, 3, 2));
            double all = BlockInfluence.fromSums(BlockInfluence.cosineSum(in, out, null), 3);
            assertThat(all).isCloseTo(1 - (Math.sqrt(0.5) + 1 - 1) / 3, within(1e-12));
            NDArray mask = m.create(new long[] {1, 1, 0}, new Shape(1, 3));
            double masked = BlockInfluence.fromSums(BlockInfluence.cosineSum(in, out, mask), 2);
            assertThat(masked).isCloseTo(1 - (Math.sqrt(0.5) + 1) / 2, within(1e-12));
        }
    }
}
