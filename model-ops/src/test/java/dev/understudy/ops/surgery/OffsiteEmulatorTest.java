package dev.understudy.ops.surgery;

import static dev.understudy.ops.surgery.SurgeryFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.distill.Alignment;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.TrainConfig;
import dev.understudy.ops.train.Trainer;
import java.util.ArrayList;
import java.util.SplittableRandom;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Offsite-Tuning's l-k-r emulator against methods.md §0.5/§4(a), exactness at k = middle, and config checks. */
class OffsiteEmulatorTest {
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
    void splitAndStrideFollowMethodsSection05() {
        // OPT-1.3B "2-8-2" (§4(a)): 24 layers, middle [2, 22) of 20 → 8 by idx_i = round(i·19/7) + 2
        OffsiteEmulator e = new OffsiteEmulator(2, 8, 2);
        assertThat(e.parentLayers(24)).containsExactly(0, 1, 2, 5, 7, 10, 13, 16, 18, 21, 22, 23);
        assertThat(e.emulatorLayers()).isEqualTo(12);
        assertThat(e.adapterLayers()).containsExactly(0, 1, 10, 11);
        assertThat(e.parentAdapterLayers(24)).containsExactly(0, 1, 22, 23);
        assertThat(e.middleLayers()).containsExactly(2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(e.notation()).isEqualTo("2-8-2");
        // GPT2-XL "2-16-2": 48 layers, 44 middle → 16; first and last middle layer kept
        int[] gpt2xl = new OffsiteEmulator(2, 16, 2).parentLayers(48);
        assertThat(gpt2xl).hasSize(20).startsWith(0, 1, 2).endsWith(45, 46, 47);
        // half-to-even: middle of 6 → 3 keeps [0, 2, 5] (2.5 → 2), shifted by l = 1
        assertThat(new OffsiteEmulator(1, 3, 1).parentLayers(8)).containsExactly(0, 1, 3, 6, 7);
        // FedBiOT's top-only adapter (§4(b)): l = 0
        OffsiteEmulator biot = new OffsiteEmulator(0, 3, 2);
        assertThat(biot.parentLayers(8)).containsExactly(0, 2, 5, 6, 7);
        assertThat(biot.adapterLayers()).containsExactly(3, 4);
        assertThat(biot.parentAdapterLayers(8)).containsExactly(6, 7);
    }

    @Test
    void keepingTheWholeMiddleGivesTheFullModelExactly() {
        for (ModelConfig c : List.of(llamaGqa(), qwen2(), gpt2())) {
            Map<String, HostTensor> t = randomTensors(c, 5, m);
            OffsiteEmulator e = new OffsiteEmulator(1, c.numLayers() - 2, 1);
            DerivedModel d = e.build(c, t);
            assertThat(d.derivation().layerMap()).containsExactly(0, 1, 2);
            assertThat(d.tensors().keySet()).containsExactlyElementsOf(t.keySet());
            for (Map.Entry<String, HostTensor> x : t.entrySet()) {
                assertThat(d.tensors().get(x.getKey()).values()).as(x.getKey()).containsExactly(x.getValue().values());
            }
            try (NDManager sub = m.newSubManager()) {
                NDArray ids = ids(sub, 2, 7, c.vocabSize(), 9);
                float[] full = logits(c, t, ids, null, sub);
                float[] emu = logits(d.config(), d.tensors(), ids, null, sub);
                assertThat(emu).as(c.modelType()).containsExactly(full); // bit-for-bit
            }
        }
    }

    @Test
    void emulatorCarriesItsProvenanceAndAlignment() {
        ModelConfig c = ModelConfig.llama(32, 16, 6, 4, 2, 12, 16);
        Map<String, HostTensor> t = randomTensors(c, 3, m);
        OffsiteEmulator e = new OffsiteEmulator(1, 2, 1);
        DerivedModel d = e.build(c, t);
        assertThat(d.config().numLayers()).isEqualTo(4);
        assertThat(d.derivation().layerMap()).containsExactly(0, 1, 4, 5); // middle [1, 5): round(0), round(3)
        assertThat(d.derivation().parentSha256()).isEqualTo(ContentHash.sha256(t));
        assertThat(d.derivation().method()).isEqualTo("layer_drop_uniform");
        assertThat(d.derivation().params().get("middle_kept").getAsInt()).isEqualTo(2);
        assertThat(d.tensors().get("model.layers.2.self_attn.q_proj.weight").values())
                .containsExactly(t.get("model.layers.4.self_attn.q_proj.weight").values());
        assertThat(e.alignment(d.derivation())).isEqualTo(new Alignment.BlockRange(1, 5, 1, 3));
        assertThat(e.middlePrefixes(d.config())).containsExactly("model.layers.1.", "model.layers.2.");

        LoraConfig lora = new LoraConfig(2, 4, 0, List.of("q_proj", "v_proj"));
        List<String> modules = e.adapterModules(d.config(), lora);
        assertThat(modules).containsExactly("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                "model.layers.3.self_attn.q_proj", "model.layers.3.self_attn.v_proj");
        LoraConfig adapter = e.adapterLora(d.config(), lora);
        assertThat(DecoderModel.linearModules(d.config()).stream().filter(x -> adapter.matches(x.name()))
                .map(x -> x.name()).toList()).isEqualTo(modules);
    }

    @Test
    void badConfigurationsNameTheKeys() {
        ModelConfig c = ModelConfig.llama(32, 16, 6, 4, 2, 12, 16);
        OffsiteEmulator.Keys k = OffsiteEmulator.Keys.of("method_params.");
        LoraConfig lora = new LoraConfig(2, 4, 0, List.of("q_proj"));
        assertThatThrownBy(() -> new OffsiteEmulator(3, 1, 3).validate(c, lora, k))
                .hasMessageContaining("method_params.bottom=3").hasMessageContaining("method_params.top=3")
                .hasMessageContaining("l + r must be < L = 6");
        assertThatThrownBy(() -> new OffsiteEmulator(1, 5, 1).validate(c, lora, k))
                .hasMessageContaining("method_params.middle_kept=5 must be in [1, 4]");
        assertThatThrownBy(() -> new OffsiteEmulator(1, 0, 1).validate(c, lora, k))
                .hasMessageContaining("method_params.middle_kept=0");
        assertThatThrownBy(() -> new OffsiteEmulator(0, 2, 0).validate(c, lora, k))
                .hasMessageContaining("method_params.bottom and method_params.top are both 0");
        assertThatThrownBy(() -> new OffsiteEmulator(1, 2, 1).validate(c, new LoraConfig(2, 4, 0, List.of("c_attn")), k))
                .hasMessageContaining("lora.target_modules=[c_attn] matches no module of adapter layer 0")
                .hasMessageContaining("q_proj");
        // a target naming a module of a middle layer only leaves the top adapter untrained
        assertThatThrownBy(() -> new OffsiteEmulator(1, 2, 1).validate(c,
                new LoraConfig(2, 4, 0, List.of("model.layers.0.self_attn.q_proj")), k))
                .hasMessageContaining("adapter layer 3 (parent layer 5");
        new OffsiteEmulator(1, 4, 1).validate(c, lora, k); // k = middle is fine
    }

    /**
     * With k = the middle's size, LoRA on the emulator's adapter layers trained one step and plugged
     * into the full model equals the same LoRA trained one step on the full model (same data, seed).
     */
    @Test
    void plugInOfAnEmulatorAdapterTrainedOneStepEqualsTrainingTheFullModel() {
        for (ModelConfig c : List.of(ModelConfig.llama(32, 16, 4, 4, 2, 12, 16), gpt2())) {
            Map<String, HostTensor> t = randomTensors(c, 21, m);
            OffsiteEmulator e = new OffsiteEmulator(1, c.numLayers() - 2, 1);
            DerivedModel d = e.build(c, t);
            LoraConfig base = new LoraConfig(2, 4, 0, c.family() == ModelConfig.Family.GPT2
                    ? List.of("c_attn", "mlp.c_proj") : List.of("q_proj", "v_proj", "down_proj"));
            LoraConfig emuLora = e.adapterLora(d.config(), base);
            LoraConfig fullLora = e.parentAdapterLora(c, base);
            List<Example> data = new ArrayList<>();
            SplittableRandom r = new SplittableRandom(4);
            for (int i = 0; i < 4; i++) {
                int[] ids = new int[9];
                for (int k = 0; k < ids.length; k++) {
                    ids[k] = r.nextInt(c.vocabSize());
                }
                data.add(Example.lm(ids));
            }
            Map<String, HostTensor> onEmulator = trainOneStep(d.config(), d.tensors(), emuLora, data);
            Map<String, HostTensor> onFull = trainOneStep(c, t, fullLora, data);
            Map<String, HostTensor> plugged = e.plugIn(d.derivation(), c, emuLora, onEmulator);
            assertThat(plugged.keySet()).containsExactlyElementsOf(onFull.keySet());
            assertThat(plugged).hasSize(2 * fullLora.targetModules().size());
            for (String k : onFull.keySet()) {
                assertThat(plugged.get(k).values()).as(k).containsExactly(onFull.get(k).values());
            }
        }
    }

    /** With a compressed middle the top adapter lands on the full model's last layer, the middle gets none. */
    @Test
    void plugInRenumbersTheTopAdapter() {
        ModelConfig c = ModelConfig.llama(32, 16, 6, 4, 2, 12, 16);
        Map<String, HostTensor> t = randomTensors(c, 3, m);
        OffsiteEmulator e = new OffsiteEmulator(1, 2, 1);
        DerivedModel d = e.build(c, t);
        LoraConfig emuLora = e.adapterLora(d.config(), new LoraConfig(2, 4, 0, List.of("q_proj")));
        Map<String, HostTensor> trained = trainOneStep(d.config(), d.tensors(), emuLora,
                List.of(Example.lm(new int[] {1, 5, 9, 3, 7, 2})));
        Map<String, HostTensor> plugged = e.plugIn(d.derivation(), c, emuLora, trained);
        assertThat(plugged.keySet()).containsExactly("model.layers.0.self_attn.q_proj.lora_A",
                "model.layers.0.self_attn.q_proj.lora_B", "model.layers.5.self_attn.q_proj.lora_A",
                "model.layers.5.self_attn.q_proj.lora_B");
        assertThat(plugged.get("model.layers.5.self_attn.q_proj.lora_B").values())
                .containsExactly(trained.get("model.layers.3.self_attn.q_proj.lora_B").values());
        assertThat(e.parentLora(d.derivation(), c, emuLora).targetModules())
                .containsExactly("model.layers.0.self_attn.q_proj", "model.layers.5.self_attn.q_proj");
    }

    private static Map<String, HostTensor> trainOneStep(ModelConfig c, Map<String, HostTensor> tensors, LoraConfig lora,
            List<Example> data) {
        try (NDManager sub = m.newSubManager();
                DecoderModel model = DecoderModel.fromTensors(c, tensors, "test", sub, DataType.FLOAT32);
                LoraAdapter adapter = LoraAdapter.create(model, lora, 7, sub);
                Trainer tr = new Trainer(model, adapter, TrainConfig.simple(1e-2, 4, 5), 0, sub)) {
            tr.train(data, 1);
            return adapter.exportTensors();
        }
    }
}
