package dev.understudy.ops.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.ForwardTap;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.model.Ops;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** APoZ sums on hand-built activations, merge order, and the in-forward tap. */
class ActivationStatsTest {
    @Test
    void countsExactAndNearZerosOnHandBuiltActivations() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            // [B=1, T=3, N=3]; the third token is padding
            NDArray a = m.create(new float[] {0, 0.0005f, 2, 0, -0.002f, 0, 0, 0, 0}, new Shape(1, 3, 3));
            NDArray mask = m.create(new long[] {1, 1, 0}, new Shape(1, 3));
            assertThat(ActivationStats.countZeros(a, mask, 0)).containsExactly(2, 0, 1);
            assertThat(ActivationStats.countZeros(a, mask, 1e-3)).containsExactly(2, 1, 1);
            assertThat(ActivationStats.countZeros(a, null, 0)).containsExactly(3, 1, 2); // padding counted
            // GELU (erf) is exactly 0 only far below zero: -6 gives 0, -5 does not (methods.md §2 caveat 1)
            NDArray pre = m.create(new float[] {-6f, -5f, -1f});
            assertThat(Ops.gelu(pre).toFloatArray()[0]).isZero();
            assertThat(Ops.gelu(pre).toFloatArray()[1]).isNotZero();
            // SwiGLU's silu(g)·u is exactly 0 only when u or g is exactly 0
            assertThat(ActivationStats.defaultThreshold(ModelConfig.Activation.SILU)).isPositive();
            assertThat(ActivationStats.defaultThreshold(ModelConfig.Activation.GELU)).isZero();
        }
    }

    @Test
    void mergeIsOrderIndependent() {
        List<ActivationStats> parts = new ArrayList<>();
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int c = 0; c < 5; c++) {
            ActivationStats s = new ActivationStats(0);
            for (int layer : new int[] {1, 2}) {
                long[] z = new long[4];
                for (int j = 0; j < 4; j++) {
                    z[j] = r.nextInt(1000);
                }
                s.add(layer, z);
            }
            s.addTokens(1000 + r.nextInt(500));
            parts.add(s);
        }
        ActivationStats forward = new ActivationStats(0);
        parts.forEach(forward::merge);
        ActivationStats backward = new ActivationStats(0);
        for (int i = parts.size() - 1; i >= 0; i--) {
            backward.merge(parts.get(i));
        }
        ActivationStats tree = new ActivationStats(0).merge(new ActivationStats(0).merge(parts.get(3)).merge(parts.get(0)))
                .merge(new ActivationStats(0).merge(parts.get(4)).merge(parts.get(1)).merge(parts.get(2)));
        assertThat(backward).isEqualTo(forward);
        assertThat(tree).isEqualTo(forward);
        assertThat(forward.apoz(1)[0]).isEqualTo(forward.zeros(1)[0] / (double) forward.tokens());
    }

    @Test
    void tapCountsTheTrainingForwardsActivations() {
        ModelConfig c = ModelConfig.gpt2(16, 8, 2, 2, 8).withIntermediateSizes(List.of(6, 6));
        c = new ModelConfig(c.family(), c.modelType(), c.vocabSize(), c.hiddenSize(), c.numLayers(), c.numHeads(),
                c.numKvHeads(), c.headDim(), c.intermediateSize(), c.maxPositions(), c.normEps(), 0,
                ModelConfig.Activation.RELU, true, true, true, true, 0, 0, 0, 0, -1, -1, -1, List.of());
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel model = DecoderModel.randomInit(c, 5, m, DataType.FLOAT32, 0.5)) {
            NDArray ids = SurgeryFixtures.ids(m, 2, 5, 16, 1);
            NDArray mask = m.create(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, new Shape(2, 5));
            ActivationStats stats = new ActivationStats(0);
            List<long[]> direct = new ArrayList<>();
            ForwardTap both = new ForwardTap() {
                final ForwardTap counting = stats.tap(mask, Set.of(0, 1), false);

                @Override
                public boolean wantsFfnActivation(int layer) {
                    return true;
                }

                @Override
                public void ffnActivation(int layer, NDArray a) {
                    counting.ffnActivation(layer, a);
                    float[] v = a.toFloatArray();
                    long[] z = new long[6];
                    for (int i = 0; i < v.length; i++) {
                        int token = i / 6;
                        if (token < 8 && v[i] == 0f) {
                            z[i % 6]++;
                        }
                    }
                    direct.add(z);
                }
            };
            model.forward(ids, mask, null, null, both);
            assertThat(stats.tokens()).isEqualTo(8);
            assertThat(stats.zeros(0)).containsExactly(direct.get(0));
            assertThat(stats.zeros(1)).containsExactly(direct.get(1));
            assertThat(java.util.Arrays.stream(stats.zeros(0)).sum()).as("ReLU gives zeros").isPositive();
        }
    }
}
