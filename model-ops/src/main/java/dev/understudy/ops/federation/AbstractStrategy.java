package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;
import static dev.understudy.ops.util.Preconditions.checkState;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Shared plumbing: the Flower failure policy, argument checks, and named state vectors that are
 * created lazily on the first applied round (their length is the global vector's).
 */
abstract class AbstractStrategy implements FederatedStrategy {
    private final boolean acceptFailures;
    private final List<String> stateKeys;
    private final Map<String, float[]> state = new LinkedHashMap<>();
    private long roundsApplied;

    AbstractStrategy(boolean acceptFailures, List<String> stateKeys) {
        this.acceptFailures = acceptFailures;
        this.stateKeys = List.copyOf(stateKeys);
    }

    /** Whether a round with failures still produces a new global vector (Flower's {@code accept_failures}). */
    public final boolean acceptFailures() {
        return acceptFailures;
    }

    /** Checks the arguments every round shares; returns false when the round must keep the global. */
    final boolean roundUsable(int round, float[] global, int updates, int failures) {
        checkArgument(round >= 1, "Round numbers start at 1, got %s", round);
        checkNotNull(global, "global");
        checkArgument(failures >= 0, "The failure count must be non-negative, got %s", failures);
        // Flower: no results, or failures that are not accepted -> keep the previous global model.
        return updates > 0 && (failures == 0 || acceptFailures);
    }

    static void checkUpdates(List<ClientUpdate> updates, List<ClientFailure> failures) {
        checkNotNull(updates, "updates");
        checkNotNull(failures, "failures");
    }

    /** Records a produced global vector. */
    final Optional<float[]> applied(float[] next) {
        roundsApplied++;
        return Optional.of(next);
    }

    /** The state vector {@code key}, created filled with {@code initial} on first use. */
    final float[] stateVector(String key, int size, float initial) {
        checkState(stateKeys.contains(key), "%s keeps no state called %s", name(), key);
        float[] v = state.get(key);
        if (v == null) {
            v = new float[size];
            Arrays.fill(v, initial);
            state.put(key, v);
        }
        checkArgument(
                v.length == size,
                "The %s state '%s' has %s elements but the global vector has %s; the state was restored from a"
                        + " checkpoint of a different adapter layout",
                name(),
                key,
                v.length,
                size);
        return v;
    }

    @Override
    public final Map<String, float[]> state() {
        Map<String, float[]> copy = new LinkedHashMap<>();
        state.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    @Override
    public final long roundsApplied() {
        return roundsApplied;
    }

    @Override
    public final void restoreState(Map<String, float[]> saved, long savedRoundsApplied) {
        checkNotNull(saved, "state");
        checkArgument(savedRoundsApplied >= 0, "roundsApplied must be non-negative, got %s", savedRoundsApplied);
        if (stateKeys.isEmpty()) {
            checkArgument(saved.isEmpty(), "%s keeps no server state, but the checkpoint has %s", name(), saved.keySet());
        } else {
            // The state exists exactly when at least one round was applied.
            checkArgument(
                    saved.isEmpty() == (savedRoundsApplied == 0),
                    "The %s checkpoint has state entries %s after %s applied rounds; expected %s after one or more"
                            + " rounds and none before the first",
                    name(),
                    saved.keySet(),
                    savedRoundsApplied,
                    stateKeys);
            checkArgument(
                    saved.isEmpty() || saved.keySet().equals(Set.copyOf(stateKeys)),
                    "The %s checkpoint has state entries %s; expected %s",
                    name(),
                    saved.keySet(),
                    stateKeys);
        }
        int size = -1;
        for (Map.Entry<String, float[]> e : saved.entrySet()) {
            float[] v = checkNotNull(e.getValue(), "state entry " + e.getKey());
            checkArgument(
                    size < 0 || v.length == size,
                    "The %s checkpoint's state entries have different lengths (%s: %s, others: %s)",
                    name(),
                    e.getKey(),
                    v.length,
                    size);
            size = v.length;
            for (int i = 0; i < v.length; i++) {
                checkArgument(
                        Float.isFinite(v[i]),
                        "The %s checkpoint's state '%s' is non-finite at index %s (%s)",
                        name(),
                        e.getKey(),
                        i,
                        v[i]);
            }
        }
        state.clear();
        for (String key : stateKeys) {
            if (saved.containsKey(key)) {
                state.put(key, saved.get(key).clone());
            }
        }
        roundsApplied = savedRoundsApplied;
    }

    @Override
    public String toString() {
        return name();
    }
}
