package dev.understudy.ops.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.understudy.ops.encoder.BertInputs;
import dev.understudy.ops.encoder.BertModel;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes what the BERT oracle script ({@code bench/bert/oracle.sh}) compares with TensorFlow and
 * transformers: our tokenizer's ids for every sentence, and, for the first {@code N} sentences run
 * as one right-padded batch, the sequence output, the pooled output and the MLM logits of the
 * first positions.
 *
 * <p>Usage: {@code BertOracleDump MODEL_DIR SENTENCES_FILE OUT_JSON [N]}.
 */
public final class BertOracleDump {
    private BertOracleDump() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        List<String> sentences = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8).stream()
                .filter(s -> !s.isBlank()).toList();
        int n = args.length > 3 ? Integer.parseInt(args[3]) : 6;
        JsonObject out = new JsonObject();
        try (Tokenizer tok = Tokenizer.load(dir); NDManager m = NDManager.newBaseManager("PyTorch");
                BertModel model = BertModel.load(dir, m, DataType.FLOAT32)) {
            BertInputs inputs = new BertInputs(tok);
            JsonArray ids = new JsonArray();
            int[][] batch = new int[n][];
            int t = 0;
            for (int i = 0; i < sentences.size(); i++) {
                int[] e = inputs.encode(sentences.get(i));
                JsonArray a = new JsonArray();
                for (int x : e) {
                    a.add(x);
                }
                ids.add(a);
                if (i < n) {
                    batch[i] = inputs.encode(sentences.get(i), 128).ids();
                    t = Math.max(t, batch[i].length);
                }
            }
            out.add("ids", ids);
            long[] flat = new long[n * t];
            long[] mask = new long[n * t];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < batch[i].length; j++) {
                    flat[i * t + j] = batch[i][j];
                    mask[i * t + j] = 1;
                }
            }
            long start = System.nanoTime();
            try (NDManager s = m.newSubManager()) {
                NDArray idArr = Ops.fromLongs(s, flat, new Shape(n, t));
                NDArray maskArr = Ops.fromLongs(s, mask, new Shape(n, t));
                NDArray seq = model.forward(idArr, null, maskArr, null, null);
                NDArray pooled = model.pooled(seq);
                out.add("batch_ids", rows(flat, n, t));
                out.add("batch_mask", rows(mask, n, t));
                out.add("sequence", floats(seq));
                out.add("pooled", floats(pooled));
                if (model.config().mlmHead()) {
                    out.add("mlm_logits_first4", floats(model.mlmLogits(seq).get(":, :4, :")));
                }
            }
            out.addProperty("forward_seconds", (System.nanoTime() - start) / 1e9);
        }
        Files.writeString(Path.of(args[2]), out.toString(), StandardCharsets.UTF_8);
    }

    private static JsonArray rows(long[] v, int n, int t) {
        JsonArray a = new JsonArray();
        for (int i = 0; i < n; i++) {
            JsonArray r = new JsonArray();
            for (int j = 0; j < t; j++) {
                r.add(v[i * t + j]);
            }
            a.add(r);
        }
        return a;
    }

    private static JsonObject floats(NDArray x) {
        JsonObject o = new JsonObject();
        JsonArray shape = new JsonArray();
        for (long d : x.getShape().getShape()) {
            shape.add(d);
        }
        o.add("shape", shape);
        JsonArray v = new JsonArray();
        for (float f : x.toFloatArray()) {
            v.add(f);
        }
        o.add("values", v);
        return o;
    }
}
