package dev.understudy.ops.model;

import ai.djl.ndarray.NDArray;

/**
 * Observes intermediate tensors of one {@link DecoderModel} forward pass (model surgery,
 * representation distillation, activation statistics). Passing {@code null} instead of a tap costs
 * nothing: the model makes no call and keeps no extra tensor.
 *
 * <p>Lifetimes: {@link #embeddings} and {@link #blockOutput} receive tensors that live until the
 * caller's {@link ai.djl.ndarray.NDScope} (a training micro-batch) ends, so a tap may keep them for
 * the rest of the step. {@link #ffnActivation} is called inside the block's own scope: the tensor
 * is freed when the block returns, so a tap must reduce it there (e.g. count zeros) or copy what it
 * needs. Taps see tensors with their autograd graph; a loss built from them back-propagates.
 */
public interface ForwardTap {
    /** Whether {@link #ffnActivation} should be called for block {@code layer} (0-based). */
    default boolean wantsFfnActivation(int layer) {
        return false;
    }

    /** The block input of the first block: the embeddings, {@code [B, T, d]}. */
    default void embeddings(NDArray x) {}

    /**
     * The output of block {@code layer} (0-based, the residual stream before any final norm),
     * {@code [B, T, d]}.
     */
    default void blockOutput(int layer, NDArray x) {}

    /**
     * The FFN intermediate activation of block {@code layer}, {@code [B, T, N_layer]}: the
     * post-activation (GELU / ReLU) output of the up projection, or for SwiGLU the gated product
     * {@code silu(gate) * up} that feeds the down projection.
     */
    default void ffnActivation(int layer, NDArray a) {}

    /** The final-norm hidden states that feed the LM head, {@code [B, T, d]}. */
    default void finalHidden(NDArray x) {}
}
