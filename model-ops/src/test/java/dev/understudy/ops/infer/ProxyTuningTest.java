package dev.understudy.ops.infer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ProxyTuningTest {
    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * 3);
        }
        return x;
    }

    @Test
    void arithmeticMatchesHandComputedLogits() {
        // all values exact in binary, so the expected results are exact
        float[] large = {1f, 2f, 3f, -0.5f};
        float[] expert = {0.5f, 1f, 4f, 2f};
        float[] anti = {1f, 1f, 1f, -2f};
        // α = 1.5: 1 + 1.5·(−0.5) = 0.25 ; 2 + 0 = 2 ; 3 + 1.5·3 = 7.5 ; −0.5 + 1.5·4 = 5.5
        assertThat(ProxyTuning.combine(large, expert, anti, 1.5)).containsExactly(0.25f, 2f, 7.5f, 5.5f);
        // α = 1 (proxy-tuning's default): 0.5, 2, 6, 3.5
        assertThat(ProxyTuning.combine(large, expert, anti, 1.0)).containsExactly(0.5f, 2f, 6f, 3.5f);
    }

    @Test
    void alphaZeroAndEqualExpertsGiveTheLargeLogitsExactly() {
        float[] large = random(257, 1);
        float[] expert = random(257, 2);
        float[] anti = random(257, 3);
        assertThat(ProxyTuning.combine(large, expert, anti, 0.0)).containsExactly(large);
        assertThat(ProxyTuning.combine(large, expert, expert.clone(), 1.7)).containsExactly(large);
        assertThat(ProxyTuning.combine(large, expert, anti, 1.0)).isNotEqualTo(large);
    }

    @Test
    void extraExpertIdsAreTruncatedAndMissingOnesRejected() {
        float[] large = {1f, 2f, 3f};
        float[] expert = {2f, 2f, 2f, 100f, -100f}; // two extra trailing ids
        float[] anti = {1f, 1f, 1f, 7f};
        assertThat(ProxyTuning.combine(large, expert, anti, 1.0)).containsExactly(2f, 3f, 4f);
        assertThat(ProxyTuning.checkVocab(32000, 32016, 32016)).isEqualTo(32000);
        assertThatThrownBy(() -> ProxyTuning.combine(new float[] {1, 2, 3, 4, 5}, expert, anti, 1.0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("anti-expert) has 4 token ids but the large model has 5");
        assertThatThrownBy(() -> ProxyTuning.checkVocab(32000, 31999, 32000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expert) has 31999 token ids but the large model has 32000")
                .hasMessageContaining("share one tokenizer");
        assertThatThrownBy(() -> ProxyTuning.checkVocab(32000, 32000, 100))
                .hasMessageContaining("anti-expert) has 100 token ids but the large model has 32000");
        assertThatThrownBy(() -> ProxyTuning.combine(large, expert, anti, -1))
                .hasMessageContaining("Cannot set proxy alpha to -1.0");
        assertThatThrownBy(() -> ProxyTuning.combine(large, expert, anti, Double.NaN))
                .hasMessageContaining("Cannot set proxy alpha to NaN");
    }

    @Test
    void ndArrayVersionEqualsHostVersionBitForBit() {
        int b = 2;
        int t = 3;
        int v = 11;
        float[] l = random(b * t * v, 4);
        float[] e = random(b * t * (v + 2), 5);
        float[] a = random(b * t * (v + 1), 6);
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray out = ProxyTuning.combine(m.create(l, new Shape(b, t, v)), m.create(e, new Shape(b, t, v + 2)),
                    m.create(a, new Shape(b, t, v + 1)), 0.7);
            assertThat(out.getShape()).isEqualTo(new Shape(b, t, v));
            float[] got = out.toFloatArray();
            for (int row = 0; row < b * t; row++) {
                float[] lr = java.util.Arrays.copyOfRange(l, row * v, row * v + v);
                float[] er = java.util.Arrays.copyOfRange(e, row * (v + 2), row * (v + 2) + v + 2);
                float[] ar = java.util.Arrays.copyOfRange(a, row * (v + 1), row * (v + 1) + v + 1);
                float[] want = ProxyTuning.combine(lr, er, ar, 0.7);
                assertThat(java.util.Arrays.copyOfRange(got, row * v, row * v + v)).as("row %s", row).containsExactly(want);
            }
            // α = 0 is exact on the NDArray path too
            NDArray zero = ProxyTuning.combine(m.create(l, new Shape(b, t, v)), m.create(e, new Shape(b, t, v + 2)),
                    m.create(a, new Shape(b, t, v + 1)), 0.0);
            assertThat(zero.toFloatArray()).containsExactly(l);
            assertThatThrownBy(() -> ProxyTuning.combine(m.create(l, new Shape(b, t, v)),
                    m.create(new float[b * t * (v - 1)], new Shape(b, t, v - 1)), m.create(a, new Shape(b, t, v + 1)), 1))
                    .hasMessageContaining("expert) has 10 token ids but the large model has 11");
            assertThatThrownBy(() -> ProxyTuning.combine(m.create(l, new Shape(b, t, v)),
                    m.create(new float[t * (v + 2)], new Shape(1, t, v + 2)), m.create(a, new Shape(b, t, v + 1)), 1))
                    .hasMessageContaining("differ outside the vocabulary axis");
        }
    }
}
