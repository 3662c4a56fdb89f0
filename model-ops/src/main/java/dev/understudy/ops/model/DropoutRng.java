package dev.understudy.ops.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.SplittableRandom;

/**
 * Seeded, thread-confined source of dropout masks. libtorch's dropout draws from a process-global
 * generator, so two trainers on two Spark task threads would interleave draws and lose
 * reproducibility; masks are therefore drawn on the JVM side from a {@link SplittableRandom} that
 * the trainer seeds from (seed, step, micro-batch). Each 64-bit draw yields four 16-bit uniforms,
 * so the keep probability is quantised to 1/65536 and the survivors are scaled by the exact
 * inverse of that quantised keep probability (the expectation is preserved exactly).
 *
 * <p>The keep flags are staged through {@link Ops#fromBytes} into torch-owned memory, so masks
 * cause no direct-memory churn and the autograd graph can keep the mask after its handle closes.
 */
public final class DropoutRng {
    private final SplittableRandom random;

    public DropoutRng(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** Returns {@code x} itself when {@code p == 0}, else {@code x * mask / keep} with a fresh mask. */
    public NDArray apply(NDArray x, double p) {
        if (p <= 0) {
            return x;
        }
        int threshold = (int) Math.round(p * 65536.0); // drop when u16 < threshold
        if (threshold == 0) {
            return x;
        }
        double keep = (65536.0 - threshold) / 65536.0;
        int n = Math.toIntExact(x.size());
        NDArray flags = Ops.fromBytes(x.getManager(), n, x.getShape(), buf -> {
            int i = 0;
            while (i < n) {
                long bits = random.nextLong();
                for (int k = 0; k < 4 && i < n; k++, i++) {
                    int u = (int) ((bits >>> (16 * k)) & 0xFFFF);
                    buf.put(i, u < threshold ? (byte) 0 : (byte) 1);
                }
            }
        });
        NDArray mask = flags.toType(x.getDataType(), false);
        flags.close();
        Ops.muli(mask, 1.0 / keep);
        NDArray out = x.mul(mask);
        mask.close(); // drops only this handle; the autograd graph keeps its own reference
        return out;
    }
}
