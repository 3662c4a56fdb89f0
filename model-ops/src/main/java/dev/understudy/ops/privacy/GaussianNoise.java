package dev.understudy.ops.privacy;

import java.util.SplittableRandom;

/**
 * A seeded stream of standard normal draws, the same bits on every JVM and platform: {@link
 * SplittableRandom} for the uniforms and the Box–Muller transform in {@link StrictMath}. The DP
 * noise of round r comes from {@code forRound(seed, r)} only, so a resumed or retried run draws the
 * identical noise.
 */
public final class GaussianNoise {
    private final SplittableRandom random;
    private double spare;
    private boolean hasSpare;

    private GaussianNoise(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** The stream of round {@code round} of a run seeded {@code seed}; {@code salt} separates independent streams. */
    public static GaussianNoise forRound(long seed, int round, long salt) {
        return new GaussianNoise(mix(mix(seed ^ 0x6A09E667F3BCC909L, round), salt));
    }

    /** One N(0, 1) draw. */
    public double next() {
        if (hasSpare) {
            hasSpare = false;
            return spare;
        }
        double u1 = 1.0 - random.nextDouble(); // (0, 1]: log is finite
        double u2 = random.nextDouble();
        double r = StrictMath.sqrt(-2 * StrictMath.log(u1));
        double theta = 2 * Math.PI * u2;
        spare = r * StrictMath.sin(theta);
        hasSpare = true;
        return r * StrictMath.cos(theta);
    }

    /** SplitMix64's finaliser over {@code a + golden·b}. */
    static long mix(long a, long b) {
        long z = a + 0x9E3779B97F4A7C15L * (b + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
