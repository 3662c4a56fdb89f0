package dev.understudy.job.engine;

import java.io.IOException;
import java.util.Map;

/**
 * A federated fine-tuning method as the round engine sees it: what the clients train (the
 * <em>client model</em>: a base model plus a LoRA adapter whose flattened tensors are the round's
 * global state), what the server evaluates and exports (the <em>server model</em>), and the
 * server-side steps around the engine's fixed loop (sample → broadcast → local LoRA in
 * {@code mapPartitions} → aggregate with the strategy → commit):
 *
 * <ol>
 *   <li>{@link #beforeFederation}: once, before round 1 (build a proxy / sub-model / emulator from
 *       the large model and distil it). Products it needs later must be written under
 *       {@code method/} in the run directory, so a resumed run finds them ({@link MethodContext#resumed()}).
 *   <li>{@link #afterAggregation}: after each round's strategy step, on the aggregated client-model
 *       adapter (distil the proxy-tuned large model back into the small one, re-align, freeze).
 *       What it returns is the next round's global state and is what gets committed.
 *   <li>{@link #evaluateServer}: extra server-side metrics on evaluation rounds (e.g. the
 *       proxy-tuned large model), reported next to the engine's client-model evaluation.
 *   <li>{@link #finish}: after the last round (plug-in fusion into the large model, proxy
 *       descriptors, merged exports).
 * </ol>
 *
 * <p>Anything a method carries from round to round must be in {@link #state()}, which the engine
 * commits with every round and hands back through {@link #restoreState} on resume, so a resumed run
 * is bit-identical to an uninterrupted one. Methods run on the driver; executor work goes through
 * Spark via {@link MethodContext#spark()}.
 *
 * <p>FedAvg-LoRA is the trivial method ({@code method.FedAvgLora}: client model = server model, no server
 * steps). FedPT, FedPFT, FedProxy and Offsite-Tuning implement the hooks without touching the loop.
 */
public interface FederatedMethod extends AutoCloseable {
    /** Name used in config ({@code method}) and in the run manifest. */
    String name();

    /** URI of the base model the clients LoRA-tune (loaded once per executor JVM). */
    String clientModelUri();

    /** URI of the model the server evaluates and exports; the client model unless the method says otherwise. */
    default String serverModelUri() {
        return clientModelUri();
    }

    /** Server-side preparation before round 1; see the class comment on resume. */
    default void beforeFederation(MethodContext ctx) throws IOException {}

    /**
     * Server step after round {@code round}'s aggregation.
     *
     * @param aggregated the strategy's new global client-model adapter (flattened in {@code ctx.layout()})
     * @return the global adapter to commit and broadcast next round (may be {@code aggregated} itself)
     */
    default float[] afterAggregation(MethodContext ctx, int round, float[] aggregated) throws IOException {
        return aggregated;
    }

    /** Extra metrics of the server model on evaluation rounds, by name (e.g. {@code proxy_eval_loss}). */
    default Map<String, Double> evaluateServer(MethodContext ctx, int round, float[] global) throws IOException {
        return Map.of();
    }

    /** Metrics of the last {@link #afterAggregation} (e.g. the distillation KL), reported with the round. */
    default Map<String, Double> roundMetrics() {
        return Map.of();
    }

    /** Releases what the method holds (e.g. the large model on the driver). */
    @Override
    default void close() {}

    /** Round-to-round state committed with every round (name → flat float tensor). */
    default Map<String, float[]> state() {
        return Map.of();
    }

    /** Restores {@link #state()} of the last committed round on resume. */
    default void restoreState(Map<String, float[]> state) {}

    /** After the last round, with the final global adapter: write method artifacts to the run directory. */
    default void finish(MethodContext ctx, float[] global) throws IOException {}
}
