package dev.understudy.ops.privacy;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

/**
 * Rényi differential privacy of the sampled Gaussian mechanism and its conversion to (ε, δ), as
 * pure functions. Mironov, "Rényi Differential Privacy" (CSF 2017, arXiv:1702.07476); Mironov,
 * Talwar, Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism" (2019,
 * arXiv:1908.10530) §3.3 for the orders; Balle et al., "Hypothesis Testing Interpretations and Renyi
 * Differential Privacy" (AISTATS 2020) for the conversion. The same formulas as Google's
 * {@code dp_accounting} RDP accountant and Opacus, re-derived here in log space.
 *
 * <p>The mechanism: each record (for Understudy, each client) is included with probability
 * {@code q} (Poisson sampling, add/remove adjacency), the included contributions have L2 norm ≤ S
 * and are summed, and Gaussian noise N(0, z²S²) is added per coordinate; {@code z} is the noise
 * multiplier.
 */
public final class Rdp {
    /** Orders 1.1, 1.2, …, 10.9, 12, …, 63, 128, 256, 512 (as {@code dp_accounting}'s defaults). */
    public static final double[] DEFAULT_ORDERS = defaultOrders();

    private Rdp() {}

    /** The (ε, δ) bound and the order α that gives it. */
    public record Epsilon(double epsilon, double order) {}

    private static double[] defaultOrders() {
        double[] orders = new double[99 + 52 + 3];
        int k = 0;
        for (int x = 1; x < 100; x++) {
            orders[k++] = 1 + x / 10.0;
        }
        for (int a = 12; a < 64; a++) {
            orders[k++] = a;
        }
        orders[k++] = 128;
        orders[k++] = 256;
        orders[k] = 512;
        return orders;
    }

    /**
     * RDP ε(α) of one round of the sampled Gaussian mechanism.
     *
     * @param q sampling probability in [0, 1]
     * @param z noise multiplier σ/S, positive
     * @param alpha order, &gt; 1 (may be +∞)
     */
    public static double sampledGaussian(double q, double z, double alpha) {
        checkArgument(q >= 0 && q <= 1, "The sampling probability q must be in [0, 1], got %s", q);
        checkArgument(z > 0 && !Double.isNaN(z), "The noise multiplier must be positive, got %s", z);
        checkArgument(alpha > 1, "RDP orders must be > 1, got %s", alpha);
        if (q == 0) {
            return 0;
        }
        if (Double.isInfinite(alpha)) {
            return Double.POSITIVE_INFINITY;
        }
        if (q == 1) {
            return alpha / (2 * z * z); // the Gaussian mechanism, no amplification
        }
        double logA = alpha == Math.rint(alpha) && alpha < Integer.MAX_VALUE
                ? logAInteger(q, z, (int) alpha)
                : logAFractional(q, z, alpha);
        return logA / (alpha - 1);
    }

    /** RDP ε_T(α) of {@code rounds} identical rounds at each order (RDP composes additively). */
    public static double[] sampledGaussian(double q, double z, long rounds, double[] orders) {
        checkNotNull(orders, "orders");
        checkArgument(rounds >= 0, "The number of rounds must be non-negative, got %s", rounds);
        double[] rdp = new double[orders.length];
        for (int k = 0; k < orders.length; k++) {
            rdp[k] = rounds == 0 ? 0 : rounds * sampledGaussian(q, z, orders[k]);
        }
        return rdp;
    }

    /**
     * log A_α for integer α: {@code A_α = Σ_{i=0..α} C(α,i) (1−q)^{α−i} q^i exp((i²−i)/(2z²))}
     * (Mironov et al. 2019, §3.3, integer case), by log-sum-exp.
     */
    static double logAInteger(double q, double z, int alpha) {
        double logQ = Math.log(q);
        double log1mQ = Math.log1p(-q);
        double logCoef = 0; // log C(α, i)
        double logA = Double.NEGATIVE_INFINITY;
        for (int i = 0; i <= alpha; i++) {
            if (i > 0) {
                logCoef += Math.log(alpha - i + 1) - Math.log(i);
            }
            double term = logCoef + i * logQ + (alpha - i) * log1mQ + ((double) i * i - i) / (2 * z * z);
            logA = LogMath.logAdd(logA, term);
        }
        return logA;
    }

    /**
     * log A_α for fractional α: the two series of Mironov et al. 2019 §3.3 split at {@code z₀ = z²
     * log(1/q − 1) + ½}, with generalised binomial coefficients (whose sign alternates once i &gt;
     * α), each summed until its terms decrease and fall 30 nats below the running total.
     */
    static double logAFractional(double q, double z, double alpha) {
        double logQ = Math.log(q);
        double log1mQ = Math.log1p(-q);
        double z0 = z * z * Math.log(1 / q - 1) + 0.5;
        double sqrt2z = Math.sqrt(2) * z;
        double log2z2 = 2 * z * z;
        double logHalf = Math.log(0.5);
        double a0 = Double.NEGATIVE_INFINITY;
        double a1 = Double.NEGATIVE_INFINITY;
        double logCoef = 0; // log |C(α, i)|
        int sign = 1; // sign of C(α, i)
        double prev0 = Double.POSITIVE_INFINITY;
        double prev1 = Double.POSITIVE_INFINITY;
        for (int i = 0; i < 10_000_000; i++) {
            if (i > 0) {
                double factor = (alpha - i + 1) / i;
                logCoef += Math.log(Math.abs(factor));
                sign *= factor < 0 ? -1 : 1;
            }
            double j = alpha - i;
            double t0 = logCoef + i * logQ + j * log1mQ;
            double t1 = logCoef + j * logQ + i * log1mQ;
            double e0 = logHalf + LogMath.logErfc((i - z0) / sqrt2z);
            double e1 = logHalf + LogMath.logErfc((z0 - j) / sqrt2z);
            double s0 = t0 + ((double) i * i - i) / log2z2 + e0;
            double s1 = t1 + (j * j - j) / log2z2 + e1;
            if (sign > 0) {
                a0 = LogMath.logAdd(a0, s0);
                a1 = LogMath.logAdd(a1, s1);
            } else {
                a0 = LogMath.logSub(a0, s0);
                a1 = LogMath.logSub(a1, s1);
            }
            boolean decreasing = s0 < prev0 && s1 < prev1;
            double total = LogMath.logAdd(a0, a1);
            if (i > alpha && decreasing && Math.max(s0, s1) < total - 30) {
                return total;
            }
            prev0 = s0;
            prev1 = s1;
        }
        throw new IllegalStateException(
                "The RDP series for q=" + q + ", z=" + z + ", alpha=" + alpha + " did not converge");
    }

    /**
     * The smallest ε over the orders such that the mechanism with RDP {@code rdp[k]} at order
     * {@code orders[k]} is (ε, δ)-DP: {@code ε = min_α [ε(α) + log(1 − 1/α) − (log δ + log α)/(α − 1)]}
     * (Balle et al. 2020, Theorem 21), with ε = 0 where the KL bound {@code δ ≥ sqrt(1 − e^{−ε(α)})}
     * already holds, as in {@code dp_accounting}. Orders ≤ 1.01 give no bound.
     *
     * @throws IllegalArgumentException for mismatched arrays, an order below 1, a negative RDP or δ
     *     outside (0, 1)
     */
    public static Epsilon epsilon(double[] orders, double[] rdp, double delta) {
        checkNotNull(orders, "orders");
        checkNotNull(rdp, "rdp");
        checkArgument(orders.length == rdp.length && orders.length > 0,
                "Got %s orders and %s RDP values; need as many of each, at least one", orders.length, rdp.length);
        checkArgument(delta > 0 && delta < 1, "Cannot set privacy.delta to %s: the value must be in (0, 1)", delta);
        double best = Double.POSITIVE_INFINITY;
        double bestOrder = Double.NaN;
        for (int k = 0; k < orders.length; k++) {
            double a = orders[k];
            double r = rdp[k];
            checkArgument(a >= 1, "RDP orders must be at least 1, got %s", a);
            checkArgument(r >= 0, "RDP values must be non-negative, got %s at order %s", r, a);
            double eps;
            if (delta * delta + Math.expm1(-r) > 0) {
                eps = 0;
            } else if (a > 1.01) {
                eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
            } else {
                eps = Double.POSITIVE_INFINITY;
            }
            if (eps < best) {
                best = eps;
                bestOrder = a;
            }
        }
        return new Epsilon(Math.max(0, best), bestOrder);
    }

    /** ε at δ after {@code rounds} rounds at sampling rate q and noise multiplier z, over {@link #DEFAULT_ORDERS}. */
    public static Epsilon epsilon(double q, double z, long rounds, double delta) {
        return epsilon(DEFAULT_ORDERS, sampledGaussian(q, z, rounds, DEFAULT_ORDERS), delta);
    }
}
