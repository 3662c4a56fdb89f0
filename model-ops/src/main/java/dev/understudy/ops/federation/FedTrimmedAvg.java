package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import java.util.List;

/**
 * Coordinate-wise β-trimmed mean of the client deltas ({@link Aggregations#trimmedMean}). Yin et al.
 * 2018, "Byzantine-Robust Distributed Learning: Towards Optimal Statistical Rates",
 * arxiv.org/abs/1803.01498. Unweighted, not linear.
 *
 * <p>YAML keys: {@code server.beta} (fraction cut from each end, in [0, 0.5), default 0.2 as in
 * Flower), {@code server.accept_failures} (default true).
 */
public final class FedTrimmedAvg extends RobustStrategy {
    private final double beta;

    public FedTrimmedAvg() {
        this(0.2, true);
    }

    public FedTrimmedAvg(double beta) {
        this(beta, true);
    }

    public FedTrimmedAvg(double beta, boolean acceptFailures) {
        super(acceptFailures);
        checkArgument(beta >= 0 && beta < 0.5, "Cannot set server.beta to %s: the value must be in [0, 0.5)", beta);
        this.beta = beta;
    }

    @Override
    public String name() {
        return "fedtrimmedavg";
    }

    public double beta() {
        return beta;
    }

    @Override
    float[] combine(List<float[]> deltas) {
        return Aggregations.trimmedMean(deltas, beta);
    }
}
