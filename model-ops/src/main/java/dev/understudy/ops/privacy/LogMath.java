package dev.understudy.ops.privacy;

/**
 * Log-space arithmetic for the RDP accountant: sums of terms that under- or overflow a double, and a
 * {@code log(erfc(x))} that stays accurate where {@code erfc(x)} itself underflows (x ≳ 26).
 */
public final class LogMath {
    private static final double LOG_SQRT_PI = 0.5 * Math.log(Math.PI);

    private LogMath() {}

    /** {@code log(e^a + e^b)}. */
    public static double logAdd(double a, double b) {
        double hi = Math.max(a, b);
        double lo = Math.min(a, b);
        if (lo == Double.NEGATIVE_INFINITY) {
            return hi;
        }
        return hi + Math.log1p(Math.exp(lo - hi));
    }

    /**
     * {@code log(e^a − e^b)} for {@code a ≥ b}.
     *
     * @throws IllegalArgumentException if {@code a < b} (the difference would be negative)
     */
    public static double logSub(double a, double b) {
        if (b == Double.NEGATIVE_INFINITY) {
            return a;
        }
        if (a < b) {
            throw new IllegalArgumentException("log-space subtraction " + a + " − " + b + " would be negative");
        }
        if (a == b) {
            return Double.NEGATIVE_INFINITY;
        }
        return b + Math.log(Math.expm1(a - b));
    }

    /**
     * {@code log(erfc(x))} to about 1e-14 relative: the Maclaurin series of erf for {@code |x| < 2},
     * the continued fraction {@code erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …))))} for
     * {@code x ≥ 2} (Abramowitz & Stegun 7.1.14) evaluated in log space, and {@code erfc(x) = 2 −
     * erfc(−x)} for {@code x ≤ −2}.
     */
    public static double logErfc(double x) {
        if (Double.isNaN(x)) {
            return Double.NaN;
        }
        if (x >= 2) {
            return -x * x - LOG_SQRT_PI - Math.log(continuedFraction(x));
        }
        if (x <= -2) {
            return Math.log(2 - Math.exp(logErfc(-x)));
        }
        return Math.log1p(-erfSeries(x));
    }

    /** erf(x) = 2/√π Σ (−1)^n x^{2n+1} / (n! (2n+1)), for |x| < 2 (terms peak below 10, so little cancellation). */
    private static double erfSeries(double x) {
        double x2 = x * x;
        double term = x; // (−1)^n x^{2n+1} / n!
        double sum = x;
        for (int n = 1; n < 200; n++) {
            term *= -x2 / n;
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                break;
            }
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    /** {@code x + a₁/(x + a₂/(x + …))} with {@code a_n = n/2}, by the modified Lentz method. */
    private static double continuedFraction(double x) {
        final double tiny = 1e-300;
        double f = x;
        double c = f;
        double d = 0;
        for (int n = 1; n < 100_000; n++) {
            double a = n / 2.0;
            d = x + a * d;
            d = d == 0 ? tiny : d;
            c = x + a / c;
            c = c == 0 ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) {
                return f;
            }
        }
        throw new IllegalStateException("the erfc continued fraction did not converge at x=" + x);
    }
}
