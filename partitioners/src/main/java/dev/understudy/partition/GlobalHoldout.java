package dev.understudy.partition;

import java.math.BigDecimal;

/**
 * A global held-out set taken before partitioning: a row is held out iff
 *
 * <pre>
 *   Long.compareUnsigned(RowOrder.hash(hashSeed(), rowKey), threshold()) &lt; 0
 * </pre>
 *
 * with {@code threshold = floor(fraction · 2^64)}. Membership depends only on the row key and the
 * seed, never on the other rows, so the held-out set stays the same when rows are added or removed;
 * the held-out share is {@code fraction} in expectation (binomial), not exactly. On Spark it is a
 * filter with a UDF, no shuffle.
 */
public final class GlobalHoldout {

    private final double fraction;
    private final long seed;
    private final long threshold;

    /**
     * @param fraction expected share of rows held out, in [0, 1)
     * @param seed the partitioning seed (the hash seed is derived from it)
     */
    public GlobalHoldout(double fraction, long seed) {
        Checks.fraction("holdout_fraction", fraction);
        this.fraction = fraction;
        this.seed = seed;
        // Exact: fraction is a binary double, so fraction · 2^64 is exact in BigDecimal.
        this.threshold = new BigDecimal(fraction).multiply(new BigDecimal(java.math.BigInteger.ONE.shiftLeft(64)))
                .toBigInteger().longValue();
    }

    public double fraction() {
        return fraction;
    }

    /** The hash seed: {@code RowOrder.hash(seed, "holdout")}. */
    public long hashSeed() {
        return SeededRandom.derive(seed, "holdout");
    }

    /** The unsigned threshold below which a hash is held out. */
    public long threshold() {
        return threshold;
    }

    public boolean isHeldOut(String rowKey) {
        return fraction > 0 && isHeldOutHash(RowOrder.hash(hashSeed(), rowKey));
    }

    /** For a precomputed {@code RowOrder.hash(hashSeed(), rowKey)}. */
    public boolean isHeldOutHash(long hash) {
        return Long.compareUnsigned(hash, threshold) < 0;
    }
}
