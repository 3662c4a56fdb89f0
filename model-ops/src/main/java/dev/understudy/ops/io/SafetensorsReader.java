package dev.understudy.ops.io;

import dev.understudy.ops.util.ModelFormatException;
import dev.understudy.ops.util.Preconditions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads safetensors files (https://github.com/huggingface/safetensors) without DJL: BF16 arrays
 * crash DJL 0.35, so tensors come back as raw {@link TensorEntry} bytes and are widened in Java.
 *
 * <p>Three ways in: {@link #read(Path)} memory-maps a local file; {@link #read(InputStream, String)}
 * loads a whole stream onto the heap; {@link #stream} hands tensors to a consumer one at a time so
 * that a large checkpoint coming from HDFS or S3 is never held whole. All of them validate the
 * header fully (see {@link SafetensorsHeader}) and throw {@link ModelFormatException} naming the
 * source and the problem.
 */
public final class SafetensorsReader {
    /**
     * Largest single mapping. {@code FileChannel.map} is int-sized on Java 17 (no {@code Arena}), so
     * files are mapped in chunks of at most this many bytes, each holding whole tensors.
     */
    static final long MAX_CHUNK_BYTES = Integer.MAX_VALUE;

    private SafetensorsReader() {}

    /** Memory-maps {@code file}; the tensors are read-only views of the mapping. */
    public static SafetensorsFile read(Path file) throws IOException {
        return read(file, MAX_CHUNK_BYTES);
    }

    /**
     * {@link #read(Path)} with a smaller chunk size, so that tests can exercise chunking without
     * multi-GiB files.
     */
    static SafetensorsFile read(Path file, long chunkBytes) throws IOException {
        Preconditions.checkNotNull(file, "file");
        Preconditions.checkArgument(chunkBytes > 0 && chunkBytes <= MAX_CHUNK_BYTES,
                "Cannot map chunks of %s bytes; the value must be in [1, %s]", chunkBytes, MAX_CHUNK_BYTES);
        String source = file.toString();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileLength = channel.size();
            if (fileLength < 8) {
                throw new ModelFormatException(String.format(
                        "%s: file has %s bytes, fewer than the 8-byte safetensors header length", source, fileLength));
            }
            long headerLength = readFully(channel, 0, 8, source).order(ByteOrder.LITTLE_ENDIAN).getLong();
            int n = SafetensorsHeader.checkHeaderLength(headerLength, fileLength, source);
            byte[] headerBytes = readFully(channel, 8, n, source).array();
            long dataStart = 8L + n;
            SafetensorsHeader header = SafetensorsHeader.parse(headerBytes, source, fileLength - dataStart);

            Map<String, TensorEntry> tensors = new LinkedHashMap<>();
            // Tensors are sorted by offset and tile the data section, so one pass can pack them
            // into chunks: a chunk starts at a tensor and ends before the first tensor that would
            // not fit. A tensor larger than chunkBytes gets a chunk of its own.
            MappedByteBuffer chunk = null;
            long chunkBegin = 0;
            long chunkEnd = 0;
            for (SafetensorsHeader.Info info : header.tensors()) {
                checkMappable(info, source);
                ByteBuffer data;
                if (info.length() == 0) {
                    data = ByteBuffer.allocate(0);
                } else {
                    if (chunk == null || info.end() > chunkEnd) {
                        chunkBegin = info.begin();
                        chunkEnd = Math.min(header.dataLength(), chunkBegin + Math.max(chunkBytes, info.length()));
                        chunk = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + chunkBegin, chunkEnd - chunkBegin);
                    }
                    data = chunk.slice((int) (info.begin() - chunkBegin), (int) info.length());
                }
                tensors.put(info.name(), new TensorEntry(info.name(), info.dtype(), info.shape(), data));
            }
            return new SafetensorsFile(source, header.metadata(), tensors);
        }
    }

    /**
     * Reads a whole safetensors file from {@code in} onto the heap. The stream is read to its end
     * but not closed.
     *
     * @param sourceName where the stream comes from, for error messages
     */
    public static SafetensorsFile read(InputStream in, String sourceName) throws IOException {
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        SafetensorsHeader header = readTensors(in, sourceName, t -> tensors.put(t.name(), t));
        return new SafetensorsFile(sourceName, header.metadata(), tensors);
    }

    /**
     * Reads the header from {@code in}, then each tensor in data offset order, handing it to
     * {@code consumer} before reading the next, so that only one tensor is in memory at a time.
     * The whole header is validated before the first tensor is handed out; a truncated stream or
     * trailing bytes fail after the tensors before them were consumed. The stream is not closed.
     *
     * @param sourceName where the stream comes from, for error messages
     */
    public static void stream(InputStream in, String sourceName, TensorConsumer consumer) throws IOException {
        Preconditions.checkNotNull(consumer, "consumer");
        readTensors(in, sourceName, consumer);
    }

    /**
     * Reads and validates only the header at the start of {@code in}, leaving the stream positioned
     * at the data section (not closed). The data section's length is not known to be right until
     * the data is read.
     */
    static SafetensorsHeader readHeader(InputStream in, String source) throws IOException {
        Preconditions.checkNotNull(in, "input stream");
        Preconditions.checkNotNull(source, "source name");
        byte[] prefix = in.readNBytes(8);
        if (prefix.length < 8) {
            throw new ModelFormatException(String.format(
                    "%s: stream ended after %s bytes, before the 8-byte safetensors header length", source, prefix.length));
        }
        long headerLength = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int n = SafetensorsHeader.checkHeaderLength(headerLength, -1, source);
        byte[] headerBytes = in.readNBytes(n);
        if (headerBytes.length < n) {
            throw new ModelFormatException(String.format(
                    "%s: stream ended after %s of the %s header bytes; the file is truncated",
                    source, headerBytes.length, n));
        }
        return SafetensorsHeader.parse(headerBytes, source, -1);
    }

    /** Receives a validated header before {@link #stream(InputStream, String, HeaderConsumer, TensorConsumer)} reads any data. */
    @FunctionalInterface
    interface HeaderConsumer {
        void accept(SafetensorsHeader header) throws IOException;
    }

    /**
     * {@link #stream(InputStream, String, TensorConsumer)} that first hands the validated header
     * (tensors in data order) to {@code onHeader}, so that a writer can emit its own header before
     * the first tensor arrives.
     */
    static void stream(InputStream in, String sourceName, HeaderConsumer onHeader, TensorConsumer consumer)
            throws IOException {
        Preconditions.checkNotNull(onHeader, "header consumer");
        Preconditions.checkNotNull(consumer, "consumer");
        readTensors(in, sourceName, onHeader, consumer);
    }

    private static SafetensorsHeader readTensors(InputStream in, String source, TensorConsumer consumer)
            throws IOException {
        return readTensors(in, source, header -> {}, consumer);
    }

    private static SafetensorsHeader readTensors(
            InputStream in, String source, HeaderConsumer onHeader, TensorConsumer consumer) throws IOException {
        SafetensorsHeader header = readHeader(in, source);
        onHeader.accept(header);
        // The header check guarantees the tensors tile [0, dataLength) in this order, so reading
        // them back to back consumes the data section exactly.
        for (SafetensorsHeader.Info info : header.tensors()) {
            checkMappable(info, source);
            byte[] bytes = in.readNBytes((int) info.length());
            if (bytes.length < info.length()) {
                throw new ModelFormatException(String.format(
                        "%s: stream ended inside tensor '%s' (data_offsets [%s, %s]) after %s of the %s data bytes; "
                                + "the file is truncated",
                        source, info.name(), info.begin(), info.end(), info.begin() + bytes.length, header.dataLength()));
            }
            consumer.accept(new TensorEntry(info.name(), info.dtype(), info.shape(), ByteBuffer.wrap(bytes)));
        }
        if (in.read() != -1) {
            throw new ModelFormatException(String.format(
                    "%s: data continues after the last tensor, which ends at data offset %s; "
                            + "safetensors requires the tensors to cover the data section exactly",
                    source, header.dataLength()));
        }
        return header;
    }

    private static void checkMappable(SafetensorsHeader.Info info, String source) throws ModelFormatException {
        if (info.length() > Integer.MAX_VALUE) {
            throw new ModelFormatException(String.format(
                    "%s: tensor '%s' has %s bytes; tensors over %s bytes (2 GiB) are not supported",
                    source, info.name(), info.length(), Integer.MAX_VALUE));
        }
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length, String source)
            throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            int read = channel.read(buf, position + buf.position());
            if (read < 0) {
                throw new ModelFormatException(String.format(
                        "%s: file ended at byte %s while reading %s bytes at %s", source,
                        position + buf.position(), length, position));
            }
        }
        return buf.flip();
    }
}
