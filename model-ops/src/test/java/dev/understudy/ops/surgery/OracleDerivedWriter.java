package dev.understudy.ops.surgery;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The derived models of the transformers oracle for surgery: built by today's surgery code from the
 * HF oracle's parent fixtures and saved by {@link DerivedModel#save}. {@code
 * model-ops/src/test/python/regenerate-oracle.sh} runs {@link #main}, then {@code
 * make_derived_oracle.py} loads each directory in transformers and writes its logits; {@link
 * DerivedOracleTest} checks Understudy's logits against them and that the directories are still
 * what this code writes.
 */
public final class OracleDerivedWriter {
    private OracleDerivedWriter() {}

    /** One derived fixture: its name, its parent fixture and how it is built from the parent. */
    record Recipe(String name, String parent, Function<Parent, DerivedModel> build) {}

    /** A parent fixture: its config, tensors and the oracle inputs. */
    record Parent(ModelConfig config, Map<String, HostTensor> tensors, JsonObject inputs) {}

    static List<Recipe> recipes() {
        return List.of(
                // uniform widths: a plain LLaMA checkpoint (24 of 64 neurons in both layers)
                new Recipe("llama-gqa-pruned-uniform", "llama-gqa",
                        p -> SubModels.pruneBySaliency(p.config(), p.tensors(), 24, Set.of())),
                // FedPFT-style exempt first layer: widths [64, 16] differ per layer
                new Recipe("llama-gqa-pruned-perlayer", "llama-gqa",
                        p -> SubModels.pruneBySaliency(p.config(), p.tensors(), 16, Set.of(0))),
                // Block Influence on the oracle's right-padded inputs (real tokens only); keep 1 of 2
                new Recipe("llama-gqa-dropped-bi", "llama-gqa", p -> dropByBi(p, 1)),
                // GPT-2's Conv1D layout (c_fc columns, c_proj rows, c_fc bias), uniform 40 of 128
                new Recipe("gpt2-pruned-uniform", "gpt2",
                        p -> SubModels.pruneBySaliency(p.config(), p.tensors(), 40, Set.of())),
                new Recipe("gpt2-dropped-bi", "gpt2", p -> dropByBi(p, 1)));
    }

    private static DerivedModel dropByBi(Parent p, int keep) {
        List<int[]> seqs = realTokens(p.inputs().getAsJsonObject("right"));
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel model = DecoderModel.fromTensors(p.config(), p.tensors(), "parent", m, DataType.FLOAT32)) {
            Calibration cal = Calibration.measure(model, seqs, 2, 0);
            return SubModels.dropByBlockInfluence(p.config(), p.tensors(), cal.blockInfluence(), keep, Set.of(),
                    cal.tokens());
        }
    }

    /** The unpadded sequences of an oracle batch. */
    static List<int[]> realTokens(JsonObject batch) {
        JsonArray ids = batch.getAsJsonArray("input_ids");
        JsonArray mask = batch.getAsJsonArray("attention_mask");
        List<int[]> out = new ArrayList<>();
        for (int r = 0; r < ids.size(); r++) {
            List<Integer> s = new ArrayList<>();
            for (int t = 0; t < ids.get(r).getAsJsonArray().size(); t++) {
                if (mask.get(r).getAsJsonArray().get(t).getAsInt() == 1) {
                    s.add(ids.get(r).getAsJsonArray().get(t).getAsInt());
                }
            }
            out.add(s.stream().mapToInt(Integer::intValue).toArray());
        }
        return out;
    }

    static Parent parent(Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel model = HfModels.load(dir, m, DataType.FLOAT32)) {
            JsonObject inputs = JsonParser.parseString(Files.readString(dir.resolve("inputs.json"))).getAsJsonObject();
            return new Parent(model.config(), new LinkedHashMap<>(model.exportTensors()), inputs);
        }
    }

    /** {@code args[0]}: the HF oracle directory (parents); {@code args[1]}: where to write. */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: OracleDerivedWriter ORACLE_DIR OUT_DIR");
        }
        Path oracle = Path.of(args[0]);
        Path out = Path.of(args[1]);
        for (Recipe r : recipes()) {
            Path parentDir = oracle.resolve(r.parent());
            Path dir = out.resolve(r.name());
            Files.createDirectories(dir);
            r.build().apply(parent(parentDir)).save(new DirectoryModelSink(dir));
            Files.copy(parentDir.resolve("inputs.json"), dir.resolve("inputs.json"), StandardCopyOption.REPLACE_EXISTING);
            System.out.println("wrote " + dir);
        }
    }
}
