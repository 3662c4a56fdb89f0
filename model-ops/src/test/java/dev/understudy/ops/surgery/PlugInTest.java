package dev.understudy.ops.surgery;

import static dev.understudy.ops.surgery.SurgeryFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Plug-in exactness (issue item 6): the parent with the transplanted adapter equals the derived
 * model with its adapter on every kept path, for every decoder kind; dense deltas land on the
 * parent's corresponding entries and nothing else changes.
 */
class PlugInTest {
    static NDManager m;

    @BeforeAll
    static void setUp() {
        m = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        m.close();
    }

    static LoraConfig everyModule(ModelConfig c) {
        List<String> t = c.family() == ModelConfig.Family.LLAMA
                ? List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
                : List.of("c_attn", "c_proj", "c_fc");
        return new LoraConfig(3, 6, 0, t);
    }

    /** LoRA factors of {@code model} with every A and B random (B is zero after create). */
    static Map<String, HostTensor> randomFactors(DecoderModel model, LoraConfig cfg, long seed) {
        try (LoraAdapter a = LoraAdapter.create(model, cfg, seed, m)) {
            SplittableRandom r = new SplittableRandom(seed);
            Map<String, HostTensor> f = new LinkedHashMap<>();
            for (Map.Entry<String, HostTensor> e : a.exportTensors().entrySet()) {
                float[] v = new float[e.getValue().values().length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (r.nextGaussian() * 0.3);
                }
                f.put(e.getKey(), new HostTensor(e.getValue().shape(), v));
            }
            return f;
        }
    }

    static float[] logitsWithAdapter(ModelConfig c, Map<String, HostTensor> weights, LoraConfig cfg,
            Map<String, HostTensor> factors, NDArray ids, NDArray mask) {
        try (NDManager sub = m.newSubManager();
                DecoderModel model = DecoderModel.fromTensors(c, weights, "test", sub, DataType.FLOAT64);
                LoraAdapter a = LoraAdapter.fromTensors(model, cfg, factors, "test adapter", sub)) {
            return model.forward(ids, mask, null, null, a, null).toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    /** The parent with the pruned neurons' output weights zeroed (they then contribute nothing). */
    static Map<String, HostTensor> silenceRemoved(ModelConfig c, Map<String, HostTensor> t, Derivation d) {
        BlockLayout layout = DecoderLayouts.of(c);
        Map<String, HostTensor> out = new LinkedHashMap<>(t);
        for (int j : d.keptNeurons().keySet()) {
            int i = d.parentLayer(j);
            for (BlockLayout.NeuronAxis a : layout.ffnTensors(i)) {
                if (a.output()) {
                    int[] kept = d.keptNeurons(j);
                    out.put(a.tensor(), NeuronSlices.scatterIntoZeros(t.get(a.tensor()).shape(),
                            NeuronSlices.select(t.get(a.tensor()), a.axis(), kept), a.axis(), kept));
                }
            }
        }
        return out;
    }

    /** Pruned FFN (layers 0 and 2 exempt, as FedPFT keeps the first and last): exact on the kept neurons. */
    @Test
    void transplantedLoraOnPrunedModelEqualsDerivedModelWithItsAdapter() {
        for (ModelConfig c : all()) {
            Map<String, HostTensor> t = randomTensors(c, 21, m);
            DerivedModel d = SubModels.pruneBySaliency(c, t, 5, Set.of(0, 2));
            LoraConfig cfg = everyModule(c);
            Map<String, HostTensor> factors;
            try (NDManager sub = m.newSubManager(); DecoderModel derived = d.toModel(sub, DataType.FLOAT64)) {
                factors = randomFactors(derived, cfg, 4);
            }
            Map<String, HostTensor> parentFactors = PlugIn.transplantLora(d.derivation(), c, cfg, factors);
            String up = c.family() == ModelConfig.Family.LLAMA ? "model.layers.1.mlp.up_proj" : "transformer.h.1.mlp.c_fc";
            assertThat(parentFactors.get(up + ".lora_B").shape()).containsExactly(c.intermediateSize(1), 3);
            NDArray ids = ids(m, 2, 7, c.vocabSize(), 8);
            NDArray mask = m.create(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, new Shape(2, 7));
            float[] want = logitsWithAdapter(d.config(), d.tensors(), cfg, factors, ids, mask);
            float[] got = logitsWithAdapter(c, silenceRemoved(c, t, d.derivation()), cfg, parentFactors, ids, mask);
            assertThat(maxAbsDiff(want, got)).as(c.modelType()).isLessThan(1e-5);
            // and the adapter really acts: without it the logits differ
            float[] bare = logits(d.config(), d.tensors(), ids, mask, m);
            assertThat(maxAbsDiff(want, bare)).isGreaterThan(1e-3);
        }
    }

    /** A sub-model that pruned nothing: the transplanted adapter on the untouched parent is exact. */
    @Test
    void transplantIntoTheUnchangedParentIsExactWhenNothingWasPruned() {
        ModelConfig c = llamaGqa();
        Map<String, HostTensor> t = randomTensors(c, 5, m);
        int[] all = new int[c.intermediateSize(1)];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        DerivedModel d = SubModels.pruneFfn(c, t, Map.of(1, all), "ffn_prune", null);
        LoraConfig cfg = everyModule(c);
        Map<String, HostTensor> factors;
        try (NDManager sub = m.newSubManager(); DecoderModel derived = d.toModel(sub, DataType.FLOAT64)) {
            factors = randomFactors(derived, cfg, 6);
        }
        NDArray ids = ids(m, 2, 6, c.vocabSize(), 9);
        float[] want = logitsWithAdapter(d.config(), d.tensors(), cfg, factors, ids, null);
        float[] got = logitsWithAdapter(c, t, cfg, PlugIn.transplantLora(d.derivation(), c, cfg, factors), ids, null);
        assertThat(maxAbsDiff(want, got)).isLessThan(1e-5);
    }

    /**
     * Emulator (dropped middle block): the transplanted adapter lands on the parent blocks of the
     * layer map; with the dropped block made the identity the parent equals the emulator.
     */
    @Test
    void transplantedLoraOnEmulatorEqualsDerivedModelWhenTheDroppedBlockIsTheIdentity() {
        for (ModelConfig c : all()) {
            Map<String, HostTensor> t = new LinkedHashMap<>(randomTensors(c, 31, m));
            BlockLayout layout = DecoderLayouts.of(c);
            for (String name : List.copyOf(t.keySet())) {
                if (name.startsWith(layout.layerPrefix(1))
                        && (name.contains("o_proj") || name.contains("down_proj") || name.contains("c_proj"))) {
                    t.put(name, zerosLike(t.get(name)));
                }
            }
            DerivedModel d = SubModels.dropLayers(c, t, new int[] {0, 2}, "layer_drop_uniform", null);
            LoraConfig cfg = everyModule(c);
            Map<String, HostTensor> factors;
            try (NDManager sub = m.newSubManager(); DecoderModel derived = d.toModel(sub, DataType.FLOAT64)) {
                factors = randomFactors(derived, cfg, 7);
            }
            Map<String, HostTensor> parentFactors = PlugIn.transplantLora(d.derivation(), c, cfg, factors);
            String derivedQ = layout.layerPrefix(1) + (c.family() == ModelConfig.Family.LLAMA ? "self_attn.q_proj" : "attn.c_attn");
            String parentQ = layout.layerPrefix(2) + derivedQ.substring(layout.layerPrefix(1).length());
            assertThat(parentFactors.get(parentQ + ".lora_A").values()).containsExactly(factors.get(derivedQ + ".lora_A").values());
            assertThat(parentFactors.get(derivedQ + ".lora_B").values()).containsOnly(0f); // dropped block: no update
            NDArray ids = ids(m, 2, 6, c.vocabSize(), 10);
            float[] want = logitsWithAdapter(d.config(), d.tensors(), cfg, factors, ids, null);
            float[] got = logitsWithAdapter(c, t, cfg, parentFactors, ids, null);
            assertThat(maxAbsDiff(want, got)).as(c.modelType()).isLessThan(1e-5);
        }
    }

    /**
     * Dense deltas: the emulator's trained adapter blocks (bottom 0, top 2 ← parent 3) replace the
     * parent's exactly; a pruned FFN's trained neuron rows land at the kept indices; every other
     * parent entry is bit-identical.
     */
    @Test
    void denseDeltasLandOnTheCorrespondingParentEntriesOnly() {
        ModelConfig c = ModelConfig.llama(16, 8, 4, 2, 1, 8, 8);
        Map<String, HostTensor> t = randomTensors(c, 41, m);
        DerivedModel emu = SubModels.emulator(c, t, 1, 1, 1); // layer map 0, 1|2, 3 → [0, ?, 3]
        int top = emu.derivation().layerMap().length - 1;
        Map<String, HostTensor> trained = new TreeMap<>();
        for (String name : emu.tensors().keySet()) {
            if (name.startsWith("model.layers.0.") || name.startsWith("model.layers." + top + ".")) {
                trained.put(name, perturbed(emu.tensors().get(name), name.hashCode()));
            }
        }
        Map<String, HostTensor> merged = PlugIn.mergeDense(emu.derivation(), c, t, emu.tensors(), trained);
        for (String name : t.keySet()) {
            int i = SubModels.layerOf(DecoderLayouts.of(c), name);
            int j = i < 0 ? -1 : emu.derivation().derivedLayer(i);
            String derivedName = i < 0 ? name : j < 0 ? null : "model.layers." + j + "." + name.substring(15);
            if (derivedName != null && trained.containsKey(derivedName)) {
                assertThat(merged.get(name).values()).as(name).containsExactly(trained.get(derivedName).values());
            } else {
                assertThat(merged.get(name)).as(name).isSameAs(t.get(name));
            }
        }

        // FedPFT neuron-level write-back: derived layer 1 kept neurons k; trained rows change at k only
        DerivedModel pruned = SubModels.pruneBySaliency(c, t, 3, Set.of(0, 3));
        int[] kept = pruned.derivation().keptNeurons(1);
        String up = "model.layers.1.mlp.up_proj.weight";
        HostTensor newUp = perturbed(pruned.tensors().get(up), 3);
        Map<String, HostTensor> back = PlugIn.mergeDense(pruned.derivation(), c, t, pruned.tensors(), Map.of(up, newUp));
        HostTensor parentUp = t.get(up);
        HostTensor mergedUp = back.get(up);
        int cols = (int) parentUp.shape()[1];
        for (int row = 0; row < parentUp.shape()[0]; row++) {
            int k = java.util.Arrays.binarySearch(kept, row);
            for (int col = 0; col < cols; col++) {
                float want = k >= 0 ? newUp.values()[k * cols + col] : parentUp.values()[row * cols + col];
                assertThat(mergedUp.values()[row * cols + col]).isEqualTo(want);
            }
        }
    }

    @Test
    void pluggingIntoTheWrongParentIsRefused() {
        ModelConfig c = llamaGqa();
        Map<String, HostTensor> t = randomTensors(c, 1, m);
        DerivedModel d = SubModels.emulator(c, t, 1, 1, 1);
        PlugIn.checkParent(d.derivation(), t);
        assertThatThrownBy(() -> PlugIn.checkParent(d.derivation(), randomTensors(c, 2, m)))
                .hasMessageContaining("is not the parent of the derived model");
    }

    static HostTensor perturbed(HostTensor x, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = x.values().clone();
        for (int i = 0; i < v.length; i++) {
            v[i] += (float) r.nextGaussian();
        }
        return new HostTensor(x.shape().clone(), v);
    }
}
