package dev.understudy.ops.model;

import ai.djl.ndarray.NDArray;

/**
 * A trainable add-on to the frozen linear layers of a {@link DecoderModel} (LoRA is the one
 * implementation). The model calls it for every linear module it evaluates.
 */
public interface ModuleAdapter {
    /**
     * Returns the additive output of the adapter for module {@code module} given its input {@code x}
     * ({@code [..., in]} → {@code [..., out]}), or {@code null} if the module is not adapted.
     *
     * @param dropout source of training dropout masks, or {@code null} in evaluation
     */
    NDArray delta(String module, NDArray x, DropoutRng dropout);
}
