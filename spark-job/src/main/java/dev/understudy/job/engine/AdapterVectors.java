package dev.understudy.job.engine;

import dev.understudy.ops.model.DecoderModel.HostTensor;
import java.util.LinkedHashMap;
import java.util.Map;

/** Flattens adapter tensors into one float vector in a fixed layout, and back. */
public final class AdapterVectors {
    private AdapterVectors() {}

    /** Concatenates the tensors' values in map order. */
    public static float[] flatten(Map<String, HostTensor> tensors) {
        int n = 0;
        for (HostTensor t : tensors.values()) {
            n += t.values().length;
        }
        float[] out = new float[n];
        int off = 0;
        for (HostTensor t : tensors.values()) {
            System.arraycopy(t.values(), 0, out, off, t.values().length);
            off += t.values().length;
        }
        return out;
    }

    /** Splits {@code vector} into tensors named and shaped like {@code layout}. */
    public static Map<String, HostTensor> unflatten(Map<String, long[]> layout, float[] vector) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        int off = 0;
        for (Map.Entry<String, long[]> e : layout.entrySet()) {
            long n = 1;
            for (long d : e.getValue()) {
                n *= d;
            }
            float[] v = new float[(int) n];
            System.arraycopy(vector, off, v, 0, v.length);
            off += v.length;
            out.put(e.getKey(), new HostTensor(e.getValue(), v));
        }
        if (off != vector.length) {
            throw new IllegalArgumentException("adapter vector has " + vector.length + " values but the layout needs " + off);
        }
        return out;
    }

    /** Name → shape of each tensor. */
    public static Map<String, long[]> layoutOf(Map<String, HostTensor> tensors) {
        Map<String, long[]> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> out.put(k, v.shape()));
        return out;
    }

    /** {@code a - b}. */
    public static float[] minus(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] - b[i];
        }
        return out;
    }
}
