package dev.understudy.partition;

/**
 * SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014)
 * with hand-written derived distributions, so the stream is pinned by this file alone.
 *
 * <p>Why not {@link java.util.SplittableRandom}: its {@code nextLong} is the same SplitMix64, but in
 * JDK 17 its bounded and Gaussian methods moved into {@code jdk.internal.util.random.RandomSupport},
 * whose algorithms a later JDK may change. A partition plan must be identical on every machine and
 * JDK, so everything here uses plain arithmetic and {@link StrictMath}.
 */
final class SeededRandom {

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private long state;

    SeededRandom(long seed) {
        this.state = seed;
    }

    /** A seed for one purpose ("row_order", "dirichlet/3", ...) derived from the user's seed. */
    static long derive(long seed, String purpose) {
        return RowOrder.hash(seed, purpose);
    }

    /** The SplitMix64 finaliser: a bijective, well-mixed function of one long. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    long nextLong() {
        state += GOLDEN_GAMMA;
        return mix64(state);
    }

    /** Uniform in [0, 1). */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in (0, 1]: safe to take the logarithm of. */
    double nextDoubleOpenAtZero() {
        return ((nextLong() >>> 11) + 1) * 0x1.0p-53;
    }

    /** Uniform in [0, bound), without modulo bias. */
    int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        while (true) {
            int bits = (int) (nextLong() >>> 33);
            int value = bits % bound;
            // Reject the top partial block so every value is equally likely.
            if (bits - value + (bound - 1) >= 0) {
                return value;
            }
        }
    }

    /** Standard normal by Marsaglia's polar method (one of the two draws is discarded). */
    double nextGaussian() {
        while (true) {
            double u = 2 * nextDouble() - 1;
            double v = 2 * nextDouble() - 1;
            double s = u * u + v * v;
            if (s > 0 && s < 1) {
                return u * StrictMath.sqrt(-2 * StrictMath.log(s) / s);
            }
        }
    }

    /** Fisher–Yates permutation of 0..n-1. */
    int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
