package dev.understudy.job.data;

import dev.understudy.job.run.JobSettings;
import dev.understudy.job.engine.ClientData;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.job.FederatedJob;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.EvalFunction;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The executors tokenise training rows as transformers would: for every tokenizer kind of the
 * transformers oracle (model-ops test-jar, {@code oracle/tokenizers/<kind>/expected.json}, written
 * by transformers 5.18), {@link TokenizeFunction} gives {@code tokenizer(prompt)["input_ids"]} (BOS
 * only where transformers adds one: not for GPT-2 or Qwen2, which has no BOS at all), then the
 * response's ids without special tokens, then EOS. Regression for the forced BOS (a GPT-2 row got
 * a BOS the model never saw in pretraining; a Qwen2 row threw).
 */
class TokenizeFunctionOracleTest {
    private static final List<String> KINDS = List.of("understudy-bytelevel-bpe", "gpt2-bytelevel-bpe",
            "llama3-bytelevel-bpe", "llama2-sentencepiece-bpe", "qwen2-bytelevel-bpe");
    private static final List<String> FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "expected.json");

    @TempDir
    Path tmp;

    @TestFactory
    Stream<DynamicTest> tokenizeFunctionGivesTransformersIds() {
        return KINDS.stream().map(kind -> DynamicTest.dynamicTest(kind, () -> {
            Path dir = fixture(kind);
            JsonObject exp = JsonParser.parseString(Files.readString(dir.resolve("expected.json"))).getAsJsonObject();
            List<String> texts = new ArrayList<>();
            exp.getAsJsonArray("texts").forEach(e -> texts.add(e.getAsString()));
            int eos;
            try (Tokenizer tok = Tokenizer.load(dir)) {
                eos = tok.eosId().orElseThrow();
            }
            List<Row> rows = new ArrayList<>();
            List<int[]> expected = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                int j = (i + 1) % texts.size();
                if (texts.get(j).isEmpty()) {
                    j = (j + 1) % texts.size();
                }
                rows.add(RowFactory.create("c" + i % 2, "k" + i, texts.get(i), texts.get(j), false));
                int[] prompt = ints(exp.getAsJsonArray("input_ids").get(i).getAsJsonArray());
                int[] response = ints(exp.getAsJsonArray("input_ids_no_special").get(j).getAsJsonArray());
                int[] ids = Arrays.copyOf(prompt, prompt.length + response.length + 1);
                System.arraycopy(response, 0, ids, prompt.length, response.length);
                ids[ids.length - 1] = eos;
                expected.add(ids);
            }
            var fn = new TokenizeFunction(dir.toUri().toString(), 4096, HadoopConf.empty());
            var out = new ArrayList<ClientData.TokenizedRow>();
            fn.call(rows.iterator()).forEachRemaining(out::add);
            assertThat(out).hasSize(rows.size());
            for (int i = 0; i < out.size(); i++) {
                int[] prompt = ints(exp.getAsJsonArray("input_ids").get(i).getAsJsonArray());
                assertThat(out.get(i).tokens().ids()).as("%s row %s", kind, i).isEqualTo(expected.get(i));
                assertThat(out.get(i).tokens().promptLength()).as("%s row %s prompt length", kind, i)
                        .isEqualTo(prompt.length);
                assertThat(out.get(i).truncated()).isFalse();
            }
        }));
    }

    /** Label candidates for accuracy are the label words' ids without special tokens, then EOS. */
    @TestFactory
    Stream<DynamicTest> labelCandidatesAreTheLabelWordsIds() {
        return KINDS.stream().map(kind -> DynamicTest.dynamicTest(kind, () -> {
            Path dir = fixture(kind);
            JobConfig cfg = ConfigLoader.load(null, List.of(), List.of("data.path=/nonexistent", "data.format=parquet",
                    "data.kind=classification", "data.template={text} is",
                    "partitioning={type: iid, num_clients: 2}", "data.label_words={0: ' bad', 1: ' good'}",
                    "model.base=" + dir.toUri(), "output.dir=" + tmp.resolve("out").toUri()));
            try (Tokenizer tok = Tokenizer.load(dir)) {
                EvalFunction.Labels labels = JobSettings.labelCandidates(cfg, List.of("0", "1"), tok);
                int eos = tok.eosId().orElseThrow();
                assertThat(labels.responses().get(0)).isEqualTo(append(tok.encode(" bad"), eos));
                assertThat(labels.responses().get(1)).isEqualTo(append(tok.encode(" good"), eos));
            }
        }));
    }

    /** Copies one fixture out of the model-ops test-jar (a directory or a jar on the classpath). */
    private Path fixture(String kind) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(kind));
        for (String f : FILES) {
            try (InputStream in = getClass().getResourceAsStream("/oracle/tokenizers/" + kind + "/" + f)) {
                if (in != null) {
                    Files.copy(in, dir.resolve(f));
                }
            }
        }
        assertThat(dir.resolve("expected.json")).as("oracle fixture of %s on the test classpath", kind).exists();
        return dir;
    }

    private static int[] append(int[] a, int v) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = v;
        return out;
    }

    private static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }
}
