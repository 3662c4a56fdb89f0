package dev.understudy.ops.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.ops.io.TfCheckpoint;
import dev.understudy.ops.model.ModelConfig.Activation;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.tokenizer.Tokenizer;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TensorFlow checkpoint reader, the TF → Hugging Face conversion, the encoder forward and the
 * WordPiece tokenizer.json, on the tiny fixture {@code make_bert_fixture.py} wrote with TensorFlow's
 * own {@code Saver} and transformers' {@code BertForMaskedLM} / {@code BertTokenizerFast} (random
 * weights, hidden 8, 2 layers; see {@code src/test/resources/bert-tiny/}). The same path on the real
 * BERT-base is checked against TensorFlow and transformers by {@code bench/bert/oracle.sh}.
 */
class BertImportTest {
    static final Path FIXTURE = Path.of("src/test/resources/bert-tiny");
    static JsonObject expected;

    @BeforeAll
    static void readExpected() throws IOException {
        expected = JsonParser.parseString(Files.readString(FIXTURE.resolve("expected.json"))).getAsJsonObject();
    }

    @Test
    void readsTheCheckpointIndexAndTensorsThatTensorFlowWrote() throws IOException {
        try (TfCheckpoint ckpt = TfCheckpoint.open(FIXTURE.resolve("variables/variables"))) {
            // 2 layers x 16 + 5 embeddings + 2 pooler + 5 MLM + 2 NSP + global_step
            assertThat(ckpt.entries()).hasSize(2 * 16 + 5 + 2 + 5 + 2 + 1);
            TfCheckpoint.Entry q = ckpt.entries().get("module/bert/encoder/layer_1/intermediate/dense/kernel");
            assertThat(q.shape()).containsExactly(8, 16);
            assertThat(ckpt.floats("module/bert/encoder/layer_1/intermediate/dense/kernel")).hasSize(128);
            assertThat(ckpt.entries().get("module/bert/embeddings/word_embeddings").shape()).containsExactly(59, 8);
            assertThat(ckpt.bytes("global_step").getLong()).isEqualTo(1000L);
            assertThatThrownBy(() -> ckpt.floats("global_step")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("not float32");
            assertThatThrownBy(() -> ckpt.floats("nope")).hasMessageContaining("has no tensor nope");
        }
    }

    @Test
    void aCorruptDataShardFailsItsChecksumNamingTheTensor(@TempDir Path tmp) throws IOException {
        Files.createDirectories(tmp.resolve("variables"));
        for (String f : new String[] {"variables.index", "variables.data-00000-of-00001"}) {
            Files.copy(FIXTURE.resolve("variables").resolve(f), tmp.resolve("variables").resolve(f));
        }
        Path data = tmp.resolve("variables/variables.data-00000-of-00001");
        String name = "module/bert/pooler/dense/bias";
        long offset;
        try (TfCheckpoint ckpt = TfCheckpoint.open(tmp.resolve("variables/variables"))) {
            offset = ckpt.entries().get(name).offset();
        }
        byte[] bytes = Files.readAllBytes(data);
        bytes[(int) offset + 1] ^= 0x40;
        Files.write(data, bytes);
        try (TfCheckpoint ckpt = TfCheckpoint.open(tmp.resolve("variables/variables"))) {
            assertThatThrownBy(() -> ckpt.floats(name)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining(name).hasMessageContaining("CRC-32C");
        }
        assertThatThrownBy(() -> TfCheckpoint.open(tmp.resolve("nothing"))).hasMessageContaining("no TensorFlow checkpoint index");
        Path index = tmp.resolve("variables/variables.index");
        byte[] ix = Files.readAllBytes(index);
        ix[ix.length - 1] ^= 1;
        Files.write(index, ix);
        assertThatThrownBy(() -> TfCheckpoint.open(tmp.resolve("variables/variables")))
                .hasMessageContaining("bad table magic");
    }

    @Test
    void namesFollowTransformersTfLoader() {
        assertThat(BertConversion.hfName("module/bert/encoder/layer_11/attention/self/query/kernel"))
                .isEqualTo("bert.encoder.layer.11.attention.self.query.weight");
        assertThat(BertConversion.hfName("bert/embeddings/LayerNorm/gamma")).isEqualTo("bert.embeddings.LayerNorm.weight");
        assertThat(BertConversion.hfName("bert/embeddings/LayerNorm/beta")).isEqualTo("bert.embeddings.LayerNorm.bias");
        assertThat(BertConversion.hfName("bert/embeddings/word_embeddings")).isEqualTo("bert.embeddings.word_embeddings.weight");
        assertThat(BertConversion.hfName("module/cls/predictions/output_bias")).isEqualTo("cls.predictions.bias");
        assertThat(BertConversion.hfName("cls/seq_relationship/output_weights")).isNull();
        assertThat(BertConversion.transpose(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)).containsExactly(1, 4, 2, 5, 3, 6);
    }

    @Test
    void convertedModelMatchesTransformersOnAPaddedTwoSegmentBatch(@TempDir Path out) throws IOException {
        BertConversion.Result r = BertConversion.convert(FIXTURE, 2, true, out);
        assertThat(r.config().numLayers()).isEqualTo(2);
        assertThat(r.config().activation()).isEqualTo(Activation.GELU_TANH);
        assertThat(r.tensors()).isEqualTo(2 * 16 + 5 + 2 + 5);
        assertThat(Stream.of("config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json")).allMatch(f -> Files.isRegularFile(out.resolve(f)));

        // the fixture's expected outputs were computed with hidden_act gelu_new, like the conversion
        long[][] ids = longs(expected.getAsJsonArray("batch_ids"));
        long[][] mask = longs(expected.getAsJsonArray("batch_mask"));
        long[][] types = longs(expected.getAsJsonArray("batch_types"));
        int b = ids.length;
        int t = ids[0].length;
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                BertModel model = BertModel.load(out, m, DataType.FLOAT32)) {
            assertThat(model.config().mlmHead()).isTrue();
            NDArray seq = model.forward(Ops.fromLongs(m, flat(ids), new Shape(b, t)), Ops.fromLongs(m, flat(types), new Shape(b, t)),
                    Ops.fromLongs(m, flat(mask), new Shape(b, t)), null, null);
            float[] got = seq.toFloatArray();
            float[] want = floats(expected.getAsJsonArray("sequence"));
            int d = 8;
            double worst = 0;
            int compared = 0;
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < t; j++) {
                    if (mask[i][j] == 0) {
                        continue; // padded positions are not defined to match
                    }
                    for (int k = 0; k < d; k++) {
                        int at = (i * t + j) * d + k;
                        worst = Math.max(worst, Math.abs(got[at] - want[at]));
                        compared++;
                    }
                }
            }
            assertThat(compared).isEqualTo(8 * (7 + 5 + 6));
            assertThat(worst).as("max |Δ| of the sequence output").isLessThan(1e-5);
            assertThat(maxDiff(model.pooled(seq).toFloatArray(), floats(expected.getAsJsonArray("pooled")))).isLessThan(1e-5);
            float[] logits = model.mlmLogits(seq).toFloatArray();
            float[] wantLogits = floats(expected.getAsJsonArray("mlm_logits"));
            int v = 59;
            double lw = 0;
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < t; j++) {
                    for (int k = 0; k < v && mask[i][j] == 1; k++) {
                        int at = (i * t + j) * v + k;
                        lw = Math.max(lw, Math.abs(logits[at] - wantLogits[at]));
                    }
                }
            }
            assertThat(lw).as("max |Δ| of the MLM logits").isLessThan(1e-4);
        }
    }

    @Test
    void tokenizerJsonGivesBertTokenizerFastIds(@TempDir Path out) throws IOException {
        BertConversion.convert(FIXTURE, 2, true, out);
        JsonArray sentences = expected.getAsJsonArray("sentences");
        JsonArray ids = expected.getAsJsonArray("ids");
        try (Tokenizer tok = Tokenizer.load(out)) {
            BertInputs inputs = new BertInputs(tok);
            for (int i = 0; i < sentences.size(); i++) {
                String s = sentences.get(i).getAsString();
                int[] want = ints(ids.get(i).getAsJsonArray());
                assertThat(inputs.encode(s)).as("ids of %s", s).containsExactly(want);
            }
            BertInputs.Encoded cut = inputs.encode(sentences.get(1).getAsString(), 5);
            assertThat(cut.truncated()).isTrue();
            assertThat(cut.ids()).containsExactly(3, 17, 18, 19, 4);
            assertThat(inputs.padId()).isZero();
        }
    }

    @Test
    void conversionRejectsAVocabularyThatDoesNotFitTheEmbeddings(@TempDir Path tmp) throws IOException {
        Files.createDirectories(tmp.resolve("variables"));
        Files.createDirectories(tmp.resolve("assets"));
        for (String f : new String[] {"variables.index", "variables.data-00000-of-00001"}) {
            Files.copy(FIXTURE.resolve("variables").resolve(f), tmp.resolve("variables").resolve(f),
                    StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(tmp.resolve("assets/vocab.txt"), Files.readString(FIXTURE.resolve("assets/vocab.txt")) + "extra\n");
        assertThatThrownBy(() -> BertConversion.convert(tmp, 2, true, tmp.resolve("out")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("60 tokens").hasMessageContaining("59 rows");
    }

    static double maxDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double w = 0;
        for (int i = 0; i < a.length; i++) {
            w = Math.max(w, Math.abs(a[i] - b[i]));
        }
        return w;
    }

    static long[][] longs(JsonArray rows) {
        long[][] out = new long[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            JsonArray r = rows.get(i).getAsJsonArray();
            out[i] = new long[r.size()];
            for (int j = 0; j < r.size(); j++) {
                out[i][j] = r.get(j).getAsLong();
            }
        }
        return out;
    }

    static long[] flat(long[][] rows) {
        return Stream.of(rows).flatMapToLong(java.util.Arrays::stream).toArray();
    }

    static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsFloat();
        }
        return out;
    }

    static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }
}
