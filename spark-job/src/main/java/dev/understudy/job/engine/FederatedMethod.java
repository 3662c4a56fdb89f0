package dev.understudy.job.engine;

import dev.understudy.ops.federation.AdapterLayout;
import dev.understudy.ops.federation.FederatedStrategy;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * A federated fine-tuning method as the round engine sees it: what the clients train (the
 * <em>client model</em>, {@link #clientModel}, possibly built by the method and replaced during the
 * run, {@link #planRound}), what each client does ({@link #clientTask}: by default LoRA training;
 * its tensors' flattened values are the round's global state), how updates are aggregated
 * ({@link #strategy}), and the server-side steps around the engine's fixed loop (plan → sample →
 * broadcast → client tasks in {@code mapPartitions} → aggregate → server step → evaluate → commit):
 *
 * <ol>
 *   <li>{@link #beforeFederation}: once, before round 1 (build a proxy / sub-model / emulator from
 *       the large model and distil it). Products it needs later must be written under
 *       {@code method/} in the run directory, so a resumed run finds them ({@link MethodContext#resumed()}).
 *       Here {@link MethodContext#clientModel()} is the configured {@code model.base}.
 *   <li>{@link #clientModel}: right after {@code beforeFederation}, the client model of round 1
 *       (default: the configured model, version 0).
 *   <li>{@link #planRound}: before every round, a new client-model version or nothing. The version
 *       in force is committed with the round, so a resumed run does not ask again for rounds
 *       already committed; executors drop earlier versions from their model cache.
 *   <li>{@link #afterAggregation}: after each round's strategy step, on the aggregated global
 *       state, with the clients' summed statistics (distil the proxy-tuned large model back into
 *       the small one, re-align, freeze). What it returns is the next round's global state and is
 *       what gets committed.
 *   <li>{@link #evaluateServer}: extra server-side metrics on evaluation rounds (e.g. the
 *       proxy-tuned large model, through {@link MethodContext#evaluateOnClients}), reported next to
 *       the engine's client-model evaluation.
 *   <li>{@link #finish}: after the last round (plug-in fusion into the large model, proxy
 *       descriptors, merged exports).
 * </ol>
 *
 * <p>Anything a method carries from round to round must be in {@link #state()}, which the engine
 * commits with every round and hands back through {@link #restoreState} on resume, so a resumed run
 * is bit-identical to an uninterrupted one; {@link #planRound} must be a function of (round, state,
 * committed run files) for the same reason. Methods run on the driver and never see the clients'
 * datasets: executor work on client data goes through the client task or the engine's evaluation,
 * other server work through Spark via {@link MethodContext#spark()}.
 *
 * <p>FedAvg-LoRA is the trivial method ({@code method.FedAvgLora}: client model = server model, no server
 * steps). A new method implements the hooks it needs without touching the loop; see the README's
 * "Adding a method" and {@code MethodContract} (the test every method runs).
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

    /**
     * What the server holds for a committed round, as a value that {@code evaluate}, {@code generate}
     * and the engine's evaluation score without knowing the method (e.g. FedPT: the proxy-tuned
     * large model whose expert is the round's adapter plus its offset). Called with the round's
     * method state restored ({@link #restoreState}); default the client model with the global
     * adapter itself. {@code export} writes {@code client}'s adapter.
     *
     * @param client the client model in force at the round with the round's global adapter
     */
    default ServerModel serverModel(ServerModel.Adapted client) {
        return client;
    }

    /** Server-side preparation before round 1; see the class comment on resume. */
    default void beforeFederation(MethodContext ctx) throws IOException {}

    /**
     * The client model of round 1, asked once right after {@link #beforeFederation} (which may have
     * built it under {@code method/}); default the configured model {@link #clientModelUri()} as
     * version 0. It must share the configured model's tokenizer.
     */
    default ClientModel clientModel(MethodContext ctx) throws IOException {
        return ClientModel.configured(clientModelUri());
    }

    /**
     * Before round {@code round} (also the first): replace the client model, or empty to keep the
     * one in force ({@code ctx.clientModelVersion()}). A replacement's version must be higher than
     * the one in force; the engine loads it, derives the layout from it and commits it with the
     * round.
     *
     * @param global the global state the round would start from (in {@code ctx.layout()})
     */
    default Optional<ClientModelChange> planRound(MethodContext ctx, int round, float[] global) throws IOException {
        return Optional.empty();
    }

    /**
     * A new client model and the global state to continue from.
     *
     * @param global the global state in the new model's layout, or null to keep the current one
     *     (allowed only when the layout is unchanged, e.g. re-aligned neurons of the same widths)
     */
    record ClientModelChange(ClientModel model, float[] global) {}

    /**
     * The client settings for a client model in force (asked whenever one is put in force, on
     * resume too): default the configured settings on its URI. A method may narrow them, e.g.
     * Offsite-Tuning's LoRA on the emulator's adapter layers only ({@link TrainSettings#withLoraTargets}).
     *
     * @param loaded the client model, loaded on the driver
     */
    default TrainSettings clientSettings(ClientModel model, dev.understudy.ops.model.DecoderModel loaded,
            TrainSettings configured) {
        return configured.withModelUri(model.uri());
    }

    /** What each sampled client does in a round; default LoRA training ({@link LoraClientTask}). */
    default ClientTask clientTask() {
        return new LoraClientTask();
    }

    /**
     * The strategy that aggregates the client updates: the configured one ({@code server.strategy})
     * or one the method picks or wraps, built with the layout of the global state (which tensor is
     * a LoRA A or B, of which module and layer). Asked again when a client-model change changes the
     * layout (the new strategy starts fresh). A strategy that is not {@linkplain
     * FederatedStrategy#isLinear() linear} makes the engine collect every update on the driver,
     * within {@code server.collect_budget_mb}.
     */
    default FederatedStrategy strategy(FederatedStrategy configured, AdapterLayout layout) {
        return configured;
    }

    /**
     * Server step after round {@code round}'s aggregation.
     *
     * @param aggregated the strategy's new global client-model adapter (flattened in {@code ctx.layout()})
     * @return the global adapter to commit and broadcast next round (may be {@code aggregated} itself)
     */
    default float[] afterAggregation(MethodContext ctx, int round, float[] aggregated) throws IOException {
        return aggregated;
    }

    /**
     * As {@link #afterAggregation(MethodContext, int, float[])}, with the round's client statistics
     * summed over the successful clients ({@link ClientStatistics}; empty unless the client task
     * returns some). The engine calls this one; by default it ignores the statistics.
     */
    default float[] afterAggregation(MethodContext ctx, int round, float[] aggregated, ClientStatistics statistics)
            throws IOException {
        return afterAggregation(ctx, round, aggregated);
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
