package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Named tensors flattened, in list order and row-major, into the single {@code float[]} vector that
 * strategies aggregate. Tensor {@code i} occupies {@code [offset(i), offset(i) + elements(i))}.
 *
 * @param names tensor names, unique, e.g. {@code model.layers.0.self_attn.q_proj.lora_A}
 * @param shapes one shape per name, every dimension positive
 */
public record ParameterLayout(List<String> names, List<long[]> shapes) implements Serializable {
    public ParameterLayout {
        checkNotNull(names, "names");
        checkNotNull(shapes, "shapes");
        checkArgument(
                names.size() == shapes.size(),
                "A parameter layout needs one shape per name, got %s names and %s shapes",
                names.size(),
                shapes.size());
        Set<String> seen = new HashSet<>();
        List<long[]> copies = new ArrayList<>(shapes.size());
        long total = 0;
        for (int i = 0; i < names.size(); i++) {
            String name = checkNotNull(names.get(i), "names[" + i + "]");
            checkArgument(seen.add(name), "Tensor name %s appears twice in the parameter layout", name);
            long[] shape = checkNotNull(shapes.get(i), "shape of " + name).clone();
            long elements = 1;
            for (long dim : shape) {
                checkArgument(dim > 0, "Tensor %s has shape %s: every dimension must be positive", name, Arrays.toString(shape));
                elements = Math.multiplyExact(elements, dim);
            }
            total += elements;
            checkArgument(
                    total <= Integer.MAX_VALUE,
                    "The parameter layout holds more than %s elements (at tensor %s); one float[] cannot hold it",
                    Integer.MAX_VALUE,
                    name);
            copies.add(shape);
        }
        names = List.copyOf(names);
        shapes = List.copyOf(copies);
    }

    /** Number of tensors. */
    public int count() {
        return names.size();
    }

    /** Total number of elements, i.e. the length of the flattened vector. */
    public int size() {
        return count() == 0 ? 0 : offset(count() - 1) + elements(count() - 1);
    }

    /** Number of elements of tensor {@code i}. */
    public int elements(int i) {
        long n = 1;
        for (long dim : shapes.get(i)) {
            n *= dim;
        }
        return (int) n;
    }

    /** Start of tensor {@code i} in the flattened vector. */
    public int offset(int i) {
        checkArgument(i >= 0 && i < count(), "Tensor index %s is out of range [0, %s)", i, count());
        int offset = 0;
        for (int j = 0; j < i; j++) {
            offset += elements(j);
        }
        return offset;
    }

    /** Index of the tensor called {@code name}, or -1. */
    public int indexOf(String name) {
        return names.indexOf(name);
    }

    @Override
    public List<long[]> shapes() {
        return shapes.stream().map(long[]::clone).toList();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ParameterLayout other) || !names.equals(other.names)) {
            return false;
        }
        for (int i = 0; i < shapes.size(); i++) {
            if (!Arrays.equals(shapes.get(i), other.shapes.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = names.hashCode();
        for (long[] shape : shapes) {
            h = 31 * h + Arrays.hashCode(shape);
        }
        return h;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ParameterLayout[");
        for (int i = 0; i < names.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(names.get(i)).append(Arrays.toString(shapes.get(i)));
        }
        return sb.append(", size=").append(size()).append(']').toString();
    }
}
