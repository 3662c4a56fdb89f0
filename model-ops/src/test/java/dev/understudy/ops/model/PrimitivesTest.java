package dev.understudy.ops.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Hand-computed checks of the building blocks. */
class PrimitivesTest {
    static NDManager m;

    @BeforeAll
    static void setUp() {
        m = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        m.close();
    }

    @Test
    void rmsNormMatchesHandComputation() {
        // x = [1, 2, 3, 4]: mean(x^2) = 30/4 = 7.5, rms = sqrt(7.5 + eps)
        NDArray x = m.create(new float[] {1, 2, 3, 4});
        NDArray g = m.create(new float[] {1, 1, 1, 2});
        float[] y = Ops.rmsNorm(x, g, 1e-6).toFloatArray();
        double rms = Math.sqrt(7.5 + 1e-6);
        assertThat(y[0]).isCloseTo((float) (1 / rms), within(1e-6f));
        assertThat(y[1]).isCloseTo((float) (2 / rms), within(1e-6f));
        assertThat(y[2]).isCloseTo((float) (3 / rms), within(1e-6f));
        assertThat(y[3]).isCloseTo((float) (2 * 4 / rms), within(1e-6f));
    }

    @Test
    void ropeMatchesHandComputationAtPositionOne() {
        // head_dim 4, theta 10000: inv_freq = [1, 10000^(-1/2)] = [1, 0.01]; at position 1 the
        // angles are [1, 0.01, 1, 0.01]. rotate_half([1,2,3,4]) = [-3, -4, 1, 2].
        ModelConfig c = ModelConfig.llama(8, 8, 1, 2, 2, 8, 4);
        NDArray[] tables = DecoderModel.ropeTables(m, c, DataType.FLOAT32);
        NDArray pos = m.create(new long[] {1}, new Shape(1, 1));
        NDArray cos = Ops.embedding(pos, tables[0]).expandDims(1);
        NDArray sin = Ops.embedding(pos, tables[1]).expandDims(1);
        NDArray x = m.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 1, 4));
        float[] y = DecoderModel.rope(x, cos, sin).toFloatArray();
        double c1 = Math.cos(1), s1 = Math.sin(1), c2 = Math.cos(0.01), s2 = Math.sin(0.01);
        assertThat(y[0]).isCloseTo((float) (1 * c1 - 3 * s1), within(1e-6f));
        assertThat(y[1]).isCloseTo((float) (2 * c2 - 4 * s2), within(1e-6f));
        assertThat(y[2]).isCloseTo((float) (3 * c1 + 1 * s1), within(1e-6f));
        assertThat(y[3]).isCloseTo((float) (4 * c2 + 2 * s2), within(1e-6f));
        // position 0 is the identity
        NDArray p0 = m.create(new long[] {0}, new Shape(1, 1));
        float[] y0 = DecoderModel.rope(x, Ops.embedding(p0, tables[0]).expandDims(1),
                Ops.embedding(p0, tables[1]).expandDims(1)).toFloatArray();
        assertThat(y0).containsExactly(1, 2, 3, 4);
    }

    @Test
    void groupedQueryHeadsReadTheirOwnKvHead() {
        // H = 4 query heads over KV = 2 heads: heads 0,1 read kv head 0, heads 2,3 read kv head 1.
        // With constant values (1 for kv head 0, 2 for kv head 1) every softmax mix returns the constant.
        int b = 1, h = 4, kv = 2, t = 3, hd = 2;
        NDArray q = m.randomNormal(new Shape(b, h, t, hd));
        NDArray k = m.randomNormal(new Shape(b, kv, t, hd));
        float[] vals = new float[b * kv * t * hd];
        for (int i = 0; i < vals.length; i++) {
            vals[i] = i < t * hd ? 1f : 2f;
        }
        NDArray v = m.create(vals, new Shape(b, kv, t, hd));
        NDArray mask = m.zeros(new Shape(1, 1, t, t));
        float[] out = DecoderModel.groupedAttention(q, k, v, mask, kv, null, 0).toFloatArray(); // (1, T, H*hd)
        for (int ti = 0; ti < t; ti++) {
            for (int head = 0; head < h; head++) {
                for (int d = 0; d < hd; d++) {
                    assertThat(out[ti * h * hd + head * hd + d]).as("t=%s head=%s", ti, head)
                            .isCloseTo(head < 2 ? 1f : 2f, within(1e-6f));
                }
            }
        }
    }

    @Test
    void groupedAttentionMatchesNaiveRepeatKv() {
        int b = 2, h = 6, kv = 3, t = 4, s = 5, hd = 4;
        SplittableRandom r = new SplittableRandom(1);
        float[] qv = rand(b * h * t * hd, r), kvv = rand(b * kv * s * hd, r), vv = rand(b * kv * s * hd, r);
        float[] maskv = new float[b * t * s];
        for (int i = 0; i < maskv.length; i++) {
            maskv[i] = r.nextInt(4) == 0 ? -1e9f : 0f;
        }
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t; ti++) {
                maskv[(bi * t + ti) * s] = 0f; // every row sees at least one key
            }
        }
        float[] got = DecoderModel.groupedAttention(m.create(qv, new Shape(b, h, t, hd)), m.create(kvv, new Shape(b, kv, s, hd)),
                m.create(vv, new Shape(b, kv, s, hd)), m.create(maskv, new Shape(b, 1, t, s)), kv, null, 0).toFloatArray();
        for (int bi = 0; bi < b; bi++) {
            for (int head = 0; head < h; head++) {
                int kh = head / (h / kv); // repeat_kv mapping
                for (int ti = 0; ti < t; ti++) {
                    double[] w = new double[s];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int si = 0; si < s; si++) {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) {
                            dot += qv[((bi * h + head) * t + ti) * hd + d] * kvv[((bi * kv + kh) * s + si) * hd + d];
                        }
                        w[si] = dot / Math.sqrt(hd) + maskv[(bi * t + ti) * s + si];
                        max = Math.max(max, w[si]);
                    }
                    double z = 0;
                    for (int si = 0; si < s; si++) {
                        w[si] = Math.exp(w[si] - max);
                        z += w[si];
                    }
                    for (int d = 0; d < hd; d++) {
                        double o = 0;
                        for (int si = 0; si < s; si++) {
                            o += w[si] / z * vv[((bi * kv + kh) * s + si) * hd + d];
                        }
                        assertThat(got[(bi * t + ti) * h * hd + head * hd + d]).isCloseTo((float) o, within(1e-5f));
                    }
                }
            }
        }
    }

    @Test
    void gpt2Conv1dWeightsAreTransposedOnLoadAndBackOnExport() {
        ModelConfig c = ModelConfig.gpt2(8, 4, 1, 2, 8).withDropout(0, 0, 0);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        SplittableRandom r = new SplittableRandom(3);
        for (var e : DecoderModel.parameterShapes(c).entrySet()) {
            int n = (int) DecoderModel.numel(e.getValue());
            tensors.put(e.getKey(), new HostTensor(e.getValue(), rand(n, r)));
        }
        // c_attn on disk is Conv1D [in=4, out=12]: y = x @ W + b
        HostTensor w = tensors.get("transformer.h.0.attn.c_attn.weight");
        HostTensor bias = tensors.get("transformer.h.0.attn.c_attn.bias");
        assertThat(w.shape()).containsExactly(4, 12);
        try (DecoderModel model = DecoderModel.fromTensors(c, tensors, "test", m, DataType.FLOAT32)) {
            NDArray internal = model.parameters().get("transformer.h.0.attn.c_attn.weight");
            assertThat(internal.getShape()).isEqualTo(new Shape(12, 4));
            float[] x = {0.5f, -1f, 2f, 0.25f};
            float[] y = Ops.linear(m.create(x, new Shape(1, 4)), internal,
                    model.parameters().get("transformer.h.0.attn.c_attn.bias")).toFloatArray();
            for (int o = 0; o < 12; o++) {
                double expect = bias.values()[o];
                for (int i = 0; i < 4; i++) {
                    expect += x[i] * w.values()[i * 12 + o];
                }
                assertThat(y[o]).isCloseTo((float) expect, within(1e-5f));
            }
            HostTensor back = model.exportTensors().get("transformer.h.0.attn.c_attn.weight");
            assertThat(back.shape()).containsExactly(4, 12);
            assertThat(back.values()).isEqualTo(w.values());
        }
    }

    @Test
    void geluTanhMatchesFormula() {
        float[] x = {-2f, -0.5f, 0f, 1f, 3f};
        float[] y = Ops.geluTanh(m.create(x)).toFloatArray();
        for (int i = 0; i < x.length; i++) {
            double xi = x[i];
            double e = 0.5 * xi * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (xi + 0.044715 * xi * xi * xi)));
            assertThat(y[i]).isCloseTo((float) e, within(1e-6f));
        }
    }

    static float[] rand(int n, SplittableRandom r) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
