package dev.understudy.ops.federation;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How the server turns one round's client updates into the next global parameter vector; one class
 * per algorithm, named as in Flower and the papers ({@link FedAvg}, {@link FedAdam}, ...), created
 * from configuration by {@link Strategies#create}.
 *
 * <p>Vectors are flattened {@code float[]} in a fixed {@link ParameterLayout}. The strategy never
 * modifies the arrays it is given and always returns a fresh array. Instances hold server-optimiser
 * state (momentum, moments) and are not thread-safe: call them from the driver only.
 *
 * <p><b>Linear strategies</b> ({@link #isLinear()}) only need the example-weighted mean of the client
 * deltas, so the job can reduce updates on the executors with a mergeable {@link WeightedMean}
 * and hand the result to {@link #applyMean}; {@link #aggregate} is implemented through the same
 * path, so both give the same bits. Non-linear strategies ({@link FedMedian}, {@link
 * FedTrimmedAvg}) need every update and support {@link #aggregate} only.
 *
 * <pre>{@code
 * FederatedStrategy strategy = Strategies.create("fedadam", Map.of("eta", 0.01));
 * float[] global = initialAdapter;
 * for (int round = 1; round <= rounds; round++) {
 *     if (strategy.isLinear()) {
 *         // executors: seqOp = WeightedMean::add, combOp = WeightedMean::merge
 *         WeightedMean mean = updatesRdd.treeAggregate(
 *                 WeightedMean.empty(global.length), WeightedMean::add, WeightedMean::merge);
 *         global = strategy.applyMean(round, global, mean, failures.size()).orElse(global);
 *     } else {
 *         global = strategy.aggregate(round, global, updatesRdd.collect(), failures).orElse(global);
 *     }
 *     // checkpoint: global, strategy.state(), strategy.roundsApplied()
 * }
 * // resume: Strategies.create(...) then strategy.restoreState(savedState, savedRoundsApplied)
 * }</pre>
 */
public interface FederatedStrategy {
    /** The strategy's configuration name, e.g. {@code fedadam}. */
    String name();

    /**
     * Whether the strategy depends on the updates only through their example-weighted mean delta,
     * so that {@link #applyMean} is available and updates can be reduced in a stream.
     */
    boolean isLinear();

    /**
     * Computes the next global vector.
     *
     * @param round the 1-based round number
     * @param global the current global vector; not modified
     * @param updates the updates that arrived this round, each {@code delta} as long as {@code global}
     * @param failures the clients that were asked to train and returned nothing
     * @return the new global vector, or empty to keep {@code global} (no usable update arrived, or
     *     failures occurred and the strategy does not accept them); when empty, the server state is
     *     unchanged
     */
    Optional<float[]> aggregate(int round, float[] global, List<ClientUpdate> updates, List<ClientFailure> failures);

    /**
     * For linear strategies: the result {@link #aggregate} would give for the updates reduced into
     * {@code mean}, bit for bit.
     *
     * @param failures number of clients that failed this round
     * @throws UnsupportedOperationException if the strategy is not {@linkplain #isLinear() linear}
     */
    Optional<float[]> applyMean(int round, float[] global, WeightedMean mean, int failures);

    /**
     * Copies of the server-optimiser state vectors by name (e.g. {@code m}, {@code v}), for a
     * checkpoint; empty for stateless strategies and before the first applied round.
     */
    Map<String, float[]> state();

    /** Number of rounds that produced a new global vector since the strategy was created or restored. */
    long roundsApplied();

    /**
     * Replaces the server state with a checkpoint taken by {@link #state()} and {@link #roundsApplied()}
     * from an instance with the same parameters, so the next round gives bit-identical results to an
     * uninterrupted run. The arrays are copied.
     *
     * @throws IllegalArgumentException if the entries do not match what this strategy keeps
     */
    void restoreState(Map<String, float[]> state, long roundsApplied);

    /**
     * The FedProx proximal coefficient μ that client trainers add as {@code μ/2·||w − w_global||²} to
     * their loss; 0 for every strategy except {@link FedProx}.
     */
    default double proximalMu() {
        return 0.0;
    }
}
