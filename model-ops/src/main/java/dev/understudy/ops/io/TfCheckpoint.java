package dev.understudy.ops.io;

import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Reads a TensorFlow checkpoint in the tensor-bundle format ({@code PREFIX.index} plus {@code
 * PREFIX.data-00000-of-0000N}) in plain Java, without TensorFlow.
 *
 * <p>The index is a LevelDB-format sorted table (TensorFlow's {@code core/lib/io/table}): data
 * blocks of prefix-compressed key/value entries followed by a restart array, an index block whose
 * values are block handles, and a 48-byte footer ending with the magic {@code 0xdb4775248b80fb57}.
 * Each key is a tensor name and each value a serialised {@code BundleEntryProto} (dtype, shape,
 * shard id, offset, size, masked CRC-32C; see {@code tensor_bundle.proto}); the entry with the empty
 * key is the {@code BundleHeaderProto}. The data shards hold the raw little-endian tensor bytes at
 * those offsets. Only uncompressed blocks and unsliced tensors are supported (what {@code
 * tf.train.Saver} writes); anything else is a {@link ModelFormatException} naming the file.
 */
public final class TfCheckpoint implements AutoCloseable {
    static final long TABLE_MAGIC = 0xdb4775248b80fb57L;
    private static final int FOOTER_LENGTH = 48;
    private static final int BLOCK_TRAILER = 5; // 1 byte compression type + 4 bytes crc

    /** One tensor's entry in the index. */
    public record Entry(String name, int dtype, long[] shape, int shard, long offset, long size, int crc32c) {
        /** Number of elements. */
        public long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    // TensorFlow DataType enum values (types.proto) and their element sizes
    static final int DT_FLOAT = 1;
    static final int DT_DOUBLE = 2;
    static final int DT_INT32 = 3;
    static final int DT_INT64 = 9;

    private final Path prefix;
    private final Map<String, Entry> entries;
    private final int numShards;
    private final FileChannel[] shards;

    private TfCheckpoint(Path prefix, Map<String, Entry> entries, int numShards) throws IOException {
        this.prefix = prefix;
        this.entries = Collections.unmodifiableMap(entries);
        this.numShards = numShards;
        this.shards = new FileChannel[numShards];
    }

    /**
     * Opens the checkpoint {@code prefix} (e.g. {@code .../variables/variables}): reads and checks the
     * whole index; data shards are opened on first use.
     */
    public static TfCheckpoint open(Path prefix) throws IOException {
        Path index = Path.of(prefix + ".index");
        if (!Files.isRegularFile(index)) {
            throw new ModelFormatException("no TensorFlow checkpoint index at " + index);
        }
        byte[] bytes = Files.readAllBytes(index);
        Map<String, byte[]> raw = readTable(bytes, index.toString());
        Map<String, Entry> entries = new LinkedHashMap<>();
        int numShards = 1;
        for (Map.Entry<String, byte[]> e : raw.entrySet()) {
            if (e.getKey().isEmpty()) {
                numShards = parseHeader(e.getValue(), index.toString());
            } else {
                entries.put(e.getKey(), parseEntry(e.getKey(), e.getValue(), index.toString()));
            }
        }
        return new TfCheckpoint(prefix, entries, numShards);
    }

    /** Tensor entries by name, in the index's (sorted) order; the header entry excluded. */
    public Map<String, Entry> entries() {
        return entries;
    }

    /** The {@code float32} values of tensor {@code name}, CRC-checked. */
    public float[] floats(String name) throws IOException {
        Entry e = entry(name);
        if (e.dtype() != DT_FLOAT) {
            throw new ModelFormatException(prefix + ": tensor " + name + " has TensorFlow dtype " + e.dtype()
                    + ", not float32 (1)");
        }
        ByteBuffer b = bytes(e);
        float[] out = new float[Math.toIntExact(e.numel())];
        b.asFloatBuffer().get(out);
        return out;
    }

    /** The raw little-endian bytes of tensor {@code name}, CRC-checked. */
    public ByteBuffer bytes(String name) throws IOException {
        return bytes(entry(name));
    }

    private Entry entry(String name) throws ModelFormatException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new ModelFormatException(prefix + ".index has no tensor " + name);
        }
        return e;
    }

    private ByteBuffer bytes(Entry e) throws IOException {
        long expected = e.numel() * elementSize(e.dtype(), e.name());
        if (expected != e.size()) {
            throw new ModelFormatException(prefix + ": tensor " + e.name() + " of shape " + Arrays.toString(e.shape())
                    + " has " + e.size() + " bytes, expected " + expected);
        }
        FileChannel ch = shard(e.shard());
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(e.size()));
        long pos = e.offset();
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                throw new ModelFormatException(shardPath(e.shard()) + " ends before tensor " + e.name() + " (offset "
                        + e.offset() + ", " + e.size() + " bytes): the file is truncated");
            }
            pos += n;
        }
        b.flip();
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate());
        int masked = mask((int) crc.getValue());
        if (masked != e.crc32c()) {
            throw new ModelFormatException(shardPath(e.shard()) + ": tensor " + e.name() + " fails its CRC-32C check"
                    + " (the file is corrupt; fetch the model again)");
        }
        return b.order(ByteOrder.LITTLE_ENDIAN);
    }

    private synchronized FileChannel shard(int id) throws IOException {
        if (id < 0 || id >= numShards) {
            throw new ModelFormatException(prefix + ".index names shard " + id + " of " + numShards);
        }
        if (shards[id] == null) {
            Path p = shardPath(id);
            if (!Files.isRegularFile(p)) {
                throw new ModelFormatException("missing TensorFlow checkpoint shard " + p);
            }
            shards[id] = FileChannel.open(p, StandardOpenOption.READ);
        }
        return shards[id];
    }

    private Path shardPath(int id) {
        return Path.of(String.format(java.util.Locale.ROOT, "%s.data-%05d-of-%05d", prefix, id, numShards));
    }

    /** LevelDB's CRC mask (crc32c::Mask): rotate right by 15 bits and add a constant. */
    static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    static int elementSize(int dtype, String name) throws ModelFormatException {
        return switch (dtype) {
            case DT_FLOAT, DT_INT32 -> 4;
            case DT_DOUBLE, DT_INT64 -> 8;
            default -> throw new ModelFormatException("tensor " + name + " has unsupported TensorFlow dtype " + dtype);
        };
    }

    // ---------------------------------------------------------------------------------------------
    // LevelDB table

    /** All key/value pairs of a LevelDB-format table held in {@code file}. */
    static Map<String, byte[]> readTable(byte[] file, String where) throws ModelFormatException {
        if (file.length < FOOTER_LENGTH) {
            throw new ModelFormatException(where + " is too short (" + file.length + " bytes) to be a checkpoint index");
        }
        ByteBuffer footer = ByteBuffer.wrap(file, file.length - FOOTER_LENGTH, FOOTER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        long magic = footer.getLong(file.length - 8);
        if (magic != TABLE_MAGIC) {
            throw new ModelFormatException(where + " is not a TensorFlow checkpoint index (bad table magic "
                    + Long.toHexString(magic) + ")");
        }
        Reader f = new Reader(file, file.length - FOOTER_LENGTH, file.length - 8, where);
        f.varint(); // metaindex offset
        f.varint(); // metaindex size
        long indexOffset = f.varint();
        long indexSize = f.varint();
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (byte[] handle : block(file, indexOffset, indexSize, where).values()) {
            Reader h = new Reader(handle, 0, handle.length, where);
            long off = h.varint();
            long size = h.varint();
            out.putAll(block(file, off, size, where));
        }
        return out;
    }

    /** The entries of one block (keys decoded from their shared prefixes). */
    static Map<String, byte[]> block(byte[] file, long offset, long size, String where) throws ModelFormatException {
        if (offset < 0 || size < 4 || offset + size + BLOCK_TRAILER > file.length) {
            throw new ModelFormatException(where + ": block handle (" + offset + ", " + size + ") lies outside the file");
        }
        int start = (int) offset;
        int end = (int) (offset + size);
        int type = file[end] & 0xff;
        if (type != 0) {
            throw new ModelFormatException(where + ": block at " + offset + " is compressed (type " + type
                    + "); only uncompressed checkpoint indexes are supported");
        }
        CRC32C crc = new CRC32C();
        crc.update(file, start, (int) size + 1); // block contents + type byte
        int stored = ByteBuffer.wrap(file, end + 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (mask((int) crc.getValue()) != stored) {
            throw new ModelFormatException(where + ": block at " + offset + " fails its CRC-32C check (corrupt index)");
        }
        int numRestarts = ByteBuffer.wrap(file, end - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        int limit = end - 4 - 4 * numRestarts;
        if (numRestarts < 0 || limit < start) {
            throw new ModelFormatException(where + ": block at " + offset + " has a bad restart count " + numRestarts);
        }
        Map<String, byte[]> out = new LinkedHashMap<>();
        Reader r = new Reader(file, start, limit, where);
        byte[] key = new byte[0];
        while (r.pos < limit) {
            int shared = (int) r.varint();
            int nonShared = (int) r.varint();
            int valueLength = (int) r.varint();
            if (shared > key.length) {
                throw new ModelFormatException(where + ": corrupt key in block at " + offset);
            }
            byte[] k = Arrays.copyOf(key, shared + nonShared);
            System.arraycopy(r.take(nonShared), 0, k, shared, nonShared);
            key = k;
            out.put(new String(key, StandardCharsets.UTF_8), r.take(valueLength));
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------
    // Protocol buffers (just the fields of BundleEntryProto / BundleHeaderProto / TensorShapeProto)

    static int parseHeader(byte[] v, String where) throws ModelFormatException {
        Reader r = new Reader(v, 0, v.length, where);
        int numShards = 1;
        int endianness = 0;
        while (r.pos < r.limit) {
            long tag = r.varint();
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field == 1 && wire == 0) {
                numShards = (int) r.varint();
            } else if (field == 2 && wire == 0) {
                endianness = (int) r.varint();
            } else {
                r.skip(wire);
            }
        }
        if (endianness != 0) {
            throw new ModelFormatException(where + ": big-endian checkpoints are not supported");
        }
        return numShards;
    }

    static Entry parseEntry(String name, byte[] v, String where) throws ModelFormatException {
        Reader r = new Reader(v, 0, v.length, where);
        int dtype = 0;
        long[] shape = new long[0];
        int shard = 0;
        long offset = 0;
        long size = 0;
        int crc = 0;
        while (r.pos < r.limit) {
            long tag = r.varint();
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            switch (field) {
                case 1 -> dtype = (int) r.varint();
                case 2 -> shape = parseShape(r.take((int) r.varint()), where);
                case 3 -> shard = (int) r.varint();
                case 4 -> offset = r.varint();
                case 5 -> size = r.varint();
                case 6 -> crc = r.fixed32();
                case 7 -> throw new ModelFormatException(where + ": tensor " + name
                        + " is stored in slices (partitioned variable); not supported");
                default -> r.skip(wire);
            }
        }
        return new Entry(name, dtype, shape, shard, offset, size, crc);
    }

    private static long[] parseShape(byte[] v, String where) throws ModelFormatException {
        Reader r = new Reader(v, 0, v.length, where);
        long[] dims = new long[0];
        while (r.pos < r.limit) {
            long tag = r.varint();
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field == 2 && wire == 2) {
                Reader d = new Reader(r.take((int) r.varint()), 0, -1, where);
                long size = 0;
                while (d.pos < d.limit) {
                    long t = d.varint();
                    if ((t >>> 3) == 1 && (t & 7) == 0) {
                        size = d.varint();
                    } else {
                        d.skip((int) (t & 7));
                    }
                }
                dims = Arrays.copyOf(dims, dims.length + 1);
                dims[dims.length - 1] = size;
            } else if (field == 3 && wire == 0 && r.varint() != 0) {
                throw new ModelFormatException(where + ": a tensor of unknown rank");
            } else if (!(field == 3 && wire == 0)) {
                r.skip(wire);
            }
        }
        return dims;
    }

    /** A cursor over a byte range with varint / fixed32 / length-delimited reads. */
    private static final class Reader {
        final byte[] b;
        int pos;
        final int limit;
        final String where;

        Reader(byte[] b, int pos, int limit, String where) {
            this.b = b;
            this.pos = pos;
            this.limit = limit < 0 ? b.length : limit;
            this.where = where;
        }

        long varint() throws ModelFormatException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= limit) {
                    throw new ModelFormatException(where + ": truncated varint");
                }
                int x = b[pos++] & 0xff;
                v |= (long) (x & 0x7f) << shift;
                if (x < 0x80) {
                    return v;
                }
            }
            throw new ModelFormatException(where + ": malformed varint");
        }

        int fixed32() throws ModelFormatException {
            byte[] x = take(4);
            return ByteBuffer.wrap(x).order(ByteOrder.LITTLE_ENDIAN).getInt();
        }

        byte[] take(int n) throws ModelFormatException {
            if (n < 0 || pos + n > limit) {
                throw new ModelFormatException(where + ": truncated record (" + n + " bytes at " + pos + ")");
            }
            byte[] out = Arrays.copyOfRange(b, pos, pos + n);
            pos += n;
            return out;
        }

        void skip(int wire) throws ModelFormatException {
            switch (wire) {
                case 0 -> varint();
                case 1 -> take(8);
                case 2 -> take((int) varint());
                case 5 -> take(4);
                default -> throw new ModelFormatException(where + ": unsupported protobuf wire type " + wire);
            }
        }
    }

    @Override
    public void close() throws IOException {
        for (FileChannel c : shards) {
            if (c != null) {
                c.close();
            }
        }
    }
}
