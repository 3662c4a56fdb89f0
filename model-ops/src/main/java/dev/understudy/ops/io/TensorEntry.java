package dev.understudy.ops.io;

import dev.understudy.ops.util.Preconditions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One named tensor as stored in a checkpoint: dtype, shape and the raw little-endian element bytes
 * in row-major order. This is the format-level view; mapping names to model weights and creating
 * NDArrays happens outside this package.
 *
 * <p>{@code data} must have position 0 and exactly {@code numel * dtype.byteSize()} bytes
 * remaining. The buffer's {@link ByteBuffer#order() order} flag does not matter: the bytes are read
 * as little-endian. The record keeps a view of the buffer (no copy), so entries read from a
 * memory-mapped file stay backed by the file. {@link #data()} and {@link #shape()} return fresh
 * views/copies so that callers cannot disturb each other. Equality compares name, dtype, shape and
 * data bytes (bitwise, so NaN payloads and -0.0 count).
 *
 * @param name checkpoint key, kept verbatim (e.g. {@code model.layers.0.self_attn.q_proj.weight})
 * @param dtype element type
 * @param shape dimensions, outermost first; {@code []} is a scalar
 * @param data raw element bytes, little-endian
 */
public record TensorEntry(String name, DType dtype, long[] shape, ByteBuffer data) {

    public TensorEntry {
        Preconditions.checkNotNull(name, "tensor name");
        Preconditions.checkNotNull(dtype, "dtype of tensor " + name);
        Preconditions.checkNotNull(shape, "shape of tensor " + name);
        Preconditions.checkNotNull(data, "data of tensor " + name);
        shape = shape.clone();
        long expectedBytes = checkedByteSize(name, dtype, shape);
        Preconditions.checkArgument(data.position() == 0,
                "Data buffer of tensor '%s' must have position 0, but it is at %s", name, data.position());
        Preconditions.checkArgument(data.remaining() == expectedBytes,
                "Tensor '%s' (%s, shape %s) needs %s bytes of data, but the buffer has %s",
                name, dtype, Arrays.toString(shape), expectedBytes, data.remaining());
        // A private view: a caller moving the position of its own buffer must not affect us.
        data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Number of elements: the product of the dimensions (1 for a scalar). */
    public long numel() {
        return numel(shape);
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** A fresh read-only view of the data: position 0, little-endian order. */
    @Override
    public ByteBuffer data() {
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Number of data bytes: {@code numel * dtype.byteSize()}. */
    public long byteSize() {
        return data.capacity();
    }

    /**
     * All elements as floats. F16 and BF16 widen exactly; F64 and large integers (beyond 2^24) round
     * to the nearest float; U8 is unsigned; BOOL gives 0 or 1.
     */
    public float[] toFloats() {
        ByteBuffer b = data();
        float[] out = new float[(int) numel()];
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> { for (int i = 0; i < out.length; i++) out[i] = (float) b.getDouble(i * 8); }
            case F16 -> { for (int i = 0; i < out.length; i++) out[i] = HalfFloats.halfToFloat(b.getShort(i * 2)); }
            case BF16 -> { for (int i = 0; i < out.length; i++) out[i] = HalfFloats.bf16ToFloat(b.getShort(i * 2)); }
            case I64 -> { for (int i = 0; i < out.length; i++) out[i] = b.getLong(i * 8); }
            case I32 -> { for (int i = 0; i < out.length; i++) out[i] = b.getInt(i * 4); }
            case I16 -> { for (int i = 0; i < out.length; i++) out[i] = b.getShort(i * 2); }
            case I8 -> { for (int i = 0; i < out.length; i++) out[i] = b.get(i); }
            case U8 -> { for (int i = 0; i < out.length; i++) out[i] = b.get(i) & 0xff; }
            case BOOL -> { for (int i = 0; i < out.length; i++) out[i] = b.get(i) != 0 ? 1f : 0f; }
            default -> throw new UnsupportedOperationException("dtype " + dtype);
        }
        return out;
    }

    /** All elements as doubles; exact for every dtype except I64 values beyond 2^53. */
    public double[] toDoubles() {
        ByteBuffer b = data();
        double[] out = new double[(int) numel()];
        switch (dtype) {
            case F64 -> b.asDoubleBuffer().get(out);
            case I64 -> { for (int i = 0; i < out.length; i++) out[i] = b.getLong(i * 8); }
            // I32 needs its own loop: going through toFloats() would round values beyond 2^24.
            case I32 -> { for (int i = 0; i < out.length; i++) out[i] = b.getInt(i * 4); }
            // The remaining dtypes are exactly representable as float.
            case F32, F16, BF16, I16, I8, U8, BOOL -> {
                float[] floats = toFloats();
                for (int i = 0; i < out.length; i++) out[i] = floats[i];
            }
            default -> throw new UnsupportedOperationException("dtype " + dtype);
        }
        return out;
    }

    /**
     * All elements as longs, for integer dtypes (U8 unsigned, BOOL as 0/1).
     *
     * @throws UnsupportedOperationException for floating dtypes, naming the tensor
     */
    public long[] toLongs() {
        ByteBuffer b = data();
        long[] out = new long[(int) numel()];
        switch (dtype) {
            case I64 -> b.asLongBuffer().get(out);
            case I32 -> { for (int i = 0; i < out.length; i++) out[i] = b.getInt(i * 4); }
            case I16 -> { for (int i = 0; i < out.length; i++) out[i] = b.getShort(i * 2); }
            case I8 -> { for (int i = 0; i < out.length; i++) out[i] = b.get(i); }
            case U8 -> { for (int i = 0; i < out.length; i++) out[i] = b.get(i) & 0xff; }
            case BOOL -> { for (int i = 0; i < out.length; i++) out[i] = b.get(i) != 0 ? 1 : 0; }
            case F64, F32, F16, BF16 -> throw new UnsupportedOperationException(String.format(
                    "Tensor '%s' has floating dtype %s; use toFloats() or toDoubles()", name, dtype));
            default -> throw new UnsupportedOperationException("dtype " + dtype);
        }
        return out;
    }

    /** An F32 tensor holding {@code values} (row-major). */
    public static TensorEntry ofFloats(String name, long[] shape, float[] values) {
        return ofFloats(name, shape, values, DType.F32);
    }

    /**
     * A floating tensor of dtype {@code target} (F32, F64, F16 or BF16) holding {@code values}.
     * Narrowing to F16/BF16 rounds to nearest even; see {@link HalfFloats}.
     */
    public static TensorEntry ofFloats(String name, long[] shape, float[] values, DType target) {
        Preconditions.checkNotNull(values, "values of tensor " + name);
        Preconditions.checkNotNull(target, "target dtype of tensor " + name);
        Preconditions.checkArgument(target.isFloating(),
                "Cannot store float values of tensor '%s' as %s; the target must be F64, F32, F16 or BF16",
                name, target);
        checkLength(name, shape, values.length);
        ByteBuffer b = allocate(values.length, target);
        switch (target) {
            case F32 -> b.asFloatBuffer().put(values);
            case F64 -> { for (int i = 0; i < values.length; i++) b.putDouble(i * 8, values[i]); }
            case F16 -> { for (int i = 0; i < values.length; i++) b.putShort(i * 2, HalfFloats.floatToHalf(values[i])); }
            case BF16 -> { for (int i = 0; i < values.length; i++) b.putShort(i * 2, HalfFloats.floatToBf16(values[i])); }
            default -> throw new UnsupportedOperationException("dtype " + target);
        }
        return new TensorEntry(name, target, shape, b);
    }

    /** An F64 tensor holding {@code values} (row-major). */
    public static TensorEntry ofDoubles(String name, long[] shape, double[] values) {
        Preconditions.checkNotNull(values, "values of tensor " + name);
        checkLength(name, shape, values.length);
        ByteBuffer b = allocate(values.length, DType.F64);
        b.asDoubleBuffer().put(values);
        return new TensorEntry(name, DType.F64, shape, b);
    }

    /** An I64 tensor holding {@code values} (row-major). */
    public static TensorEntry ofLongs(String name, long[] shape, long[] values) {
        Preconditions.checkNotNull(values, "values of tensor " + name);
        checkLength(name, shape, values.length);
        ByteBuffer b = allocate(values.length, DType.I64);
        b.asLongBuffer().put(values);
        return new TensorEntry(name, DType.I64, shape, b);
    }

    /**
     * A tensor over raw little-endian bytes, e.g. from {@code NDArray.toByteArray()}. The array is
     * wrapped, not copied: do not modify it afterwards.
     */
    public static TensorEntry ofBytes(String name, DType dtype, long[] shape, byte[] littleEndianBytes) {
        Preconditions.checkNotNull(littleEndianBytes, "data of tensor " + name);
        return new TensorEntry(name, dtype, shape, ByteBuffer.wrap(littleEndianBytes));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && data.equals(t.data); // compares the remaining bytes, i.e. all of them
    }

    @Override
    public int hashCode() {
        // The data bytes are left out on purpose: hashing a multi-GiB mapped tensor would read it
        // all, and equal entries still get equal hashes.
        return Objects.hash(name, dtype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return "TensorEntry[" + name + ", " + dtype + ", shape " + Arrays.toString(shape) + ", "
                + data.capacity() + " bytes]";
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /**
     * Data size of a tensor, checking what a Java buffer can hold: dimensions non-negative and at
     * most {@link Integer#MAX_VALUE} bytes (ByteBuffers are int-indexed).
     */
    private static long checkedByteSize(String name, DType dtype, long[] shape) {
        for (long d : shape) {
            Preconditions.checkArgument(d >= 0,
                    "Tensor '%s' has a negative dimension in shape %s", name, Arrays.toString(shape));
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(numel(shape), dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(String.format(
                    "Tensor '%s' shape %s overflows a long element count", name, Arrays.toString(shape)), e);
        }
        Preconditions.checkArgument(bytes <= Integer.MAX_VALUE,
                "Tensor '%s' (%s, shape %s) has %s bytes; a single tensor is limited to %s bytes (2 GiB)",
                name, dtype, Arrays.toString(shape), bytes, Integer.MAX_VALUE);
        return bytes;
    }

    private static void checkLength(String name, long[] shape, int length) {
        Preconditions.checkNotNull(shape, "shape of tensor " + name);
        long numel = numel(shape);
        Preconditions.checkArgument(numel == length,
                "Tensor '%s' has shape %s (%s elements) but %s values were given",
                name, Arrays.toString(shape), numel, length);
    }

    private static ByteBuffer allocate(int count, DType dtype) {
        return ByteBuffer.allocate(Math.multiplyExact(count, dtype.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    }
}
