package dev.understudy.ops.surgery;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import dev.understudy.ops.model.DecoderModel.HostTensor;

/** Pure host-side slicing of 1-D/2-D tensors along one axis (the neuron axis of an FFN tensor). */
final class NeuronSlices {
    private NeuronSlices() {}

    /** Length of {@code t} along {@code axis}. */
    static int extent(HostTensor t, int axis) {
        checkArgument(axis < t.shape().length, "axis %s of a %s-D tensor", axis, t.shape().length);
        return Math.toIntExact(t.shape()[axis]);
    }

    /** Sum of squares of slice {@code j} of {@code t} along {@code axis}. */
    static double sumSquares(HostTensor t, int axis, int j) {
        long[] s = t.shape();
        float[] v = t.values();
        double acc = 0;
        if (s.length == 1) {
            return (double) v[j] * v[j];
        }
        int rows = Math.toIntExact(s[0]);
        int cols = Math.toIntExact(s[1]);
        if (axis == 0) {
            for (int c = 0; c < cols; c++) {
                double x = v[j * cols + c];
                acc += x * x;
            }
        } else {
            for (int r = 0; r < rows; r++) {
                double x = v[r * cols + j];
                acc += x * x;
            }
        }
        return acc;
    }

    /** The slices {@code keep} (in that order) of {@code t} along {@code axis}. */
    static HostTensor select(HostTensor t, int axis, int[] keep) {
        long[] s = t.shape().clone();
        float[] v = t.values();
        if (s.length == 1) {
            float[] out = new float[keep.length];
            for (int i = 0; i < keep.length; i++) {
                out[i] = v[keep[i]];
            }
            return new HostTensor(new long[] {keep.length}, out);
        }
        int rows = Math.toIntExact(s[0]);
        int cols = Math.toIntExact(s[1]);
        if (axis == 0) {
            float[] out = new float[keep.length * cols];
            for (int i = 0; i < keep.length; i++) {
                System.arraycopy(v, keep[i] * cols, out, i * cols, cols);
            }
            return new HostTensor(new long[] {keep.length, cols}, out);
        }
        float[] out = new float[rows * keep.length];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < keep.length; i++) {
                out[r * keep.length + i] = v[r * cols + keep[i]];
            }
        }
        return new HostTensor(new long[] {rows, keep.length}, out);
    }

    /**
     * A copy of {@code base} whose slices {@code at[i]} along {@code axis} are replaced by slice
     * {@code i} of {@code part} (the inverse of {@link #select}); the other slices keep {@code
     * base}'s values.
     */
    static HostTensor scatter(HostTensor base, HostTensor part, int axis, int[] at) {
        long[] s = base.shape();
        float[] out = base.values().clone();
        float[] p = part.values();
        checkArgument(extent(part, axis) == at.length, "scatter of %s slices into %s positions", extent(part, axis),
                at.length);
        if (s.length == 1) {
            for (int i = 0; i < at.length; i++) {
                out[at[i]] = p[i];
            }
            return new HostTensor(s.clone(), out);
        }
        int rows = Math.toIntExact(s[0]);
        int cols = Math.toIntExact(s[1]);
        if (axis == 0) {
            checkArgument(part.shape()[1] == cols, "scatter rows of width %s into width %s", part.shape()[1], cols);
            for (int i = 0; i < at.length; i++) {
                System.arraycopy(p, i * cols, out, at[i] * cols, cols);
            }
        } else {
            checkArgument(part.shape()[0] == rows, "scatter columns of height %s into height %s", part.shape()[0], rows);
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < at.length; i++) {
                    out[r * cols + at[i]] = p[r * at.length + i];
                }
            }
        }
        return new HostTensor(s.clone(), out);
    }

    /** A zero tensor of {@code base}'s shape with the slices of {@code part} at {@code at}. */
    static HostTensor scatterIntoZeros(long[] shape, HostTensor part, int axis, int[] at) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return scatter(new HostTensor(shape.clone(), new float[Math.toIntExact(n)]), part, axis, at);
    }
}
