package dev.understudy.ops.testing;

import ai.djl.ndarray.NDManager;
import java.util.function.Supplier;

/**
 * Counts the NDArrays (and sub-managers) open on a manager before and after the code under test and
 * fails if the count grew, in the spirit of Parquet's TrackingByteBufferAllocator.
 */
public final class NDLeakCheck {
    private NDLeakCheck() {}

    /** Number of resources (arrays and child managers) currently attached to {@code m}. */
    public static int open(NDManager m) {
        return m.getManagedArrays().size();
    }

    /** Runs {@code body} and throws {@link AssertionError} if it leaves arrays attached to {@code m}. */
    public static <T> T assertNoLeak(NDManager m, Supplier<T> body) {
        int before = open(m);
        T result = body.get();
        int after = open(m);
        if (after > before) {
            throw new AssertionError("NDArray leak: " + (after - before) + " array(s) left open on " + m.getName());
        }
        return result;
    }
}
