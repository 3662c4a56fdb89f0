package dev.understudy.ops.io;

import dev.understudy.ops.util.Preconditions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file opened by {@link SafetensorsReader}: its metadata and tensors, in data offset
 * order.
 *
 * <p>For a file read with {@link SafetensorsReader#read(java.nio.file.Path)} the tensors are views
 * of read-only memory mappings. Java 17 cannot unmap explicitly, so the mappings live until the
 * buffers become unreachable; entries obtained before {@link #close()} stay valid after it.
 * {@code close()} drops this object's references and makes further lookups fail, so that
 * use-after-close bugs show up early.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final String source;
    private final Map<String, String> metadata;
    private Map<String, TensorEntry> tensors;

    SafetensorsFile(String source, Map<String, String> metadata, Map<String, TensorEntry> tensors) {
        this.source = source;
        this.metadata = metadata;
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /** Where the file came from (path or description), as used in error messages. */
    public String source() {
        return source;
    }

    /** The {@code __metadata__} map in file order; empty when the file has none (e.g. DJL's). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in data offset order. */
    public List<String> names() {
        return new ArrayList<>(open().keySet());
    }

    /**
     * The named tensor.
     *
     * @throws IllegalArgumentException naming the tensor and the file when it is absent
     */
    public TensorEntry tensor(String name) {
        TensorEntry t = open().get(name);
        if (t == null) {
            List<String> names = names();
            String sample = names.size() <= 8 ? names.toString()
                    : names.subList(0, 8) + " and " + (names.size() - 8) + " more";
            throw new IllegalArgumentException(String.format(
                    "Tensor '%s' not found in %s; it has %s tensors: %s", name, source, names.size(), sample));
        }
        return t;
    }

    /** All tensors by name, in data offset order (a new {@link LinkedHashMap}). */
    public Map<String, TensorEntry> all() {
        return new LinkedHashMap<>(open());
    }

    @Override
    public void close() {
        tensors = null;
    }

    private Map<String, TensorEntry> open() {
        Preconditions.checkState(tensors != null, "Safetensors file %s is closed", source);
        return tensors;
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + source + (tensors == null ? ", closed]" : ", " + tensors.size() + " tensors]");
    }
}
