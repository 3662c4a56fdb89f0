package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Order-statistic rules that need every update at once. Each client counts once, whatever its
 * {@code numExamples} (as in Flower), and the rule is applied to the deltas: since all clients start
 * from the same global {@code x}, {@code rule(x + Δ_k) = x + rule(Δ_k)} (Flower applies it to the
 * client models; the two differ only in float rounding).
 */
abstract class RobustStrategy extends AbstractStrategy {
    RobustStrategy(boolean acceptFailures) {
        super(acceptFailures, List.of());
    }

    @Override
    public final boolean isLinear() {
        return false;
    }

    @Override
    public final Optional<float[]> aggregate(
            int round, float[] global, List<ClientUpdate> updates, List<ClientFailure> failures) {
        checkUpdates(updates, failures);
        if (!roundUsable(round, global, updates.size(), failures.size())) {
            return Optional.empty();
        }
        List<float[]> deltas = new ArrayList<>(updates.size());
        for (ClientUpdate u : updates) {
            checkArgument(
                    u.delta().length == global.length,
                    "client %s sent an update of %s elements but the global vector has %s; the client trained a"
                            + " different adapter layout",
                    u.clientId(),
                    u.delta().length,
                    global.length);
            deltas.add(u.delta());
        }
        float[] combined = combine(deltas);
        float[] next = new float[global.length];
        for (int i = 0; i < next.length; i++) {
            next[i] = global[i] + combined[i];
        }
        return applied(next);
    }

    @Override
    public final Optional<float[]> applyMean(int round, float[] global, WeightedMean mean, int failures) {
        throw new UnsupportedOperationException(
                name() + " is not linear: it needs every client update, so call aggregate() with the collected"
                        + " updates instead of reducing them to a weighted mean");
    }

    abstract float[] combine(List<float[]> deltas);
}
