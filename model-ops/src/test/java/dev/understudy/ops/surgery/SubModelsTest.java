package dev.understudy.ops.surgery;

import static dev.understudy.ops.surgery.SurgeryFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.model.ModelConfigs;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FFN pruning and layer dropping: hand-computed saliency, and exactness against the parent. */
class SubModelsTest {
    static NDManager m;

    @BeforeAll
    static void setUp() {
        m = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        m.close();
    }

    /** A one-layer model of hidden size 2 whose FFN has 4 neurons with the weights below. */
    static Map<String, HostTensor> fourNeuron(ModelConfig c) {
        try (DecoderModel model = DecoderModel.randomInit(c, 1, m, ai.djl.ndarray.types.DataType.FLOAT32)) {
            Map<String, HostTensor> t = new LinkedHashMap<>(model.exportTensors());
            if (c.family() == ModelConfig.Family.LLAMA) {
                // gate rows [1,0] [0,0] [2,0] [0,1]; up rows [0,0] [1,0] [0,2] [0,0]; down [2, 4]
                t.put("model.layers.0.mlp.gate_proj.weight", new HostTensor(new long[] {4, 2}, new float[] {1, 0, 0, 0, 2, 0, 0, 1}));
                t.put("model.layers.0.mlp.up_proj.weight", new HostTensor(new long[] {4, 2}, new float[] {0, 0, 1, 0, 0, 2, 0, 0}));
                t.put("model.layers.0.mlp.down_proj.weight", new HostTensor(new long[] {2, 4}, new float[] {0, 3, 0, 0, 0, 4, 0, 1}));
            } else {
                // Conv1D on disk: c_fc [d=2, N=4] (column j = neuron j's input weights), c_proj [N=4, d=2]
                t.put("transformer.h.0.mlp.c_fc.weight", new HostTensor(new long[] {2, 4}, new float[] {1, 0, 2, 0, 0, 1, 2, 1}));
                t.put("transformer.h.0.mlp.c_fc.bias", new HostTensor(new long[] {4}, new float[] {9, 8, 7, 6}));
                t.put("transformer.h.0.mlp.c_proj.weight", new HostTensor(new long[] {4, 2}, new float[] {0, 0, 3, 4, 0, 0, 0, 1}));
            }
            return t;
        }
    }

    @Test
    void swigluSaliencyAndPruningMatchHandComputation() {
        ModelConfig c = ModelConfig.llama(8, 2, 1, 1, 1, 4, 8);
        Map<String, HostTensor> t = fourNeuron(c);
        // s_j^2 = |gate_j|^2 + |up_j|^2 + |down_:j|^2 = 1+0+0, 0+1+25, 4+4+0, 1+0+1
        double[] s = Saliency.weight(DecoderLayouts.of(c), t, 0);
        assertThat(s).containsExactly(new double[] {1, Math.sqrt(26), Math.sqrt(8), Math.sqrt(2)}, within(1e-12));
        assertThat(Saliency.topK(s, 2)).containsExactly(1, 2);
        assertThat(Saliency.topK(s, 3)).containsExactly(1, 2, 3);

        DerivedModel d = SubModels.pruneBySaliency(c, t, 2, Set.of());
        assertThat(d.config().intermediateSize()).isEqualTo(2);
        assertThat(d.tensors().get("model.layers.0.mlp.gate_proj.weight").values()).containsExactly(0, 0, 2, 0);
        assertThat(d.tensors().get("model.layers.0.mlp.up_proj.weight").values()).containsExactly(1, 0, 0, 2);
        assertThat(d.tensors().get("model.layers.0.mlp.down_proj.weight").values()).containsExactly(3, 0, 4, 0);
        assertThat(d.derivation().keptNeurons(0)).containsExactly(1, 2);
        assertThat(d.derivation().method()).isEqualTo("ffn_prune");
        assertThat(d.tensors().get("model.embed_tokens.weight").values())
                .containsExactly(t.get("model.embed_tokens.weight").values());
    }

    @Test
    void geluSaliencyAndPruningMatchHandComputation() {
        ModelConfig c = ModelConfig.gpt2(8, 2, 1, 1, 8).withIntermediateSizes(List.of(4));
        Map<String, HostTensor> t = fourNeuron(c);
        // c_fc columns [1,0] [0,1] [2,2] [0,1]; c_proj rows [0,0] [3,4] [0,0] [0,1]; biases do not count
        double[] s = Saliency.weight(DecoderLayouts.of(c), t, 0);
        assertThat(s).containsExactly(new double[] {1, Math.sqrt(26), Math.sqrt(8), Math.sqrt(2)}, within(1e-12));
        DerivedModel d = SubModels.pruneBySaliency(c, t, 2, Set.of());
        assertThat(d.tensors().get("transformer.h.0.mlp.c_fc.weight").shape()).containsExactly(2, 2);
        assertThat(d.tensors().get("transformer.h.0.mlp.c_fc.weight").values()).containsExactly(0, 2, 1, 2);
        assertThat(d.tensors().get("transformer.h.0.mlp.c_fc.bias").values()).containsExactly(8, 7);
        assertThat(d.tensors().get("transformer.h.0.mlp.c_proj.weight").values()).containsExactly(3, 4, 0, 0);
        assertThat(d.tensors().get("transformer.h.0.mlp.c_proj.bias").values())
                .containsExactly(t.get("transformer.h.0.mlp.c_proj.bias").values());
    }

    @Test
    void activationAwareSaliencyWeighsTheOutputColumnByActivationSize() {
        ModelConfig c = ModelConfig.llama(8, 2, 1, 1, 1, 4, 8);
        Map<String, HostTensor> t = fourNeuron(c);
        // |down_:j| = 0, 5, 0, 1; rms activation = sqrt(ms)
        double[] s = Saliency.activationAware(DecoderLayouts.of(c), t, 0, new double[] {4, 0.01, 9, 16});
        assertThat(s).containsExactly(new double[] {0, 0.5, 0, 4}, within(1e-12));
        assertThat(Saliency.topK(s, 1)).containsExactly(3);
    }

    /**
     * Pruning is exact on the kept neurons: the derived model's logits equal the parent's once the
     * removed neurons' output weights are zeroed in the parent (per-layer widths, first and last
     * layers exempt as in FedPFT), for every decoder kind.
     */
    @Test
    void prunedModelEqualsParentWithRemovedNeuronsSilenced() {
        for (ModelConfig c : all()) {
            Map<String, HostTensor> t = randomTensors(c, 7, m);
            DerivedModel d = SubModels.pruneBySaliency(c, t, 5, Set.of(0, 2));
            assertThat(d.config().intermediateSize(1)).isEqualTo(5);
            assertThat(d.config().intermediateSize(0)).isEqualTo(c.intermediateSize(0));
            BlockLayout layout = DecoderLayouts.of(c);
            int[] kept = d.derivation().keptNeurons(1);
            Map<String, HostTensor> silenced = new LinkedHashMap<>(t);
            for (BlockLayout.NeuronAxis a : layout.ffnTensors(1)) {
                if (a.output()) {
                    HostTensor w = t.get(a.tensor());
                    HostTensor keptPart = NeuronSlices.select(w, a.axis(), kept);
                    silenced.put(a.tensor(), NeuronSlices.scatterIntoZeros(w.shape(), keptPart, a.axis(), kept));
                }
            }
            NDArray ids = ids(m, 2, 7, c.vocabSize(), 3);
            NDArray mask = m.create(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, new ai.djl.ndarray.types.Shape(2, 7));
            float[] want = logits(c, silenced, ids, mask, m);
            float[] got = logits(d.config(), d.tensors(), ids, mask, m);
            assertThat(maxAbsDiff(want, got)).as(c.modelType()).isLessThan(1e-5);
            float[] unsilenced = logits(c, t, ids, mask, m);
            assertThat(maxAbsDiff(unsilenced, got)).as("the removed neurons mattered").isGreaterThan(1e-3);
        }
    }

    /** Dropping a block equals the parent with that block made the identity (zero residual branches). */
    @Test
    void droppedLayerEqualsParentWithThatBlockAsIdentity() {
        for (ModelConfig c : all()) {
            Map<String, HostTensor> t = randomTensors(c, 11, m);
            Map<String, HostTensor> identity = new LinkedHashMap<>(t);
            for (String name : t.keySet()) {
                boolean layer1 = name.startsWith(DecoderLayouts.of(c).layerPrefix(1));
                if (layer1 && (name.contains("o_proj") || name.contains("down_proj") || name.contains("c_proj"))) {
                    identity.put(name, zerosLike(t.get(name)));
                }
            }
            DerivedModel d = SubModels.dropLayers(c, identity, new int[] {0, 2}, "layer_drop_uniform", new JsonObject());
            assertThat(d.config().numLayers()).isEqualTo(2);
            assertThat(d.derivation().layerMap()).containsExactly(0, 2);
            assertThat(d.derivation().derivedLayer(1)).isEqualTo(-1);
            NDArray ids = ids(m, 2, 6, c.vocabSize(), 5);
            assertThat(maxAbsDiff(logits(c, identity, ids, null, m), logits(d.config(), d.tensors(), ids, null, m)))
                    .as(c.modelType()).isLessThan(1e-5);
        }
    }

    @Test
    void emulatorKeepsBottomUniformMiddleAndTop() {
        ModelConfig c = ModelConfig.llama(16, 8, 6, 2, 1, 8, 8);
        Map<String, HostTensor> t = randomTensors(c, 2, m);
        DerivedModel d = SubModels.emulator(c, t, 1, 2, 1); // middle [1, 5) → keep 2 of 4: round(0), round(3)
        assertThat(d.derivation().layerMap()).containsExactly(0, 1, 4, 5);
        assertThat(d.tensors().get("model.layers.2.self_attn.q_proj.weight").values())
                .containsExactly(t.get("model.layers.4.self_attn.q_proj.weight").values());
        assertThat(d.derivation().parentSha256()).isEqualTo(ContentHash.sha256(t));
    }

    @Test
    void perLayerWidthsRoundTripThroughConfigJsonAndDisk(@TempDir Path dir) throws Exception {
        ModelConfig c = llamaGqa();
        Map<String, HostTensor> t = randomTensors(c, 3, m);
        DerivedModel d = SubModels.pruneBySaliency(c, t, 4, Set.of(0));
        DerivedModel dropped = SubModels.dropLayers(d.config(), d.tensors(), new int[] {0, 2}, "layer_drop_uniform", null);
        Derivation both = d.derivation().then(dropped.derivation());
        assertThat(both.layerMap()).containsExactly(0, 2);
        assertThat(both.keptNeurons(1)).containsExactly(d.derivation().keptNeurons(2));
        assertThat(both.isPruned(0)).isFalse();
        assertThat(both.method()).isEqualTo("ffn_prune+layer_drop_uniform");

        ModelConfig parsed = ModelConfigs.parse(ModelConfigs.toJson(d.config()), "test");
        assertThat(parsed).isEqualTo(d.config());
        assertThat(parsed.layerIntermediateSizes()).containsExactly(12, 4, 4);
        d.save(new DirectoryModelSink(dir));
        try (DecoderModel loaded = HfModels.load(dir, m, ai.djl.ndarray.types.DataType.FLOAT32)) {
            assertThat(loaded.config().intermediateSize(1)).isEqualTo(4);
        }
        assertThat(DerivedModel.readDerivation(dir)).isEqualTo(d.derivation());
        assertThat(Derivation.fromJson(both.toJson(), "x")).isEqualTo(both);
    }

    @Test
    void badRequestsNameTheProblem() {
        ModelConfig c = ModelConfig.llama(8, 2, 1, 1, 1, 4, 8);
        Map<String, HostTensor> t = fourNeuron(c);
        assertThatThrownBy(() -> SubModels.pruneBySaliency(c, t, 5, Set.of()))
                .hasMessageContaining("cannot keep 5 of the 4 FFN neurons of layer 0");
        assertThatThrownBy(() -> LayerMaps.uniformStride(4, 5)).hasMessageContaining("cannot keep 5 of 4 layers");
    }
}
