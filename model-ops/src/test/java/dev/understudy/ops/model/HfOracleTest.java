package dev.understudy.ops.model;

import static dev.understudy.ops.model.OracleInputs.ids;
import static dev.understudy.ops.model.OracleInputs.json;
import static dev.understudy.ops.model.OracleInputs.maskedMaxDiff;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.understudy.ops.infer.Generator;
import dev.understudy.ops.infer.ModelLogitSource;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.PeftAdapters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Our forward, greedy decoding, per-layer hidden states and PEFT adapter loading against Hugging
 * Face transformers 5.18 / peft 0.21 (versions in the manifest), on the fixtures that {@code
 * model-ops/src/test/python/regenerate-oracle.sh} writes under {@code src/test/resources/oracle}.
 * The fixtures are committed, so this runs in every build without Python; a missing fixture is a
 * failure, not a skip.
 *
 * <p>Tolerance: max |Δ| ≤ 1e-4 over positions with {@code attention_mask == 1} (logits at padded
 * positions are implementation-defined). The tiny models' logits and hidden states are of order 1,
 * so this absolute bound is at least as strict as 1e-4 relative.
 */
class HfOracleTest {
    static final Path ORACLE = Path.of("src/test/resources/oracle");
    static final double TOL = 1e-4;

    /** Every fixture the generator writes; losing one must fail the build. */
    static final Set<String> EXPECTED = Set.of(
            "llama-gqa", "qwen2-tied", "mistral", "gpt2", "llama-gqa-sharded", "llama-gqa-bf16", "llama-gqa-f16",
            "llama-gqa-lora", "qwen2-tied-lora", "mistral-lora", "gpt2-lora");

    static JsonObject manifest;

    @BeforeAll
    static void readManifest() throws IOException {
        Path file = ORACLE.resolve("manifest.json");
        assertThat(file).as("HF oracle manifest (regenerate with model-ops/src/test/python/regenerate-oracle.sh)")
                .isRegularFile();
        manifest = json(file);
    }

    @Test
    void manifestListsEveryFixtureAndItsFilesExist() throws IOException {
        Set<String> names = new TreeSet<>();
        for (JsonObject fx : fixtures()) {
            names.add(fx.get("name").getAsString());
            Path dir = ORACLE.resolve(fx.get("dir").getAsString());
            for (String file : fx.getAsJsonObject("files").keySet()) {
                assertThat(dir.resolve(file)).as("fixture file listed in manifest.json").isRegularFile();
                assertThat(Files.size(dir.resolve(file)))
                        .isEqualTo(fx.getAsJsonObject("files").getAsJsonObject(file).get("bytes").getAsLong());
            }
        }
        assertThat(names).containsAll(EXPECTED);
        assertThat(manifest.getAsJsonObject("versions").get("transformers").getAsString()).startsWith("5.");
    }

    @TestFactory
    Stream<DynamicTest> forwardMatchesTransformers() {
        return models().map(fx -> DynamicTest.dynamicTest(name(fx), () -> {
            Path dir = dir(fx);
            var expected = SafetensorsReader.read(dir.resolve("logits.safetensors"));
            JsonObject inputs = json(dir.resolve("inputs.json"));
            try (NDManager m = NDManager.newBaseManager("PyTorch");
                    DecoderModel model = HfModels.load(dir, m, DataType.FLOAT32)) {
                for (String variant : List.of("right", "left")) {
                    JsonObject in = inputs.getAsJsonObject(variant);
                    float[] got = forward(model, null, in, m).toFloatArray();
                    double diff = maskedMaxDiff(got, expected.tensor("logits_" + variant).toFloats(), in,
                            model.config().vocabSize());
                    assertThat(diff).as("%s %s-padded max |Δlogit|", name(fx), variant).isLessThan(TOL);
                }
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> hiddenStatesPerLayerMatchTransformers() {
        return models().map(fx -> DynamicTest.dynamicTest(name(fx), () -> {
            Path dir = dir(fx);
            var expected = SafetensorsReader.read(dir.resolve("logits.safetensors"));
            JsonObject inputs = json(dir.resolve("inputs.json"));
            try (NDManager m = NDManager.newBaseManager("PyTorch");
                    DecoderModel model = HfModels.load(dir, m, DataType.FLOAT32)) {
                int layers = model.config().numLayers();
                int d = model.config().hiddenSize();
                for (String variant : List.of("right", "left")) {
                    JsonObject in = inputs.getAsJsonObject(variant);
                    var want = expected.tensor("hidden_states_" + variant);
                    assertThat(want.shape()[0]).isEqualTo(layers + 1);
                    float[] all = want.toFloats();
                    List<NDArray> got = model.hiddenStatesPerLayer(ids(in, "input_ids", m), ids(in, "attention_mask", m),
                            ids(in, "position_ids", m), null);
                    assertThat(got).hasSize(layers + 1);
                    int per = all.length / (layers + 1);
                    for (int i = 0; i <= layers; i++) {
                        float[] ref = Arrays.copyOfRange(all, i * per, (i + 1) * per);
                        double diff = maskedMaxDiff(got.get(i).toFloatArray(), ref, in, d);
                        assertThat(diff).as("%s %s hidden_states[%d] max |Δ|", name(fx), variant, i).isLessThan(TOL);
                    }
                }
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> greedyDecodingEqualsTransformers() {
        return models().map(fx -> DynamicTest.dynamicTest(name(fx), () -> {
            Path dir = dir(fx);
            JsonObject inputs = json(dir.resolve("inputs.json"));
            assertThat(inputs.has("greedy_prompt")).as("%s inputs.json has a greedy continuation", name(fx)).isTrue();
            int[] prompt = ints(inputs.getAsJsonArray("greedy_prompt"));
            int[] full = ints(inputs.getAsJsonArray("greedy_output"));
            int[] want = Arrays.copyOfRange(full, prompt.length, full.length);
            assertThat(want).isEqualTo(ints(inputs.getAsJsonArray("greedy_new_tokens")));
            try (NDManager m = NDManager.newBaseManager("PyTorch");
                    DecoderModel model = HfModels.load(dir, m, DataType.FLOAT32)) {
                int[] got = Generator.generate(new ModelLogitSource(model, null, 0), List.of(prompt),
                        Generator.Config.greedy(want.length, -1)).get(0);
                assertThat(got).as("%s greedy continuation", name(fx)).isEqualTo(want);
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> peftSavedAdapterGivesPeftLogits() {
        return fixtures().stream().filter(fx -> fx.has("kind") && fx.get("kind").getAsString().equals("peft-lora-adapter"))
                .map(fx -> DynamicTest.dynamicTest(name(fx), () -> {
                    Path dir = dir(fx);
                    Path base = ORACLE.resolve(fx.get("base").getAsString());
                    var expected = SafetensorsReader.read(dir.resolve("logits.safetensors"));
                    JsonObject inputs = json(dir.resolve("inputs.json"));
                    try (NDManager m = NDManager.newBaseManager("PyTorch");
                            DecoderModel model = HfModels.load(base, m, DataType.FLOAT32);
                            LoraAdapter adapter = PeftAdapters.load(new DirectoryModelSource(dir), model, m)) {
                        assertThat(adapter.config().targetModules())
                                .containsExactlyInAnyOrderElementsOf(strings(fx.getAsJsonArray("target_modules")));
                        for (String variant : List.of("right", "left")) {
                            JsonObject in = inputs.getAsJsonObject(variant);
                            float[] want = expected.tensor("logits_" + variant).toFloats();
                            int v = model.config().vocabSize();
                            double diff = maskedMaxDiff(forward(model, adapter, in, m).toFloatArray(), want, in, v);
                            assertThat(diff).as("%s %s max |Δlogit|", name(fx), variant).isLessThan(TOL);
                            // and the adapter matters: without it the logits are far off
                            double base0 = maskedMaxDiff(forward(model, null, in, m).toFloatArray(), want, in, v);
                            assertThat(base0).as("%s adapter effect", name(fx)).isGreaterThan(100 * TOL);
                        }
                    }
                }));
    }

    // ---- helpers -----------------------------------------------------------------------------------

    static List<JsonObject> fixtures() {
        List<JsonObject> out = new ArrayList<>();
        manifest.getAsJsonArray("fixtures").forEach(e -> out.add(e.getAsJsonObject()));
        return out;
    }

    /** The fixtures that are whole models (not adapters). */
    static Stream<JsonObject> models() {
        return fixtures().stream().filter(fx -> !fx.has("kind"));
    }

    private static String name(JsonObject fx) {
        return fx.get("name").getAsString();
    }

    private static Path dir(JsonObject fx) {
        return ORACLE.resolve(fx.get("dir").getAsString());
    }

    static NDArray forward(DecoderModel model, LoraAdapter adapter, JsonObject in, NDManager m) {
        return model.forward(ids(in, "input_ids", m), ids(in, "attention_mask", m), ids(in, "position_ids", m),
                null, adapter, null);
    }

    private static int[] ints(JsonArray a) {
        int[] x = new int[a.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = a.get(i).getAsInt();
        }
        return x;
    }

    private static List<String> strings(JsonArray a) {
        List<String> out = new ArrayList<>();
        a.forEach(e -> out.add(e.getAsString()));
        return out;
    }
}
