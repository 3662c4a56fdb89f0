package dev.understudy.ops.surgery;

import static dev.understudy.ops.surgery.SurgeryFixtures.randomTensors;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Block Influence (ShortGPT, Men et al. 2024, Eq. 1; FedProxy §4.1; methods.md §3): {@code BI_i = 1
 * − E_valid tokens[cos(h_in, h_out)]}, checked against cosines worked out by hand.
 */
class BlockInfluenceTest {
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
    void cosineOfHandPickedVectors() {
        assertThat(BlockInfluence.cosine(new float[] {1, 0}, new float[] {1, 1})).isCloseTo(1 / Math.sqrt(2), within(1e-15));
        assertThat(BlockInfluence.cosine(new float[] {3, 4}, new float[] {6, 8})).isCloseTo(1, within(1e-15));
        assertThat(BlockInfluence.cosine(new float[] {0, 2}, new float[] {0, -1})).isCloseTo(-1, within(1e-15));
        assertThat(BlockInfluence.cosine(new float[] {1, 2, 2}, new float[] {2, -1, 0})).isZero(); // orthogonal
        assertThat(BlockInfluence.cosine(new float[] {0, 0}, new float[] {1, 1})).isZero(); // documented convention
    }

    /**
     * Batch of 2 sequences × 3 tokens, d = 2, with the last token of sequence 1 padding:
     *
     * <pre>
     * token  h_in     h_out     cos
     * (0,0)  (1,0)    (1,1)     1/√2
     * (0,1)  (3,4)    (6,8)     1
     * (0,2)  (0,2)    (0,−1)   −1
     * (1,0)  (1,1)    (1,−1)    0
     * (1,1)  (2,0)    (1,√3)    1/2
     * (1,2)  (1,0)    (−1,0)   −1   padding: excluded
     * </pre>
     *
     * Valid cosine sum = 1/√2 + 1 − 1 + 0 + 1/2 = 1/√2 + 1/2 over 5 tokens, so BI = 1 − (1/√2 + 1/2)/5.
     * Without the mask the padded token adds −1: BI = 1 − (1/√2 − 1/2)/6.
     */
    @Test
    void maskedMeanOverValidTokensMatchesHandComputation() {
        float s3 = (float) Math.sqrt(3);
        NDArray hIn = m.create(new float[] {1, 0, 3, 4, 0, 2, 1, 1, 2, 0, 1, 0}, new Shape(2, 3, 2));
        NDArray hOut = m.create(new float[] {1, 1, 6, 8, 0, -1, 1, -1, 1, s3, -1, 0}, new Shape(2, 3, 2));
        NDArray mask = m.create(new long[] {1, 1, 1, 1, 1, 0}, new Shape(2, 3));

        double masked = BlockInfluence.cosineSum(hIn, hOut, mask);
        assertThat(masked).isCloseTo(1 / Math.sqrt(2) + 0.5, within(1e-7));
        assertThat(BlockInfluence.fromSums(masked, 5)).isCloseTo(1 - (1 / Math.sqrt(2) + 0.5) / 5, within(1e-7));

        double all = BlockInfluence.cosineSum(hIn, hOut, null);
        assertThat(BlockInfluence.fromSums(all, 6)).isCloseTo(1 - (1 / Math.sqrt(2) - 0.5) / 6, within(1e-7));
    }

    @Test
    void zeroVectorsCountAsCosineZeroAndNoTokensIsAnError() {
        NDArray hIn = m.create(new float[] {0, 0, 1, 0}, new Shape(1, 2, 2));
        NDArray hOut = m.create(new float[] {1, 1, 2, 0}, new Shape(1, 2, 2));
        assertThat(BlockInfluence.cosineSum(hIn, hOut, null)).isCloseTo(1, within(1e-12)); // 0 + 1
        assertThatThrownBy(() -> BlockInfluence.fromSums(0, 0)).hasMessageContaining("at least one calibration token");
    }

    /**
     * Through a real model: a block whose residual branches are zeroed ({@code o_proj}, {@code
     * down_proj} = 0) returns its input unchanged, so cos = 1 on every token and its BI is exactly 0
     * (up to float32 rounding); dropping by BI then removes that block first. The other blocks' BI
     * equals 1 − mean cosine computed here token by token from the per-block hidden states.
     */
    @Test
    void identityBlockHasZeroInfluenceAndIsDroppedFirst() {
        ModelConfig c = SurgeryFixtures.llamaGqa();
        Map<String, HostTensor> t = new LinkedHashMap<>(randomTensors(c, 7, m));
        for (String name : List.copyOf(t.keySet())) {
            if (name.startsWith("model.layers.1.") && (name.contains("o_proj") || name.contains("down_proj"))) {
                t.put(name, new HostTensor(t.get(name).shape(), new float[t.get(name).values().length]));
            }
        }
        List<int[]> seqs = List.of(new int[] {3, 5, 7, 9, 11}, new int[] {2, 4, 6});
        Calibration cal;
        float[][][] states; // per layer boundary: embeddings, block 0, 1, 2 outputs for each sequence token
        try (NDManager sub = m.newSubManager();
                DecoderModel model = DecoderModel.fromTensors(c, t, "bi", sub, DataType.FLOAT32)) {
            cal = Calibration.measure(model, seqs, 2, 0);
            states = perTokenStates(model, seqs);
        }
        assertThat(cal.tokens()).isEqualTo(8);
        assertThat(cal.blockInfluence()[1]).isCloseTo(0, within(1e-6));
        for (int layer : new int[] {0, 2}) {
            double sum = 0;
            for (int tok = 0; tok < 8; tok++) {
                sum += BlockInfluence.cosine(states[layer][tok], states[layer + 1][tok]);
            }
            assertThat(cal.blockInfluence()[layer]).as("layer %s", layer).isCloseTo(1 - sum / 8, within(1e-5));
            assertThat(cal.blockInfluence()[layer]).isGreaterThan(1e-3);
        }
        DerivedModel d = SubModels.dropByBlockInfluence(c, t, cal.blockInfluence(), 2, Set.of(), cal.tokens());
        assertThat(d.derivation().layerMap()).containsExactly(0, 2);
    }

    /** Every layer boundary's hidden state for each real token, one sequence at a time (no padding). */
    private static float[][][] perTokenStates(DecoderModel model, List<int[]> seqs) {
        int layers = model.config().numLayers();
        List<List<float[]>> out = new java.util.ArrayList<>();
        for (int i = 0; i <= layers; i++) {
            out.add(new java.util.ArrayList<>());
        }
        for (int[] s : seqs) {
            long[] ids = new long[s.length];
            for (int i = 0; i < s.length; i++) {
                ids[i] = s[i];
            }
            List<NDArray> hs = new java.util.ArrayList<>();
            dev.understudy.ops.model.ForwardTap tap = new dev.understudy.ops.model.ForwardTap() {
                @Override
                public void embeddings(NDArray x) {
                    hs.add(x.toType(DataType.FLOAT32, true));
                }

                @Override
                public void blockOutput(int layer, NDArray x) {
                    hs.add(x.toType(DataType.FLOAT32, true));
                }
            };
            try (NDManager sub = model.manager().newSubManager()) {
                NDArray idArr = sub.create(ids, new Shape(1, s.length));
                model.hiddenStates(idArr, null, null, null, null, null, tap);
                int d = model.config().hiddenSize();
                for (int l = 0; l <= layers; l++) {
                    float[] v = hs.get(l).toFloatArray();
                    for (int tok = 0; tok < s.length; tok++) {
                        out.get(l).add(java.util.Arrays.copyOfRange(v, tok * d, (tok + 1) * d));
                    }
                }
            }
        }
        float[][][] r = new float[layers + 1][][];
        for (int l = 0; l <= layers; l++) {
            r[l] = out.get(l).toArray(new float[0][]);
        }
        return r;
    }
}
