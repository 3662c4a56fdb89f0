package dev.understudy.job.engine;

import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import java.io.IOException;
import java.io.Serializable;
import java.util.Map;

/**
 * What one client does in a round, chosen by the method ({@link FederatedMethod#clientTask}) and
 * shipped to the executors with the round's closure (so it must be small and serializable; the
 * models come from {@link ExecutorModelCache}). The default is {@link LoraClientTask}: LoRA
 * language-model training of the client model with the optional FedProx proximal term.
 *
 * <p>A task defines the <em>global state</em> the round trains: {@link #initialState} names and
 * shapes its tensors (a LoRA adapter, a classifier head, the full weights of selected layers), the
 * engine flattens them into the global vector, and {@link #train} returns the client's delta in
 * that layout plus optional named statistics ({@link ClientResult#statistics()}; summed by the
 * engine into {@link ClientStatistics}). A task must be deterministic in (settings seed, round,
 * client id, global vector), so retried tasks and resumed runs give identical updates.
 */
public interface ClientTask extends Serializable {
    /** Name for logs and the run manifest. */
    String name();

    /**
     * The initial global state for {@code clientModel}, in vector order (deterministic by
     * {@code settings.seed()}). The engine calls it on the driver for every client-model version in
     * force; the layout of these tensors is the round's layout.
     */
    Map<String, HostTensor> initialState(DecoderModel clientModel, TrainSettings settings);

    /**
     * Trains one client from the round's global vector; a diverged client throws
     * {@link dev.understudy.ops.util.TrainingDivergedException} (the engine reports it as a failed
     * client).
     */
    ClientResult train(Round round, ClientData data);

    /** Writes the final global state as the run's artifact directory ({@code adapter/}). */
    void writeFinal(ModelSink sink, DecoderModel clientModel, TrainSettings settings, float[] global,
            Map<String, long[]> layout) throws IOException;

    /**
     * One client's round as the executor sees it.
     *
     * @param round 1-based round
     * @param global the round's global vector (broadcast; never modify)
     * @param layout name → shape of the tensors in {@code global}
     * @param settings client training settings ({@code settings.modelUri()} is the client model in force)
     * @param model the client model, frozen and shared by the executor's tasks
     * @param attempt the Spark task attempt (0 on the first try)
     */
    record Round(int round, float[] global, Map<String, long[]> layout, TrainSettings settings, DecoderModel model,
            int attempt) {}
}
