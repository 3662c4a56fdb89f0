package dev.understudy.ops.train;

import ai.djl.ndarray.NDArray;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModuleAdapter;
import java.util.List;
import java.util.Map;

/**
 * What a {@link Trainer} updates: a LoRA adapter ({@link LoraTrainables}), named dense tensors of
 * the model ({@link DenseTrainables}: a classifier head, whole layers), or rows/columns of them
 * selected by a mask ({@link MaskedTrainables}: FedPFT's neuron-level alignment). All share one
 * optimiser path: the trainer back-propagates, calls {@link #beforeStep}, clips, steps AdamW on
 * {@link #parameters}, then calls {@link #afterStep}.
 */
public interface Trainables extends AutoCloseable {
    /** The tensors AdamW updates, in a fixed order. */
    List<NDArray> parameters();

    /** Turns gradient recording on these tensors on or off. */
    void setTrainable(boolean trainable);

    /** The adapter the forward pass must apply, or null (dense training changes the model itself). */
    default ModuleAdapter adapter() {
        return null;
    }

    /** Called after backward, before clipping and the optimiser step (e.g. to mask gradients). */
    default void beforeStep() {}

    /** Called after the optimiser step (e.g. to restore the frozen entries). */
    default void afterStep() {}

    /**
     * Host copies of what training may have changed, by tensor name (for dense and masked sets,
     * the model's on-disk tensor names; for LoRA, the adapter's {@code <module>.lora_A/B}).
     */
    Map<String, HostTensor> exportChanged();

    @Override
    default void close() {}
}
