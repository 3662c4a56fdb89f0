package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import java.util.List;
import java.util.Optional;

/**
 * Strategies whose update depends on the clients only through the example-weighted mean delta.
 * {@link #aggregate} reduces into a {@link WeightedMean} and calls {@link #applyMean}, so the
 * driver-side and the streamed (treeAggregate) paths share one implementation.
 */
abstract class LinearStrategy extends AbstractStrategy {
    LinearStrategy(boolean acceptFailures, List<String> stateKeys) {
        super(acceptFailures, stateKeys);
    }

    @Override
    public final boolean isLinear() {
        return true;
    }

    @Override
    public final Optional<float[]> aggregate(
            int round, float[] global, List<ClientUpdate> updates, List<ClientFailure> failures) {
        checkNotNull(global, "global");
        checkUpdates(updates, failures);
        WeightedMean mean = WeightedMean.empty(global.length);
        for (ClientUpdate update : updates) {
            mean.add(update);
        }
        return applyMean(round, global, mean, failures.size());
    }

    @Override
    public final Optional<float[]> applyMean(int round, float[] global, WeightedMean mean, int failures) {
        checkNotNull(mean, "mean");
        if (!roundUsable(round, global, mean.count(), failures)) {
            return Optional.empty();
        }
        checkArgument(
                mean.size() == global.length,
                "The weighted mean has %s elements but the global vector has %s",
                mean.size(),
                global.length);
        if (mean.totalWeight() == 0) {
            return Optional.empty(); // every client trained on 0 examples: nothing to average
        }
        return applied(step(global, mean.mean()));
    }

    /**
     * One server step from the weighted-mean delta (the negated pseudo-gradient); updates the
     * state and returns a new vector.
     *
     * @param global (n) current global vector, not modified
     * @param meanDelta (n) example-weighted mean of the client deltas
     */
    abstract float[] step(float[] global, float[] meanDelta);
}
