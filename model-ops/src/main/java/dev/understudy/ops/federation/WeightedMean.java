package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;
import static dev.understudy.ops.util.Preconditions.checkState;

import java.io.Serializable;

/**
 * Streaming, mergeable accumulator of the example-weighted mean of client deltas, for Spark's
 * {@code treeAggregate(WeightedMean.empty(n), WeightedMean::add, WeightedMean::merge)}: the driver
 * then holds one accumulator instead of every update.
 *
 * <p>{@link #add} and {@link #merge} modify this accumulator and return it (Spark allows both of
 * its aggregate functions to do so).
 *
 * <p><b>Order independence.</b> Spark combines partial accumulators in a tree whose shape depends on
 * the partitioning, so the mean must not depend on the order of additions and merges. Each
 * coordinate's weighted sum is therefore kept in double, as an unevaluated sum of two doubles
 * ({@code hi + lo}, about 106 significant bits), and each product {@code numExamples·delta} is added
 * exactly. A plain {@code double} sum is not enough: with 10^7 coordinates, ~100 clients and the
 * sign cancellation typical of adapter deltas, a few coordinates would round to a different float
 * depending on the tree shape. With the two-double sum, the float result can only depend on order
 * when the exact mean lies within ~n·2^-100 (relative) of a float rounding boundary, which does not
 * happen in practice; {@code WeightedMeanTest} checks that merge-order permutations give identical
 * {@code float[]}. Loss and token statistics are plain double/long sums (reporting only).
 *
 * <p><b>Zero weight.</b> Clients with {@code numExamples == 0} are counted but contribute nothing.
 * If the total weight is 0, {@link #mean()} throws and linear strategies keep the previous global
 * vector (empty result).
 *
 * <p>Memory: 16 bytes per coordinate.
 */
public final class WeightedMean implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Products {@code w·delta} are exact in double when {@code w < 2^29} (24 + 29 ≤ 53 bits). */
    private static final long EXACT_PRODUCT_WEIGHT = 1L << 29;

    private static final long MAX_TOTAL_WEIGHT = 1L << 53;

    private final double[] hi; // (size) leading part of Σ w·delta
    private final double[] lo; // (size) trailing part, |lo| ≤ ulp(hi)/2
    private long totalWeight;
    private int count;
    private double weightedLossSum;
    private long trainTokens;

    private WeightedMean(int size) {
        this.hi = new double[size];
        this.lo = new double[size];
    }

    /** An accumulator for vectors of {@code size} elements, holding no update. */
    public static WeightedMean empty(int size) {
        checkArgument(size >= 0, "A weighted mean needs a non-negative vector size, got %s", size);
        return new WeightedMean(size);
    }

    /** Adds one client's delta with weight {@code numExamples}; returns this. */
    public WeightedMean add(ClientUpdate update) {
        checkNotNull(update, "update");
        checkArgument(
                update.delta().length == hi.length,
                "client %s sent an update of %s elements but the global vector has %s; the client trained a"
                        + " different adapter layout",
                update.clientId(),
                update.delta().length,
                hi.length);
        accumulate(update.delta(), update.numExamples());
        count++;
        weightedLossSum += update.numExamples() * update.trainLoss();
        trainTokens += update.trainTokens();
        return this;
    }

    /** Adds a bare vector with weight {@code weight}, without loss statistics (for {@link Aggregations}). */
    WeightedMean add(float[] vector, long weight) {
        checkArgument(vector.length == hi.length, "A vector of %s elements cannot join a mean of %s", vector.length, hi.length);
        checkArgument(weight >= 0, "Weights must be non-negative, got %s", weight);
        accumulate(vector, weight);
        count++;
        return this;
    }

    private void accumulate(float[] delta, long weight) {
        totalWeight = Math.addExact(totalWeight, weight);
        checkArgument(totalWeight <= MAX_TOTAL_WEIGHT, "The total weight %s exceeds 2^53 examples", totalWeight);
        if (weight == 0) {
            return;
        }
        double w = weight; // exact: weight ≤ 2^53
        boolean exact = weight < EXACT_PRODUCT_WEIGHT;
        for (int i = 0; i < hi.length; i++) {
            double d = delta[i];
            double p = w * d;
            double e = exact ? 0.0 : Math.fma(w, d, -p); // p + e == w·d exactly
            addTwo(i, p, e);
        }
    }

    /**
     * Merges {@code other}'s partial sums into this one; returns this. Associative and commutative up
     * to the ~2^-106 rounding of the two-double sums (see the class comment).
     */
    public WeightedMean merge(WeightedMean other) {
        checkNotNull(other, "other");
        checkArgument(other != this, "Cannot merge a weighted mean into itself");
        checkArgument(
                other.hi.length == hi.length,
                "Cannot merge weighted means of %s and %s elements; the partitions trained different adapter layouts",
                hi.length,
                other.hi.length);
        totalWeight = Math.addExact(totalWeight, other.totalWeight);
        checkArgument(totalWeight <= MAX_TOTAL_WEIGHT, "The total weight %s exceeds 2^53 examples", totalWeight);
        count += other.count;
        weightedLossSum += other.weightedLossSum;
        trainTokens += other.trainTokens;
        for (int i = 0; i < hi.length; i++) {
            addTwo(i, other.hi[i], other.lo[i]);
        }
        return this;
    }

    /** Adds {@code a + b} (|b| small relative to a) to coordinate i's two-double sum. */
    private void addTwo(int i, double a, double b) {
        // 1. TwoSum (Knuth): s + err == hi + a exactly.
        double h = hi[i];
        double s = h + a;
        double bb = s - h;
        double err = (h - (s - bb)) + (a - bb);
        // 2. Collect all the small parts, then renormalise so that hi carries the leading bits.
        double l = lo[i] + err + b;
        double s2 = s + l;
        double bb2 = s2 - s;
        hi[i] = s2;
        lo[i] = (s - (s2 - bb2)) + (l - bb2);
    }

    /** Vector length. */
    public int size() {
        return hi.length;
    }

    /** Sum of the weights ({@code numExamples}) added so far. */
    public long totalWeight() {
        return totalWeight;
    }

    /** Number of updates added so far, including those with zero weight. */
    public int count() {
        return count;
    }

    /** Total train tokens reported by the updates. */
    public long trainTokens() {
        return trainTokens;
    }

    /** Example-weighted mean of the clients' train losses, or NaN when the total weight is 0. */
    public double meanTrainLoss() {
        return totalWeight == 0 ? Double.NaN : weightedLossSum / totalWeight;
    }

    /**
     * The weighted mean {@code Σ w_k·delta_k / Σ w_k}, rounded once to float per coordinate.
     *
     * @throws IllegalStateException if the total weight is 0
     */
    public float[] mean() {
        checkState(
                totalWeight > 0,
                "Cannot take the weighted mean of %s client updates whose numExamples sum to 0; a client that"
                        + " trained on no examples should be reported as a failure",
                count);
        double w = totalWeight;
        float[] out = new float[hi.length];
        for (int i = 0; i < out.length; i++) {
            // (hi + lo) / w to ~double precision: q plus the exact remainder of the division.
            double q = hi[i] / w;
            double r = Math.fma(-q, w, hi[i]) + lo[i];
            out[i] = (float) (q + r / w);
        }
        return out;
    }
}
