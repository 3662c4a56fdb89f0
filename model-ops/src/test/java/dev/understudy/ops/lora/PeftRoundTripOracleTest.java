package dev.understudy.ops.lora;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.Ops;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PEFT round trip of a federated run's exported adapter, without Python: {@code
 * src/test/resources/oracle-roundtrip/fedavg-llama/} holds the base model and the {@code adapter/}
 * that a 2-round FedAvg-LoRA run of Understudy wrote, and transformers 5.18 + peft 0.21's logits for
 * them ({@code PeftModel.from_pretrained(base, adapter)}, and after {@code merge_and_unload()}), as
 * {@code model-ops/src/test/python/peft-roundtrip.sh --update-fixture} recorded them. Our forward
 * with that adapter, and our merged export ({@link LoraMerge}), must give those logits within 1e-4
 * at the attention_mask == 1 positions.
 */
class PeftRoundTripOracleTest {
    static final Path DIR = Path.of("src/test/resources/oracle-roundtrip/fedavg-llama");
    static final double TOL = 1e-4;

    @TempDir
    Path tmp;

    @Test
    void exportedFederatedAdapterGivesPeftsLogits() throws Exception {
        JsonObject in = JsonParser.parseString(Files.readString(DIR.resolve("inputs.json")))
                .getAsJsonObject().getAsJsonObject("right");
        var want = SafetensorsReader.read(DIR.resolve("transformers_logits.safetensors"));
        LoraMerge.export(new DirectoryModelSource(DIR.resolve("base")), new DirectoryModelSource(DIR.resolve("adapter")),
                new DirectoryModelSink(tmp.resolve("merged")));
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel base = HfModels.load(DIR.resolve("base"), m, DataType.FLOAT32);
                LoraAdapter adapter = PeftAdapters.load(new DirectoryModelSource(DIR.resolve("adapter")), base, m);
                DecoderModel merged = HfModels.load(tmp.resolve("merged"), m, DataType.FLOAT32)) {
            int v = base.config().vocabSize();
            float[] peft = want.tensor("peft_logits_right").toFloats();
            float[] adapted = forward(base, adapter, in, m);
            assertThat(maxDiff(adapted, peft, in, v)).as("base + adapter vs PeftModel").isLessThan(TOL);
            float[] plain = forward(base, null, in, m);
            assertThat(maxDiff(plain, peft, in, v)).as("the adapter changes the logits (else the check is vacuous)")
                    .isGreaterThan(1e-2);
            assertThat(maxDiff(forward(merged, null, in, m), want.tensor("merged_logits_right").toFloats(), in, v))
                    .as("our merged export vs merge_and_unload").isLessThan(TOL);
        }
    }

    private static float[] forward(DecoderModel model, LoraAdapter adapter, JsonObject in, NDManager m) {
        return model.forward(ids(in, "input_ids", m), ids(in, "attention_mask", m), ids(in, "position_ids", m),
                null, adapter, null).toFloatArray();
    }

    private static NDArray ids(JsonObject in, String key, NDManager m) {
        long[][] x = longs(in.getAsJsonArray(key));
        return Ops.fromLongs(m, Arrays.stream(x).flatMapToLong(Arrays::stream).toArray(), new Shape(x.length, x[0].length));
    }

    /** Max |got − want| over [B, T, width] arrays at positions whose attention mask is 1. */
    private static double maxDiff(float[] got, float[] want, JsonObject in, int width) {
        long[][] mask = longs(in.getAsJsonArray("attention_mask"));
        int t = mask[0].length;
        assertThat(got).hasSameSizeAs(want);
        assertThat(want.length).isEqualTo(mask.length * t * width);
        double diff = 0;
        for (int b = 0; b < mask.length; b++) {
            for (int i = 0; i < t; i++) {
                for (int k = 0; mask[b][i] == 1 && k < width; k++) {
                    int idx = (b * t + i) * width + k;
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
}
