package dev.understudy.ops.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.io.Checkpoints;
import dev.understudy.ops.io.DType;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.JsonFiles;
import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.io.ModelSource;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.tokenizer.TokenizerSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face model directories: {@code config.json} plus {@code model.safetensors} (or shards
 * with {@code model.safetensors.index.json}), and optionally the tokenizer files.
 *
 * <pre>
 * try (NDManager m = NDManager.newBaseManager("PyTorch");
 *      DecoderModel model = HfModels.load(new DirectoryModelSource(dir), m, DataType.FLOAT32)) {
 *     NDArray logits = model.forward(ids);
 * }
 * </pre>
 *
 * Loading goes through {@link ModelSource}, so the Spark job can read from any Hadoop filesystem.
 * F16 and BF16 checkpoints are widened to the compute dtype on the JVM side (BF16 NDArrays crash
 * DJL 0.35, stack.md §3).
 */
public final class HfModels {
    private HfModels() {}

    /** Reads and validates {@code config.json}. */
    public static ModelConfig loadConfig(ModelSource source) throws IOException {
        return ModelConfigs.parse(JsonFiles.read(source, "config.json"), source.describe());
    }

    /** Loads a model; the returned model's manager is a child of {@code parent}. */
    public static DecoderModel load(ModelSource source, NDManager parent, DataType dtype) throws IOException {
        ModelConfig config = loadConfig(source);
        Map<String, TensorEntry> tensors = Checkpoints.load(source);
        Map<String, HostTensor> host = new LinkedHashMap<>();
        for (Map.Entry<String, TensorEntry> e : tensors.entrySet()) {
            TensorEntry t = e.getValue();
            if (!t.dtype().isFloating()) {
                if (e.getKey().endsWith("attn.bias") || e.getKey().endsWith("attn.masked_bias")) {
                    continue; // GPT-2's causal-mask buffers, stored as bool/uint8 by some exporters
                }
                throw new dev.understudy.ops.util.ModelFormatException(source.describe() + ": tensor " + e.getKey()
                        + " has dtype " + t.dtype() + "; model weights must be F32, F16, BF16 or F64");
            }
            host.put(e.getKey(), new HostTensor(t.shape(), t.toFloats()));
        }
        try {
            return DecoderModel.fromTensors(config, host, source.describe(), parent, dtype);
        } catch (IllegalArgumentException ex) {
            throw new dev.understudy.ops.util.ModelFormatException(ex.getMessage(), ex);
        }
    }

    /** Loads a model from a local directory. */
    public static DecoderModel load(Path dir, NDManager parent, DataType dtype) throws IOException {
        return load(new DirectoryModelSource(dir), parent, dtype);
    }

    /** Saves config.json and F32 weights in one file (HF's 5 GB shard limit). */
    public static void save(DecoderModel model, ModelSink sink) throws IOException {
        save(model, sink, DType.F32, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
    }

    /**
     * Saves config.json and the weights in {@code storage} dtype (F32, F16 or BF16), sharded when
     * larger than {@code maxShardBytes}.
     */
    public static void save(DecoderModel model, ModelSink sink, DType storage, long maxShardBytes) throws IOException {
        List<TensorEntry> entries = new ArrayList<>();
        for (Map.Entry<String, HostTensor> e : model.exportTensors().entrySet()) {
            entries.add(TensorEntry.ofFloats(e.getKey(), e.getValue().shape(), e.getValue().values(), storage));
        }
        JsonFiles.write(sink, "config.json", ModelConfigs.toJson(model.config()));
        Checkpoints.save(sink, entries, maxShardBytes);
    }

    /**
     * Creates a complete Hugging Face directory for a random-init model: config.json (with the
     * tokenizer's special ids), model.safetensors and the tokenizer files.
     *
     * @return the config written (special token ids filled in from the tokenizer)
     */
    public static ModelConfig createRandom(ModelConfig config, long seed, TokenizerSpec tokenizer, Path dir)
            throws IOException {
        if (config.vocabSize() < tokenizer.vocabSize()) {
            throw new IllegalArgumentException("vocab_size " + config.vocabSize() + " is smaller than the tokenizer's "
                    + tokenizer.vocabSize() + " tokens");
        }
        var roles = tokenizer.roles();
        ModelConfig withIds = config.withSpecialTokens(
                id(tokenizer, roles.bos()), id(tokenizer, roles.eos()), id(tokenizer, roles.pad()));
        Files.createDirectories(dir);
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel model = DecoderModel.randomInit(withIds, seed, m, DataType.FLOAT32)) {
            save(model, new DirectoryModelSink(dir));
        }
        tokenizer.writeTo(dir);
        return withIds;
    }

    private static int id(TokenizerSpec spec, String token) {
        if (token == null) {
            return -1;
        }
        int i = spec.tokens().indexOf(token);
        return i;
    }
}
