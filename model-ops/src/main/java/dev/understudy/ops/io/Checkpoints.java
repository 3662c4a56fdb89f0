package dev.understudy.ops.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.understudy.ops.util.ModelFormatException;
import dev.understudy.ops.util.Preconditions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Loads and saves Hugging Face safetensors checkpoints: a single {@code model.safetensors}, or
 * shards {@code model-00001-of-0000N.safetensors} listed by {@code model.safetensors.index.json}.
 * Tensor names are kept verbatim; turning them into model weights happens elsewhere.
 *
 * <pre>{@code
 * Map<String, TensorEntry> weights = Checkpoints.load(new DirectoryModelSource(Path.of("models/llama")));
 * float[] wq = weights.get("model.layers.0.self_attn.q_proj.weight").toFloats(); // BF16/F16 widened
 *
 * Checkpoints.save(new DirectoryModelSink(Path.of("out/round-7")), new ArrayList<>(weights.values()),
 *         Checkpoints.DEFAULT_MAX_SHARD_BYTES);
 * }</pre>
 *
 * <p>{@link #transform} rewrites a checkpoint tensor by tensor (one tensor in memory at a time),
 * keeping its layout; {@link #specs} reads the headers alone.
 *
 * <p>Local sources are memory-mapped (the returned entries are views of read-only mappings, which
 * Java releases when they become unreachable); other sources are streamed onto the heap.
 */
public final class Checkpoints {
    /** HF's default {@code max_shard_size} ("5GB"). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5L << 30;

    static final String SINGLE_FILE = "model.safetensors";

    static final String INDEX_FILE = "model.safetensors.index.json";

    private static final String PYTORCH_BIN = "pytorch_model.bin";

    private static final String PYTORCH_BIN_INDEX = "pytorch_model.bin.index.json";

    private Checkpoints() {}

    /**
     * Loads every tensor of the checkpoint in {@code source}. With an index, each shard is read once
     * and must hold exactly the tensors the index assigns to it. The result is ordered by shard
     * file name, then by data offset within the shard (for checkpoints written by {@link #save},
     * the order they were saved in).
     *
     * @throws ModelFormatException when there is no safetensors checkpoint, when both a single file
     *     and an index exist (ambiguous: one of them is stale), or when the index and shards disagree
     */
    public static Map<String, TensorEntry> load(ModelSource source) throws IOException {
        Preconditions.checkNotNull(source, "model source");
        if (isSharded(source)) {
            return loadSharded(source);
        }
        try (SafetensorsFile file = readFile(source, SINGLE_FILE)) {
            return file.all();
        }
    }

    /**
     * True for a sharded checkpoint (an index), false for a single file.
     *
     * @throws ModelFormatException when there is neither or both
     */
    private static boolean isSharded(ModelSource source) throws IOException {
        boolean indexed = source.exists(INDEX_FILE);
        boolean single = source.exists(SINGLE_FILE);
        if (indexed && single) {
            throw new ModelFormatException(String.format(
                    "%s holds both %s and %s; one of them is stale, remove it",
                    source.describe(), SINGLE_FILE, INDEX_FILE));
        }
        if (indexed || single) {
            return indexed;
        }
        boolean pytorch = source.exists(PYTORCH_BIN) || source.exists(PYTORCH_BIN_INDEX);
        throw new ModelFormatException(String.format(
                "No safetensors checkpoint in %s: expected %s or %s. %s",
                source.describe(), SINGLE_FILE, INDEX_FILE,
                pytorch
                        ? "It holds " + PYTORCH_BIN + " weights, which are not supported: convert them to safetensors"
                                + " (e.g. transformers' save_pretrained(..., safe_serialization=True))."
                        : "(" + PYTORCH_BIN + " is not supported either: convert it to safetensors.)"));
    }

    private static Map<String, TensorEntry> loadSharded(ModelSource source) throws IOException {
        Map<String, Set<String>> byShard = shardPlan(source);
        Map<String, TensorEntry> all = new LinkedHashMap<>();
        for (Map.Entry<String, Set<String>> e : byShard.entrySet()) {
            String shard = e.getKey();
            Map<String, TensorEntry> tensors;
            try (SafetensorsFile file = readFile(source, shard)) {
                tensors = file.all();
            }
            checkShardContents(source, shard, e.getValue(), tensors.keySet());
            all.putAll(tensors);
        }
        return all;
    }

    /**
     * Reads the index: shard file → the tensor names it must hold, shards sorted by name (HF's
     * numbering makes that save order). Checks that every shard exists.
     */
    private static Map<String, Set<String>> shardPlan(ModelSource source) throws IOException {
        JsonObject index = JsonFiles.read(source, INDEX_FILE);
        String indexLocation = source.describe(INDEX_FILE);
        JsonElement weightMap = index.get("weight_map");
        if (weightMap == null || !weightMap.isJsonObject()) {
            throw new ModelFormatException(String.format(
                    "%s has no \"weight_map\" object mapping tensor names to shard files", indexLocation));
        }
        Map<String, Set<String>> byShard = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : weightMap.getAsJsonObject().entrySet()) {
            JsonElement shard = e.getValue();
            if (!shard.isJsonPrimitive() || !shard.getAsJsonPrimitive().isString()) {
                throw new ModelFormatException(String.format(
                        "%s: weight_map entry of tensor '%s' must be a shard file name, got %s",
                        indexLocation, e.getKey(), shard));
            }
            checkShardName(shard.getAsString(), e.getKey(), indexLocation);
            byShard.computeIfAbsent(shard.getAsString(), k -> new HashSet<>()).add(e.getKey());
        }
        if (byShard.isEmpty()) {
            throw new ModelFormatException(String.format("%s has an empty weight_map", indexLocation));
        }
        for (Map.Entry<String, Set<String>> e : byShard.entrySet()) {
            String shard = e.getKey();
            Set<String> expected = e.getValue();
            if (!source.exists(shard)) {
                throw new ModelFormatException(String.format(
                        "%s lists shard %s for %s tensors (e.g. '%s'), but %s does not exist",
                        indexLocation, shard, expected.size(), expected.iterator().next(), source.describe(shard)));
            }
        }
        return byShard;
    }

    /** A shard must hold exactly the tensors the index maps to it. */
    private static void checkShardContents(ModelSource source, String shard, Set<String> expected,
            Collection<String> actual) throws ModelFormatException {
        String indexLocation = source.describe(INDEX_FILE);
        Set<String> present = new HashSet<>(actual);
        for (String name : expected) {
            if (!present.contains(name)) {
                throw new ModelFormatException(String.format(
                        "%s maps tensor '%s' to %s, but %s does not contain it",
                        indexLocation, name, shard, source.describe(shard)));
            }
        }
        for (String name : actual) {
            if (!expected.contains(name)) {
                throw new ModelFormatException(String.format(
                        "%s contains tensor '%s', which %s does not map to it",
                        source.describe(shard), name, indexLocation));
            }
        }
    }

    /**
     * The dtype and shape of every tensor of the checkpoint in {@code source}, reading only the
     * safetensors headers (a few KiB per file, whatever the model size). Same order and the same
     * checks as {@link #load}.
     */
    public static Map<String, TensorSpec> specs(ModelSource source) throws IOException {
        Preconditions.checkNotNull(source, "model source");
        Map<String, TensorSpec> all = new LinkedHashMap<>();
        if (!isSharded(source)) {
            headerOf(source, SINGLE_FILE).tensors().forEach(i -> all.put(i.name(), i.spec()));
            return all;
        }
        for (Map.Entry<String, Set<String>> e : shardPlan(source).entrySet()) {
            SafetensorsHeader header = headerOf(source, e.getKey());
            List<String> names = header.tensors().stream().map(SafetensorsHeader.Info::name).toList();
            checkShardContents(source, e.getKey(), e.getValue(), names);
            header.tensors().forEach(i -> all.put(i.name(), i.spec()));
        }
        return all;
    }

    private static SafetensorsHeader headerOf(ModelSource source, String file) throws IOException {
        try (InputStream in = source.open(file)) {
            return SafetensorsReader.readHeader(in, source.describe(file));
        }
    }

    /** Rewrites one tensor of a checkpoint; see {@link #transform}. */
    @FunctionalInterface
    public interface TensorTransform {
        /**
         * Returns the tensor to write in place of {@code tensor}: {@code tensor} itself, or a new
         * entry with the same name, dtype and shape. Called once per tensor, in file order.
         */
        TensorEntry apply(TensorEntry tensor) throws IOException;
    }

    /**
     * What {@link #transform} wrote.
     *
     * @param files the files written, in write order (shards, then the index)
     * @param tensors number of tensors written
     * @param bytes bytes written, safetensors headers and index included
     */
    public record TransformResult(List<String> files, int tensors, long bytes) {
        public TransformResult {
            files = List.copyOf(files);
        }
    }

    /**
     * Copies the checkpoint in {@code source} to {@code sink} tensor by tensor, passing each tensor
     * through {@code transform}. One pass over the source: each file's header is written first
     * (dtypes and shapes do not change, so the source header determines it), then each tensor is
     * read, transformed and written before the next is read, so only one tensor is in memory at a
     * time, whatever the model size. The layout is kept: the same single file, or the same shard
     * files, tensors in the same order with the same {@code __metadata__}, and the index copied
     * byte for byte (written last). The whole checkpoint is validated ({@link #specs}) before
     * anything is written; each file appears atomically as {@link ModelSink} promises.
     *
     * @throws ModelFormatException for a malformed or inconsistent checkpoint, naming the file
     * @throws IllegalArgumentException if {@code transform} returns a tensor of another name,
     *     dtype or shape (naming both), or if {@code sink} is {@code source}'s own location
     */
    public static TransformResult transform(ModelSource source, ModelSink sink, TensorTransform transform)
            throws IOException {
        Preconditions.checkNotNull(source, "model source");
        Preconditions.checkNotNull(sink, "model sink");
        Preconditions.checkNotNull(transform, "tensor transform");
        Preconditions.checkArgument(!sink.describe().equals(source.describe()),
                "Cannot rewrite the checkpoint in %s into the same location; write to another directory",
                source.describe());
        specs(source); // validate every header (and the index) before writing anything
        List<String> files = new ArrayList<>();
        long[] totals = new long[2]; // tensors, bytes
        if (!isSharded(source)) {
            rewriteFile(source, SINGLE_FILE, sink, transform, totals);
            files.add(SINGLE_FILE);
        } else {
            for (Map.Entry<String, Set<String>> e : shardPlan(source).entrySet()) {
                rewriteFile(source, e.getKey(), sink, transform, totals);
                files.add(e.getKey());
            }
            byte[] index;
            try (InputStream in = source.open(INDEX_FILE)) {
                index = in.readAllBytes();
            }
            sink.write(INDEX_FILE, out -> out.write(index));
            files.add(INDEX_FILE);
            totals[1] += index.length;
        }
        return new TransformResult(files, Math.toIntExact(totals[0]), totals[1]);
    }

    private static void rewriteFile(ModelSource source, String file, ModelSink sink, TensorTransform transform,
            long[] totals) throws IOException {
        String location = source.describe(file);
        try (InputStream in = source.open(file)) {
            sink.write(file, out -> {
                SafetensorsWriter.Streaming[] writer = new SafetensorsWriter.Streaming[1];
                SafetensorsReader.stream(in, location, header -> {
                    List<TensorSpec> specs = header.tensors().stream().map(SafetensorsHeader.Info::spec).toList();
                    writer[0] = SafetensorsWriter.streaming(out, specs, header.metadata());
                }, tensor -> {
                    TensorEntry result = transform.apply(tensor);
                    Preconditions.checkArgument(result != null,
                            "%s: the transform returned null for tensor '%s'", location, tensor.name());
                    try {
                        writer[0].write(result);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(location + ": the transform must keep each tensor's name, "
                                + "dtype and shape: " + e.getMessage(), e);
                    }
                });
                writer[0].finish();
                totals[0] += writer[0].tensorsWritten();
                totals[1] += writer[0].bytesWritten();
            });
        }
    }

    /**
     * Shard names come from a file that may have been downloaded: keep them inside the model
     * directory, whatever the source implementation does with {@code ..} or absolute paths.
     */
    private static void checkShardName(String shard, String tensor, String indexLocation) throws ModelFormatException {
        boolean valid = !shard.isEmpty() && !shard.startsWith("/") && !shard.contains("\\") && !shard.contains(":");
        for (String segment : shard.split("/", -1)) {
            valid &= !segment.isEmpty() && !segment.equals(".") && !segment.equals("..");
        }
        if (!valid) {
            throw new ModelFormatException(String.format(
                    "%s maps tensor '%s' to '%s', which is not a relative file name inside the model directory",
                    indexLocation, tensor, shard));
        }
    }

    private static SafetensorsFile readFile(ModelSource source, String relativePath) throws IOException {
        Optional<Path> local = source.localPath(relativePath);
        if (local.isPresent() && Files.isRegularFile(local.get())) {
            return SafetensorsReader.read(local.get());
        }
        try (InputStream in = source.open(relativePath)) {
            return SafetensorsReader.read(in, source.describe(relativePath));
        }
    }

    /**
     * Saves {@code tensors} in order: a single {@code model.safetensors} when their data fits in
     * {@code maxShardBytes}, otherwise shards filled greedily in order (a tensor larger than the
     * limit gets a shard of its own, as in HF) plus {@code model.safetensors.index.json}, written
     * last so that a reader never sees an index pointing at missing shards.
     *
     * <p>Save into an empty directory: files of an earlier checkpoint there are not removed, and
     * {@link #load} refuses a directory holding both a single file and an index.
     *
     * @param maxShardBytes shard size limit on tensor data bytes (headers not counted, as in HF)
     */
    public static void save(ModelSink sink, List<TensorEntry> tensors, long maxShardBytes) throws IOException {
        Preconditions.checkNotNull(sink, "model sink");
        Preconditions.checkNotNull(tensors, "tensors");
        Preconditions.checkArgument(maxShardBytes > 0,
                "Cannot set maxShardBytes to %s, the value must be positive", maxShardBytes);
        // Validate names before anything is written, so that a bad list leaves no partial output.
        SafetensorsWriter.header(tensors, null);

        long totalSize = SafetensorsWriter.dataSizeOf(tensors);
        if (totalSize <= maxShardBytes) {
            sink.write(SINGLE_FILE, out -> SafetensorsWriter.write(out, tensors, null));
            return;
        }
        List<List<TensorEntry>> shards = new ArrayList<>();
        List<TensorEntry> current = new ArrayList<>();
        long currentSize = 0;
        for (TensorEntry t : tensors) {
            if (!current.isEmpty() && currentSize + t.byteSize() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentSize = 0;
            }
            current.add(t);
            currentSize += t.byteSize();
        }
        shards.add(current);

        Map<String, String> weightMap = new TreeMap<>(); // HF writes the weight_map with sorted keys
        for (int i = 0; i < shards.size(); i++) {
            String name = shardName(i + 1, shards.size());
            List<TensorEntry> shard = shards.get(i);
            sink.write(name, out -> SafetensorsWriter.write(out, shard, null));
            for (TensorEntry t : shard) {
                weightMap.put(t.name(), name);
            }
        }
        JsonObject metadata = new JsonObject();
        metadata.addProperty("total_size", totalSize);
        JsonObject map = new JsonObject();
        weightMap.forEach(map::addProperty);
        JsonObject index = new JsonObject();
        index.add("metadata", metadata);
        index.add("weight_map", map);
        JsonFiles.write(sink, INDEX_FILE, index);
    }

    /** HF's shard naming: {@code model-00001-of-00003.safetensors}. */
    static String shardName(int shard, int count) {
        return String.format("model-%05d-of-%05d.safetensors", shard, count);
    }
}
