package dev.understudy.ops.train;

import ai.djl.ndarray.NDArray;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DropoutRng;
import dev.understudy.ops.model.ModuleAdapter;
import dev.understudy.ops.model.Ops;
import java.util.List;

/**
 * What a {@link Trainer} minimises, one micro-batch at a time. The default is the prompt-masked
 * causal-LM loss ({@link #causalLm}); distillation plugs in a loss against a teacher.
 */
@FunctionalInterface
public interface Objective {
    /**
     * The micro-batch's share of the step loss: its summed loss divided by {@code stepTokens}, the
     * loss-token count of the whole optimiser step (so gradient accumulation equals one large
     * batch). Called with autograd on, inside the micro-batch's {@link ai.djl.ndarray.NDScope};
     * arrays created here are freed when the micro-batch ends.
     *
     * @param model the model being trained (or carrying the adapter being trained)
     * @param adapter the adapter being trained, or null for full fine-tuning
     * @param examples the micro-batch's examples, in the order of the rows of {@code batch}
     * @param batch the collated micro-batch (right-padded)
     * @param dropout training dropout masks for this micro-batch
     * @param stepTokens loss tokens of the whole optimiser step
     * @return a scalar with its autograd graph
     */
    NDArray loss(DecoderModel model, ModuleAdapter adapter, List<Example> examples, TokenBatch batch,
            DropoutRng dropout, int stepTokens);

    /** Mean prompt-masked next-token cross-entropy ({@link Losses#causalLmNllSum}). */
    static Objective causalLm() {
        return (model, adapter, examples, batch, dropout, stepTokens) -> Ops.scoped(() -> Ops.div(
                Losses.causalLmNllSum(model.forward(batch.ids(), batch.mask(), null, null, adapter, dropout),
                        batch.labels()), stepTokens));
    }
}
