package dev.understudy.ops.io;

import dev.understudy.ops.util.Preconditions;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor's header entry without its data: name, dtype and shape. What a safetensors header
 * declares before any data is read or written, so that a file can be rewritten tensor by tensor
 * ({@link SafetensorsWriter#streaming}, {@link Checkpoints#transform}).
 *
 * @param name checkpoint key, verbatim
 * @param dtype element type
 * @param shape dimensions, outermost first; {@code []} is a scalar
 */
public record TensorSpec(String name, DType dtype, long[] shape) {

    public TensorSpec {
        Preconditions.checkNotNull(name, "tensor name");
        Preconditions.checkNotNull(dtype, "dtype of tensor " + name);
        Preconditions.checkNotNull(shape, "shape of tensor " + name);
        shape = shape.clone();
        for (long d : shape) {
            Preconditions.checkArgument(d >= 0,
                    "Tensor '%s' has a negative dimension in shape %s", name, Arrays.toString(shape));
        }
    }

    /** The spec of an existing tensor. */
    public static TensorSpec of(TensorEntry t) {
        return new TensorSpec(t.name(), t.dtype(), t.shape());
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of data bytes: {@code numel * dtype.byteSize()}. */
    public long byteSize() {
        return Math.multiplyExact(TensorEntry.numel(shape), dtype.byteSize());
    }

    /** Whether {@code t} has this name, dtype and shape. */
    public boolean matches(TensorEntry t) {
        return name.equals(t.name()) && dtype == t.dtype() && Arrays.equals(shape, t.shape());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec s && name.equals(s.name) && dtype == s.dtype && Arrays.equals(shape, s.shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return "'" + name + "' (" + dtype + ", shape " + Arrays.toString(shape) + ")";
    }
}
