package dev.understudy.ops.federation;

import java.util.List;

/**
 * Coordinate-wise median of the client deltas ({@link Aggregations#coordinateMedian}); robust to a
 * minority of arbitrary (Byzantine) updates. Yin et al. 2018, "Byzantine-Robust Distributed
 * Learning: Towards Optimal Statistical Rates", arxiv.org/abs/1803.01498. Unweighted, not linear.
 *
 * <p>YAML keys: {@code server.accept_failures} (default true).
 */
public final class FedMedian extends RobustStrategy {
    public FedMedian() {
        this(true);
    }

    public FedMedian(boolean acceptFailures) {
        super(acceptFailures);
    }

    @Override
    public String name() {
        return "fedmedian";
    }

    @Override
    float[] combine(List<float[]> deltas) {
        return Aggregations.coordinateMedian(deltas);
    }
}
