package dev.understudy.partition;

/**
 * Gamma and Dirichlet sampling on {@link SeededRandom}.
 *
 * <p>Gamma(shape, 1) uses Marsaglia and Tsang, "A simple method for generating gamma variables"
 * (ACM TOMS 26(3), 2000), with their boost for shape &lt; 1: {@code G(a) = G(a + 1) * U^(1/a)}.
 * Everything is returned as a logarithm: for α = 0.01, {@code U^(1/α)} underflows to 0 for half of
 * all draws, and a Dirichlet vector of zeros cannot be normalised. Working in log space and
 * normalising with the log-sum-exp shift keeps tiny α usable.
 */
final class Sampling {

    private Sampling() {}

    /** log of a Gamma(shape, 1) draw; shape must be &gt; 0. */
    static double logGamma(double shape, SeededRandom rng) {
        if (shape < 1) {
            // Boost: G(a) = G(a + 1) * U^(1/a), so log G(a) = log G(a + 1) + log(U) / a.
            return logGamma(shape + 1, rng) + StrictMath.log(rng.nextDoubleOpenAtZero()) / shape;
        }
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / StrictMath.sqrt(9 * d);
        while (true) {
            double x = rng.nextGaussian();
            double v = 1 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = rng.nextDoubleOpenAtZero();
            double x2 = x * x;
            // 1) cheap squeeze test, 2) exact acceptance test.
            if (u < 1 - 0.0331 * x2 * x2) {
                return StrictMath.log(d * v);
            }
            if (StrictMath.log(u) < 0.5 * x2 + d * (1 - v + StrictMath.log(v))) {
                return StrictMath.log(d * v);
            }
        }
    }

    /** A draw from the symmetric Dirichlet(α, ..., α) over {@code k} categories. */
    static double[] dirichlet(double alpha, int k, SeededRandom rng) {
        double[] logs = new double[k];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < k; i++) {
            logs[i] = logGamma(alpha, rng);
            max = Math.max(max, logs[i]);
        }
        double sum = 0;
        double[] p = new double[k];
        for (int i = 0; i < k; i++) {
            p[i] = StrictMath.exp(logs[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < k; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
