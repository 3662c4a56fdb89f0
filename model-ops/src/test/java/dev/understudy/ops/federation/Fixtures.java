package dev.understudy.ops.federation;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Tiny synthetic updates for strategy tests. */
final class Fixtures {
    private Fixtures() {}

    static ClientUpdate update(String id, long numExamples, float... delta) {
        return new ClientUpdate(id, numExamples, delta, 1.0, 10 * numExamples);
    }

    /** {@code n} seeded random updates of {@code size} elements, mixing magnitudes and signs. */
    static List<ClientUpdate> randomUpdates(long seed, int n, int size) {
        SplittableRandom random = new SplittableRandom(seed);
        List<ClientUpdate> updates = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            float[] delta = new float[size];
            for (int i = 0; i < size; i++) {
                // log-uniform magnitudes over 2^-20..2^4 so that sums cancel and carry low bits
                delta[i] = (float) ((random.nextBoolean() ? 1 : -1) * Math.pow(2, random.nextDouble(-20, 4)));
            }
            long weight = k == 0 ? (1L << 31) + 12345 : random.nextLong(1, 5000); // one weight takes the fma path
            updates.add(new ClientUpdate("c" + k, weight, delta, random.nextDouble(0.5, 3.0), random.nextLong(0, 1000)));
        }
        return updates;
    }

    static float[] randomVector(long seed, int size) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = (float) random.nextDouble(-1, 1);
        }
        return v;
    }

    /** Raw bits, so that comparisons are bit for bit (and -0.0 differs from 0.0). */
    static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
