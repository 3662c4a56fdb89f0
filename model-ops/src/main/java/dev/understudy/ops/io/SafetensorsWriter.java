package dev.understudy.ops.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.understudy.ops.util.Preconditions;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes safetensors files that Hugging Face tooling accepts, without DJL.
 *
 * <p>Layout: 8-byte little-endian header length, compact JSON header padded with spaces to a
 * multiple of 8 bytes (as HF's writer does, so the data section is 8-byte aligned), then the tensor
 * bytes back to back in the order given. The header starts with {@code __metadata__}, which always
 * contains {@code "format": "pt"}: transformers refuses safetensors files whose metadata lacks a
 * known format. Output is deterministic: the same tensors and metadata give identical bytes.
 */
public final class SafetensorsWriter {
    /** The metadata HF's {@code save_file} writes for PyTorch checkpoints. */
    static final String FORMAT_KEY = "format";

    static final String FORMAT_PT = "pt";

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private static final int COPY_CHUNK = 1 << 16;

    private SafetensorsWriter() {}

    /**
     * Writes {@code tensors} in iteration order to {@code out}, which is flushed but not closed.
     *
     * @param metadata the {@code __metadata__} entries, written in iteration order after
     *     {@code "format": "pt"} unless they set {@code format} themselves; may be null
     * @throws IllegalArgumentException if two tensors share a name or a tensor is named
     *     {@code __metadata__}
     */
    public static void write(OutputStream out, Collection<TensorEntry> tensors, Map<String, String> metadata)
            throws IOException {
        Preconditions.checkNotNull(out, "output stream");
        byte[] header = header(tensors, metadata);
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
        out.write(prefix.array());
        out.write(header);
        byte[] chunk = new byte[COPY_CHUNK];
        for (TensorEntry t : tensors) {
            // data() is a read-only view (mapped or heap), so copy through a small array.
            ByteBuffer data = t.data();
            while (data.hasRemaining()) {
                int n = Math.min(chunk.length, data.remaining());
                data.get(chunk, 0, n);
                out.write(chunk, 0, n);
            }
        }
        out.flush();
    }

    /**
     * Writes {@code file} atomically: the bytes go to a temporary file in the same directory, which
     * is renamed over {@code file} once complete. Parent directories are created.
     */
    public static void write(Path file, Collection<TensorEntry> tensors, Map<String, String> metadata)
            throws IOException {
        Preconditions.checkNotNull(file, "file");
        Path absolute = file.toAbsolutePath();
        new DirectoryModelSink(absolute.getParent())
                .write(absolute.getFileName().toString(), out -> write(out, tensors, metadata));
    }

    /** Exact length in bytes of the file {@code write(out, tensors, null)} produces. */
    public static long sizeOf(Collection<TensorEntry> tensors) {
        return sizeOf(tensors, null);
    }

    /** Exact length in bytes of the file {@code write(out, tensors, metadata)} produces. */
    public static long sizeOf(Collection<TensorEntry> tensors, Map<String, String> metadata) {
        return 8L + header(tensors, metadata).length + dataSizeOf(tensors);
    }

    /**
     * Sum of the tensors' data bytes, without header: what HF calls {@code total_size} in a shard
     * index and compares against {@code max_shard_size}.
     */
    public static long dataSizeOf(Collection<TensorEntry> tensors) {
        Preconditions.checkNotNull(tensors, "tensors");
        long total = 0;
        for (TensorEntry t : tensors) {
            total += t.byteSize();
        }
        return total;
    }

    /**
     * Starts a file whose tensors are supplied one at a time: writes the header for {@code tensors}
     * (in that order) to {@code out} at once, then takes each tensor's data through {@link
     * Streaming#write}, which checks it against the header. Only the tensor being written is held,
     * so a file can be produced while its source is still being read. Output is byte-identical to
     * {@link #write(OutputStream, Collection, Map)} with the same tensors and metadata.
     *
     * @param metadata as for {@link #write(OutputStream, Collection, Map)}; may be null
     * @throws IllegalArgumentException if two tensors share a name or one is named {@code __metadata__}
     */
    public static Streaming streaming(OutputStream out, List<TensorSpec> tensors, Map<String, String> metadata)
            throws IOException {
        Preconditions.checkNotNull(out, "output stream");
        List<TensorSpec> specs = List.copyOf(Preconditions.checkNotNull(tensors, "tensors"));
        byte[] header = headerOf(specs, metadata);
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
        out.write(header);
        return new Streaming(out, specs, 8L + header.length);
    }

    /**
     * The data half of a file started by {@link #streaming}: tensors must arrive in header order
     * with the declared name, dtype and shape; {@link #finish} checks that none is missing. The
     * output stream is not closed. Not thread-safe.
     */
    public static final class Streaming {
        private final OutputStream out;
        private final List<TensorSpec> specs;
        private final byte[] chunk = new byte[COPY_CHUNK];
        private int next;
        private long bytesWritten;

        private Streaming(OutputStream out, List<TensorSpec> specs, long headerBytes) {
            this.out = out;
            this.specs = specs;
            this.bytesWritten = headerBytes;
        }

        /**
         * Writes the next tensor's data.
         *
         * @throws IllegalStateException if every tensor of the header was already written
         * @throws IllegalArgumentException naming both when {@code t} is not the next tensor of the
         *     header or has another dtype or shape
         */
        public void write(TensorEntry t) throws IOException {
            Preconditions.checkNotNull(t, "tensor entry");
            Preconditions.checkState(next < specs.size(),
                    "All %s tensors of the safetensors header were written; tensor '%s' is one too many",
                    specs.size(), t.name());
            TensorSpec expected = specs.get(next);
            Preconditions.checkArgument(expected.matches(t),
                    "Tensor %s of the safetensors header must be %s, got %s",
                    next + 1, expected, TensorSpec.of(t));
            ByteBuffer data = t.data();
            while (data.hasRemaining()) {
                int n = Math.min(chunk.length, data.remaining());
                data.get(chunk, 0, n);
                out.write(chunk, 0, n);
            }
            bytesWritten += t.byteSize();
            next++;
        }

        /**
         * Checks that every tensor of the header was written and flushes the stream.
         *
         * @throws IllegalStateException naming the first missing tensor
         */
        public void finish() throws IOException {
            Preconditions.checkState(next == specs.size(),
                    "Only %s of the %s tensors of the safetensors header were written; next expected: %s",
                    next, specs.size(), next < specs.size() ? specs.get(next) : null);
            out.flush();
        }

        /** Bytes written so far, header included; after {@link #finish}, the file length. */
        public long bytesWritten() {
            return bytesWritten;
        }

        /** Number of tensors written so far. */
        public int tensorsWritten() {
            return next;
        }
    }

    /** The padded header JSON bytes. */
    static byte[] header(Collection<TensorEntry> tensors, Map<String, String> metadata) {
        Preconditions.checkNotNull(tensors, "tensors");
        List<TensorSpec> specs = new ArrayList<>(tensors.size());
        for (TensorEntry t : tensors) {
            Preconditions.checkNotNull(t, "tensor entry");
            specs.add(TensorSpec.of(t));
        }
        return headerOf(specs, metadata);
    }

    /** The padded header JSON bytes for tensors laid out back to back in the given order. */
    static byte[] headerOf(List<TensorSpec> tensors, Map<String, String> metadata) {
        Preconditions.checkNotNull(tensors, "tensors");
        JsonObject root = new JsonObject();
        JsonObject meta = new JsonObject();
        Map<String, String> m = metadata == null ? Map.of() : metadata;
        if (!m.containsKey(FORMAT_KEY)) {
            meta.addProperty(FORMAT_KEY, FORMAT_PT);
        }
        for (Map.Entry<String, String> e : new LinkedHashMap<>(m).entrySet()) {
            Preconditions.checkArgument(e.getKey() != null && e.getValue() != null,
                    "Safetensors metadata must not contain null keys or values: %s", m);
            meta.addProperty(e.getKey(), e.getValue());
        }
        root.add(SafetensorsHeader.METADATA_KEY, meta);

        Set<String> names = new HashSet<>();
        long offset = 0;
        for (TensorSpec t : tensors) {
            Preconditions.checkNotNull(t, "tensor spec");
            Preconditions.checkArgument(!t.name().equals(SafetensorsHeader.METADATA_KEY),
                    "A tensor cannot be named '%s'; the name is reserved for safetensors metadata", t.name());
            Preconditions.checkArgument(names.add(t.name()),
                    "Tensor name '%s' appears twice; safetensors names must be unique", t.name());
            JsonObject info = new JsonObject();
            info.addProperty("dtype", t.dtype().safetensorsName());
            JsonArray shape = new JsonArray();
            Arrays.stream(t.shape()).forEach(shape::add);
            info.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + t.byteSize());
            info.add("data_offsets", offsets);
            root.add(t.name(), info);
            offset += t.byteSize();
        }
        byte[] json = GSON.toJson(root).getBytes(StandardCharsets.UTF_8);
        // Pad with spaces (valid JSON whitespace) so the data section starts 8-byte aligned.
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }
}
