package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.job.testing.TinyJob;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.SafetensorsWriter;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.PeftAdapters;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes the Java half of the PEFT round trip ({@code model-ops/src/test/python/peft-roundtrip.sh}):
 * a tiny local FedAvg-LoRA run ({@link TinyJob}, 2 rounds) and what Understudy computes from its
 * exported {@code adapter/}, for transformers + peft to check. Opt-in: runs only with {@code
 * -Dunderstudy.peftRoundTrip.out=DIR}, and then writes
 *
 * <ul>
 *   <li>{@code DIR/base/}: the base model (config.json, model.safetensors, tokenizer files),
 *   <li>{@code DIR/adapter/}: the run's {@code adapter/} as written (adapter_config.json,
 *       adapter_model.safetensors),
 *   <li>{@code DIR/merged/}: {@code understudy export --merged} of the last round,
 *   <li>{@code DIR/inputs.json}: a right-padded batch of two tokenised prompts (transformers'
 *       format: input_ids, attention_mask, position_ids),
 *   <li>{@code DIR/understudy_logits.safetensors}: {@code logits_right} of base + adapter (LoRA
 *       applied on the fly) and {@code logits_merged} of the merged export, [B, T, V] f32.
 * </ul>
 */
@EnabledIfSystemProperty(named = "understudy.peftRoundTrip.out", matches = ".+")
class PeftRoundTripExport extends SparkTestBase {

    @TempDir
    Path tmp;

    @Test
    void writeFederatedAdapterAndUnderstudyLogits() throws Exception {
        Path out = Path.of(System.getProperty("understudy.peftRoundTrip.out")).toAbsolutePath();
        Files.createDirectories(out);
        TinyJob job = TinyJob.create(spark, tmp);
        var cfg = job.config(tmp.resolve("run").toUri().toString(), "server.rounds=2");
        FederatedJob.JobResult r = FederatedJob.run(spark, cfg, false);
        assertThat(r.rounds()).hasSize(2);
        copyDir(job.model, out.resolve("base"));
        copyDir(tmp.resolve("run/adapter"), out.resolve("adapter"));
        ExportJob.run(spark.sparkContext().hadoopConfiguration(), cfg, null, null, out.resolve("merged").toUri().toString());

        List<String> prompts = List.of("lovely cake 3 is good", "cold mud is");
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                Tokenizer tok = Tokenizer.load(job.model);
                DecoderModel base = HfModels.load(out.resolve("base"), m, DataType.FLOAT32);
                LoraAdapter adapter = PeftAdapters.load(new DirectoryModelSource(out.resolve("adapter")), base, m);
                DecoderModel merged = HfModels.load(out.resolve("merged"), m, DataType.FLOAT32)) {
            List<int[]> ids = new ArrayList<>();
            int t = 0;
            for (String p : prompts) {
                int[] x = tok.encode(p, tok.addBosByDefault(), false);
                ids.add(x);
                t = Math.max(t, x.length);
            }
            int b = ids.size();
            long[][] inputIds = new long[b][t];
            long[][] mask = new long[b][t];
            long[][] pos = new long[b][t];
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < t; j++) {
                    boolean real = j < ids.get(i).length;
                    inputIds[i][j] = real ? ids.get(i)[j] : tok.padIdOrEos();
                    mask[i][j] = real ? 1 : 0;
                    pos[i][j] = j;
                }
            }
            Map<String, Object> right = new LinkedHashMap<>();
            right.put("input_ids", inputIds);
            right.put("attention_mask", mask);
            right.put("position_ids", pos);
            Map<String, Object> inputs = new LinkedHashMap<>();
            inputs.put("right", right);
            inputs.put("pad_token_id", tok.padIdOrEos());
            inputs.put("prompts", prompts);
            Gson gson = new GsonBuilder().create();
            Files.writeString(out.resolve("inputs.json"), gson.toJson(inputs) + "\n");

            NDArray idsA = nd(m, inputIds);
            NDArray maskA = nd(m, mask);
            NDArray posA = nd(m, pos);
            float[] adapted = base.forward(idsA, maskA, posA, null, adapter, null).toFloatArray();
            float[] fromMerged = merged.forward(idsA, maskA, posA, null, null, null).toFloatArray();
            long[] shape = {b, t, base.config().vocabSize()};
            SafetensorsWriter.write(out.resolve("understudy_logits.safetensors"),
                    List.of(TensorEntry.ofFloats("logits_right", shape, adapted),
                            TensorEntry.ofFloats("logits_merged", shape, fromMerged)),
                    Map.of("source", "Understudy PeftRoundTripExport: TinyJob FedAvg-LoRA, 2 rounds"));
        }
        System.out.println("peft round trip: wrote " + out);
    }

    private static NDArray nd(NDManager m, long[][] x) {
        long[] flat = Stream.of(x).flatMapToLong(java.util.Arrays::stream).toArray();
        return Ops.fromLongs(m, flat, new Shape(x.length, x[0].length));
    }

    private static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path f : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
