package dev.understudy.partition.stats;

/**
 * Distances between label distributions, as pure functions on probability vectors.
 *
 * <p>Jensen–Shannon divergence uses base-2 logarithms, so it lies in [0, 1]; the JS
 * <em>distance</em> is its square root (a metric; Endres and Schindelin, IEEE Trans. Inf. Theory
 * 49(7), 2003). The effective number of labels is {@code exp(H)} with the natural-log entropy H
 * (the Hill number of order 1): a client with k equally frequent labels has exactly k.
 */
public final class Divergence {

    private static final double LN2 = StrictMath.log(2);

    private Divergence() {}

    /** Normalises non-negative counts to a probability vector; all-zero counts give all zeros. */
    public static double[] normalize(long[] counts) {
        double total = 0;
        for (long c : counts) {
            total += c;
        }
        double[] p = new double[counts.length];
        if (total == 0) {
            return p;
        }
        for (int i = 0; i < counts.length; i++) {
            p[i] = counts[i] / total;
        }
        return p;
    }

    /** Shannon entropy in nats; zero entries contribute 0. */
    public static double entropy(double[] p) {
        double h = 0;
        for (double v : p) {
            if (v > 0) {
                h -= v * StrictMath.log(v);
            }
        }
        return h;
    }

    /** {@code exp(entropy(p))}: the number of equally frequent labels with the same entropy. */
    public static double effectiveNumber(double[] p) {
        return StrictMath.exp(entropy(p));
    }

    /** Kullback–Leibler divergence KL(p‖q) in bits; requires q &gt; 0 wherever p &gt; 0. */
    public static double klDivergenceBits(double[] p, double[] q) {
        checkSameLength(p, q);
        double kl = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                if (!(q[i] > 0)) {
                    return Double.POSITIVE_INFINITY;
                }
                kl += p[i] * StrictMath.log(p[i] / q[i]);
            }
        }
        return kl / LN2;
    }

    /** Jensen–Shannon divergence in bits, in [0, 1]. */
    public static double jsDivergence(double[] p, double[] q) {
        checkSameLength(p, q);
        double[] m = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            m[i] = 0.5 * (p[i] + q[i]);
        }
        double js = 0.5 * klDivergenceBits(p, m) + 0.5 * klDivergenceBits(q, m);
        // Rounding can leave tiny values just outside [0, 1].
        return Math.min(1.0, Math.max(0.0, js));
    }

    /** Jensen–Shannon distance: the square root of {@link #jsDivergence}, in [0, 1]. */
    public static double jsDistance(double[] p, double[] q) {
        return Math.sqrt(jsDivergence(p, q));
    }

    /**
     * Earth mover's (Wasserstein-1) distance between two distributions on ordered points: the
     * integral of |CDF_p - CDF_q|. Meaningful only for ordinal labels.
     *
     * @param positions the label values, strictly increasing
     */
    public static double emd1d(double[] p, double[] q, double[] positions) {
        checkSameLength(p, q);
        checkSameLength(p, positions);
        double cdfP = 0;
        double cdfQ = 0;
        double emd = 0;
        for (int i = 0; i + 1 < p.length; i++) {
            if (!(positions[i + 1] > positions[i])) {
                throw new IllegalArgumentException("positions must be strictly increasing at index " + (i + 1));
            }
            cdfP += p[i];
            cdfQ += q[i];
            emd += Math.abs(cdfP - cdfQ) * (positions[i + 1] - positions[i]);
        }
        return emd;
    }

    private static void checkSameLength(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("vectors have different lengths: " + a.length + " and " + b.length);
        }
    }
}
