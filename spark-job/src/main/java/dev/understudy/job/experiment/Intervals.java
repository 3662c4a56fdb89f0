package dev.understudy.job.experiment;

import org.apache.commons.math3.distribution.TDistribution;

/** Mean and two-sided 95% Student-t confidence interval over a cell's seeds. */
public final class Intervals {
    private Intervals() {}

    /** @param halfWidth t(0.975, n−1)·s/√n; NaN for n &lt; 2 */
    public record Interval(int n, double mean, double halfWidth) {
        public double low() {
            return mean - halfWidth;
        }

        public double high() {
            return mean + halfWidth;
        }
    }

    /** The interval of the finite values of {@code xs} (NaN mean when none). */
    public static Interval of(double[] xs) {
        double[] v = java.util.Arrays.stream(xs).filter(Double::isFinite).toArray();
        int n = v.length;
        if (n == 0) {
            return new Interval(0, Double.NaN, Double.NaN);
        }
        double mean = java.util.Arrays.stream(v).sum() / n;
        if (n < 2) {
            return new Interval(n, mean, Double.NaN);
        }
        double ss = 0;
        for (double x : v) {
            ss += (x - mean) * (x - mean);
        }
        double sd = Math.sqrt(ss / (n - 1));
        return new Interval(n, mean, tCritical(n - 1) * sd / Math.sqrt(n));
    }

    /** The 97.5% quantile of Student's t with {@code df} degrees of freedom (12.706 for 1). */
    public static double tCritical(int df) {
        return new TDistribution(null, df).inverseCumulativeProbability(0.975);
    }
}
