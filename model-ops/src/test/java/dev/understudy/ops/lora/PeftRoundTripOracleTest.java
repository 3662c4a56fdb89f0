package dev.understudy.ops.lora;

import static dev.understudy.ops.model.OracleInputs.ids;
import static dev.understudy.ops.model.OracleInputs.json;
import static dev.understudy.ops.model.OracleInputs.maskedMaxDiff;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import java.nio.file.Files;
import java.nio.file.Path;
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
            assertThat(maskedMaxDiff(adapted, peft, in, v)).as("base + adapter vs PeftModel").isLessThan(TOL);
            float[] plain = forward(base, null, in, m);
            assertThat(maskedMaxDiff(plain, peft, in, v)).as("the adapter changes the logits (else the check is vacuous)")
                    .isGreaterThan(1e-2);
            assertThat(maskedMaxDiff(forward(merged, null, in, m), want.tensor("merged_logits_right").toFloats(), in, v))
                    .as("our merged export vs merge_and_unload").isLessThan(TOL);
        }
    }

    private static float[] forward(DecoderModel model, LoraAdapter adapter, JsonObject in, NDManager m) {
        return model.forward(ids(in, "input_ids", m), ids(in, "attention_mask", m), ids(in, "position_ids", m),
                null, adapter, null).toFloatArray();
    }

}
