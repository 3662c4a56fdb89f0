package dev.understudy.ops.surgery;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.io.Checkpoints;
import dev.understudy.ops.io.DType;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.JsonFiles;
import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.io.ModelSource;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.model.ModelConfigs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model built by surgery: its config (per-layer FFN widths where they differ), its tensors in the
 * on-disk Hugging Face layout, and its provenance.
 *
 * <p>On disk it is a normal Hugging Face model directory ({@code config.json}, {@code
 * model.safetensors}) plus {@code derivation.json}. When every layer has the same FFN width the
 * directory loads in transformers as is. When widths differ, {@code config.json} carries {@code
 * intermediate_size} = the largest width and Understudy's extra key {@code
 * understudy_intermediate_sizes} (one width per layer); {@link HfModels#load} and every Understudy
 * command read it, while transformers (which builds every layer at {@code intermediate_size})
 * refuses the smaller tensors.
 */
public record DerivedModel(ModelConfig config, Map<String, HostTensor> tensors, Derivation derivation) {
    public DerivedModel {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** Builds the live model (validating every tensor shape against the config). */
    public DecoderModel toModel(NDManager parent, DataType dtype) {
        return DecoderModel.fromTensors(config, tensors, "derived model (" + derivation.method() + ")", parent, dtype);
    }

    /** Number of scalar weights. */
    public long parameterCount() {
        long n = 0;
        for (HostTensor t : tensors.values()) {
            n += t.values().length;
        }
        return n;
    }

    /** Writes config.json, model.safetensors (F32) and derivation.json. */
    public void save(ModelSink sink) throws IOException {
        List<TensorEntry> entries = new ArrayList<>();
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            entries.add(TensorEntry.ofFloats(e.getKey(), e.getValue().shape(), e.getValue().values(), DType.F32));
        }
        JsonFiles.write(sink, "config.json", ModelConfigs.toJson(config));
        Checkpoints.save(sink, entries, Checkpoints.DEFAULT_MAX_SHARD_BYTES);
        JsonFiles.write(sink, Derivation.FILE, derivation.toJson());
    }

    /** Reads a derived model directory's provenance record. */
    public static Derivation readDerivation(ModelSource source) throws IOException {
        return Derivation.fromJson(JsonFiles.read(source, Derivation.FILE), source.describe() + "/" + Derivation.FILE);
    }

    /** Reads a derived model directory's provenance record. */
    public static Derivation readDerivation(Path dir) throws IOException {
        return readDerivation(new DirectoryModelSource(dir));
    }
}
