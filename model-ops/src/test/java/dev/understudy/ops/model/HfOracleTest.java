package dev.understudy.ops.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.ops.infer.Generator;
import dev.understudy.ops.infer.ModelLogitSource;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.io.SafetensorsWriter;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.lora.PeftAdapters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Our forward against Hugging Face transformers (and our adapter loader against PEFT), on the
 * fixtures that {@code model-ops/src/test/python/make_hf_oracle.py fixtures} writes. The fixtures
 * need transformers, which only the lent GPU machine has; without them the test is skipped with
 * that reason. When the fixtures exist it also writes, under {@code target/peft-check/}, an adapter
 * exported by our code plus our logits with it, for {@code make_hf_oracle.py peft-check}.
 */
class HfOracleTest {
    static final Path ORACLE = Path.of("src/test/resources/oracle");

    @Test
    void forwardMatchesTransformersOnEveryFixture() throws Exception {
        Assumptions.assumeTrue(Files.exists(ORACLE.resolve("manifest.json")),
                "no HF oracle fixtures in " + ORACLE.toAbsolutePath()
                        + "; generate them with make_hf_oracle.py on a machine with transformers");
        JsonObject manifest = JsonParser.parseString(Files.readString(ORACLE.resolve("manifest.json"))).getAsJsonObject();
        int checked = 0;
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            for (var f : manifest.getAsJsonArray("fixtures")) {
                JsonObject fx = f.getAsJsonObject();
                Path dir = ORACLE.resolve(fx.get("dir").getAsString());
                if (!Files.exists(dir.resolve("config.json"))) {
                    continue; // the PEFT adapter directory, checked below
                }
                try (DecoderModel model = HfModels.load(dir, m, DataType.FLOAT32)) {
                    JsonObject inputs = JsonParser.parseString(Files.readString(dir.resolve("inputs.json"))).getAsJsonObject();
                    var expected = SafetensorsReader.read(dir.resolve("logits.safetensors"));
                    for (String variant : List.of("right", "left")) {
                        float[] want = expected.tensor("logits_" + variant).toFloats();
                        double diff = maxDiffOnRealTokens(model, null, inputs.getAsJsonObject(variant), want, m);
                        assertThat(diff).as("%s %s max |Δlogit|", fx.get("name"), variant).isLessThan(1e-4);
                        checked++;
                    }
                    if (inputs.has("greedy_prompt")) {
                        int[] prompt = ints(inputs.getAsJsonArray("greedy_prompt"));
                        int[] full = ints(inputs.getAsJsonArray("greedy_output"));
                        int n = full.length - prompt.length;
                        int[] got = Generator.generate(new ModelLogitSource(model, null, 0), List.of(prompt),
                                Generator.Config.greedy(n, -1)).get(0);
                        assertThat(got).isEqualTo(java.util.Arrays.copyOfRange(full, prompt.length, full.length));
                    }
                    if (fx.get("name").getAsString().equals("llama-gqa")) {
                        writePeftCheck(model, dir, inputs.getAsJsonObject("right"), m);
                        Path lora = ORACLE.resolve("llama-gqa-lora");
                        if (Files.exists(lora.resolve("adapter_config.json"))) {
                            try (LoraAdapter adapter = PeftAdapters.load(new DirectoryModelSource(lora), model, m)) {
                                JsonObject li = JsonParser.parseString(Files.readString(lora.resolve("inputs.json"))).getAsJsonObject();
                                float[] want = SafetensorsReader.read(lora.resolve("logits.safetensors")).tensor("logits_right").toFloats();
                                double diff = maxDiffOnRealTokens(model, adapter, li.getAsJsonObject("right"), want, m);
                                assertThat(diff).as("PEFT-saved adapter max |Δlogit|").isLessThan(1e-4);
                                checked++;
                            }
                        }
                    }
                }
            }
        }
        assertThat(checked).isGreaterThanOrEqualTo(10);
    }

    /** Our adapter in PEFT format plus our logits with it, for the Python side to verify. */
    private static void writePeftCheck(DecoderModel model, Path baseDir, JsonObject right, NDManager m) throws Exception {
        Path out = Path.of("target/peft-check");
        Files.createDirectories(out);
        try (LoraAdapter adapter = LoraAdapter.create(model, new LoraConfig(4, 8, 0,
                List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")), 11, m)) {
            var t = adapter.exportTensors();
            SplittableRandom r = new SplittableRandom(5);
            for (var e : t.entrySet()) {
                if (e.getKey().endsWith("lora_B")) {
                    float[] v = e.getValue().values();
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) (r.nextGaussian() * 0.1);
                    }
                }
            }
            adapter.load(t);
            PeftAdapters.save(adapter, model.config(), new DirectoryModelSink(out.resolve("adapter")), baseDir.toString());
            NDArray logits = forward(model, adapter, right, m);
            SafetensorsWriter.write(out.resolve("logits.safetensors"), List.of(
                    TensorEntry.ofFloats("logits_right", logits.getShape().getShape(), logits.toFloatArray())), null);
        }
    }

    private static NDArray forward(DecoderModel model, LoraAdapter adapter, JsonObject in, NDManager m) {
        long[][] ids = longs(in.getAsJsonArray("input_ids"));
        long[][] mask = longs(in.getAsJsonArray("attention_mask"));
        long[][] pos = longs(in.getAsJsonArray("position_ids"));
        int b = ids.length, t = ids[0].length;
        Shape s = new Shape(b, t);
        return model.forward(Ops.fromLongs(m, flat(ids), s), Ops.fromLongs(m, flat(mask), s), Ops.fromLongs(m, flat(pos), s),
                null, adapter, null);
    }

    private static double maxDiffOnRealTokens(DecoderModel model, LoraAdapter adapter, JsonObject in, float[] want, NDManager m) {
        float[] got = forward(model, adapter, in, m).toFloatArray();
        long[][] mask = longs(in.getAsJsonArray("attention_mask"));
        int v = model.config().vocabSize();
        int t = mask[0].length;
        double diff = 0;
        for (int bi = 0; bi < mask.length; bi++) {
            for (int ti = 0; ti < t; ti++) {
                if (mask[bi][ti] == 0) {
                    continue; // logits at padded positions are implementation-defined
                }
                for (int k = 0; k < v; k++) {
                    int idx = (bi * t + ti) * v + k;
                    diff = Math.max(diff, Math.abs(got[idx] - want[idx]));
                }
            }
        }
        return diff;
    }

    private static long[][] longs(JsonArray rows) {
        List<long[]> out = new ArrayList<>();
        for (var r : rows) {
            JsonArray a = r.getAsJsonArray();
            long[] x = new long[a.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = a.get(i).getAsLong();
            }
            out.add(x);
        }
        return out.toArray(new long[0][]);
    }

    private static long[] flat(long[][] x) {
        return java.util.Arrays.stream(x).flatMapToLong(java.util.Arrays::stream).toArray();
    }

    private static int[] ints(JsonArray a) {
        int[] x = new int[a.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = a.get(i).getAsInt();
        }
        return x;
    }
}
