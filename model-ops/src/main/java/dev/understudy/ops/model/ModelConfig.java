package dev.understudy.ops.model;

import static dev.understudy.ops.util.Preconditions.checkArgument;

/**
 * Architecture hyper-parameters of a decoder-only causal LM, as read from a Hugging Face {@code
 * config.json} (see {@link ModelConfigs#parse}). One record covers both supported families:
 *
 * <ul>
 *   <li>{@link Family#LLAMA}: LLaMA, Qwen2 and Mistral without a binding sliding window. RMSNorm,
 *       rotary position embeddings with {@code rope_theta}, SwiGLU MLP, grouped-query attention.
 *   <li>{@link Family#GPT2}: LayerNorm, learned absolute positions, GELU MLP, fused {@code c_attn}
 *       projection stored in the Conv1D ({@code [in, out]}) layout.
 * </ul>
 *
 * @param family architecture family
 * @param modelType the {@code model_type} string written back to config.json ("llama", "qwen2",
 *     "mistral", "gpt2")
 * @param vocabSize rows of the embedding matrix
 * @param hiddenSize model width d
 * @param numLayers decoder blocks
 * @param numHeads query heads H
 * @param numKvHeads key/value heads (H for multi-head attention, fewer for GQA; must divide H)
 * @param headDim per-head width (hidden/heads unless config.json says otherwise)
 * @param intermediateSize MLP inner width
 * @param maxPositions longest sequence the position tables cover
 * @param normEps epsilon of RMSNorm / LayerNorm
 * @param ropeTheta RoPE base (LLaMA family only)
 * @param activation MLP activation
 * @param tieWordEmbeddings whether the LM head reuses the token embedding matrix
 * @param qkvBias whether q/k/v projections have a bias (Qwen2, LLaMA attention_bias)
 * @param outputBias whether the attention output projection has a bias (LLaMA attention_bias)
 * @param mlpBias whether the MLP projections have biases (LLaMA mlp_bias)
 * @param slidingWindow Mistral/Qwen2 sliding window, or 0 when none; sequences longer than it are
 *     rejected at forward time because windowed attention is not implemented
 * @param embdDropout dropout on the embedding output during training (GPT-2 embd_pdrop)
 * @param residDropout dropout on each residual branch during training (GPT-2 resid_pdrop)
 * @param attnDropout dropout on attention probabilities during training
 * @param bosTokenId beginning-of-sequence id or -1
 * @param eosTokenId end-of-sequence id or -1
 * @param padTokenId padding id or -1
 * @param layerIntermediateSizes per-layer MLP widths of a derived (pruned) model whose widths differ
 *     by layer, or an empty list when every layer has {@code intermediateSize}; when non-empty it
 *     has one entry per layer and {@code intermediateSize} is their maximum (see {@link
 *     #intermediateSize(int)})
 */
public record ModelConfig(
        Family family,
        String modelType,
        int vocabSize,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int intermediateSize,
        int maxPositions,
        double normEps,
        double ropeTheta,
        Activation activation,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean outputBias,
        boolean mlpBias,
        int slidingWindow,
        double embdDropout,
        double residDropout,
        double attnDropout,
        int bosTokenId,
        int eosTokenId,
        int padTokenId,
        java.util.List<Integer> layerIntermediateSizes) {

    /** Supported architecture families. */
    public enum Family {
        LLAMA,
        GPT2
    }

    /** MLP activations. {@code GELU_TANH} is GPT-2's "gelu_new" approximation. */
    public enum Activation {
        SILU,
        GELU,
        GELU_TANH,
        RELU
    }

    public ModelConfig {
        checkArgument(family != null, "Cannot create a model config without a family");
        checkArgument(vocabSize > 0, "Cannot set vocab_size to %s, the value must be positive", vocabSize);
        checkArgument(hiddenSize > 0, "Cannot set hidden_size to %s, the value must be positive", hiddenSize);
        checkArgument(numLayers > 0, "Cannot set num_hidden_layers to %s, the value must be positive", numLayers);
        checkArgument(numHeads > 0, "Cannot set num_attention_heads to %s, the value must be positive", numHeads);
        checkArgument(
                numKvHeads > 0 && numHeads % numKvHeads == 0,
                "Cannot set num_key_value_heads to %s: it must be positive and divide num_attention_heads=%s",
                numKvHeads,
                numHeads);
        checkArgument(headDim > 0 && headDim % 2 == 0, "Cannot set head_dim to %s, the value must be positive and even", headDim);
        checkArgument(
                family != Family.GPT2 || headDim * numHeads == hiddenSize,
                "GPT-2 needs n_embd=%s divisible by n_head=%s",
                hiddenSize,
                numHeads);
        checkArgument(intermediateSize > 0, "Cannot set intermediate_size to %s, the value must be positive", intermediateSize);
        checkArgument(maxPositions > 0, "Cannot set max_position_embeddings to %s, the value must be positive", maxPositions);
        checkArgument(normEps > 0, "Cannot set the norm epsilon to %s, the value must be positive", normEps);
        checkArgument(family != Family.LLAMA || ropeTheta > 0, "Cannot set rope_theta to %s, the value must be positive", ropeTheta);
        checkArgument(slidingWindow >= 0, "Cannot set sliding_window to %s", slidingWindow);
        checkArgument(embdDropout >= 0 && embdDropout < 1, "Cannot set embd_pdrop to %s, must be in [0, 1)", embdDropout);
        checkArgument(residDropout >= 0 && residDropout < 1, "Cannot set resid_pdrop to %s, must be in [0, 1)", residDropout);
        checkArgument(attnDropout >= 0 && attnDropout < 1, "Cannot set attention dropout to %s, must be in [0, 1)", attnDropout);
        checkArgument(activation != null, "Cannot create a model config without an activation");
        layerIntermediateSizes = layerIntermediateSizes == null ? java.util.List.of() : java.util.List.copyOf(layerIntermediateSizes);
        checkArgument(layerIntermediateSizes.isEmpty() || layerIntermediateSizes.size() == numLayers,
                "Cannot set intermediate_sizes with %s entries for num_hidden_layers=%s", layerIntermediateSizes.size(),
                numLayers);
        for (int w : layerIntermediateSizes) {
            checkArgument(w > 0 && w <= intermediateSize,
                    "Cannot set an intermediate_sizes entry to %s: entries must be in [1, intermediate_size=%s]", w,
                    intermediateSize);
        }
    }

    /** MLP width of block {@code layer} (the uniform {@code intermediateSize} unless widths differ per layer). */
    public int intermediateSize(int layer) {
        checkArgument(layer >= 0 && layer < numLayers, "layer %s out of range [0, %s)", layer, numLayers);
        return layerIntermediateSizes.isEmpty() ? intermediateSize : layerIntermediateSizes.get(layer);
    }

    /** Whether every block has the same MLP width (the only case Hugging Face configs can express). */
    public boolean uniformIntermediateSize() {
        return layerIntermediateSizes.isEmpty();
    }

    /**
     * Returns a copy with per-layer MLP widths (one per layer; collapsed to the uniform form when
     * they are all equal).
     */
    public ModelConfig withIntermediateSizes(java.util.List<Integer> widths) {
        checkArgument(widths.size() == numLayers, "%s MLP widths for %s layers", widths.size(), numLayers);
        int max = java.util.Collections.max(widths);
        boolean uniform = widths.stream().allMatch(w -> w == max);
        return new ModelConfig(
                family, modelType, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, max,
                maxPositions, normEps, ropeTheta, activation, tieWordEmbeddings, qkvBias, outputBias, mlpBias,
                slidingWindow, embdDropout, residDropout, attnDropout, bosTokenId, eosTokenId, padTokenId,
                uniform ? java.util.List.of() : widths);
    }

    /**
     * Returns a copy with {@code widths.size()} layers of the given MLP widths (layer dropping; the
     * widths are those of the kept layers, in order).
     */
    public ModelConfig withLayers(java.util.List<Integer> widths) {
        checkArgument(!widths.isEmpty(), "a model needs at least one layer");
        ModelConfig c = new ModelConfig(
                family, modelType, vocabSize, hiddenSize, widths.size(), numHeads, numKvHeads, headDim,
                intermediateSize, maxPositions, normEps, ropeTheta, activation, tieWordEmbeddings, qkvBias, outputBias,
                mlpBias, slidingWindow, embdDropout, residDropout, attnDropout, bosTokenId, eosTokenId, padTokenId,
                java.util.List.of());
        return c.withIntermediateSizes(widths);
    }

    /** Query heads per key/value head (1 for plain multi-head attention). */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /** A LLaMA-architecture config with the common defaults (no biases, untied head, SiLU). */
    public static ModelConfig llama(
            int vocabSize, int hidden, int layers, int heads, int kvHeads, int intermediate, int maxPositions) {
        return new ModelConfig(
                Family.LLAMA, "llama", vocabSize, hidden, layers, heads, kvHeads, hidden / heads, intermediate,
                maxPositions, 1e-5, 10000.0, Activation.SILU, false, false, false, false, 0, 0, 0, 0, -1, -1, -1, java.util.List.of());
    }

    /** A GPT-2 config (tied head, gelu_new, 4x MLP, no dropout). */
    public static ModelConfig gpt2(int vocabSize, int hidden, int layers, int heads, int maxPositions) {
        return new ModelConfig(
                Family.GPT2, "gpt2", vocabSize, hidden, layers, heads, heads, hidden / heads, 4 * hidden, maxPositions,
                1e-5, 0, Activation.GELU_TANH, true, true, true, true, 0, 0, 0, 0, -1, -1, -1, java.util.List.of());
    }

    /** Returns a copy with the given special token ids. */
    public ModelConfig withSpecialTokens(int bos, int eos, int pad) {
        return new ModelConfig(
                family, modelType, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                maxPositions, normEps, ropeTheta, activation, tieWordEmbeddings, qkvBias, outputBias, mlpBias,
                slidingWindow, embdDropout, residDropout, attnDropout, bos, eos, pad, layerIntermediateSizes);
    }

    /** Returns a copy with tied or untied embeddings. */
    public ModelConfig withTiedEmbeddings(boolean tied) {
        return new ModelConfig(
                family, modelType, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                maxPositions, normEps, ropeTheta, activation, tied, qkvBias, outputBias, mlpBias, slidingWindow,
                embdDropout, residDropout, attnDropout, bosTokenId, eosTokenId, padTokenId, layerIntermediateSizes);
    }

    /** Returns a copy with the given training-time dropout rates. */
    public ModelConfig withDropout(double embd, double resid, double attn) {
        return new ModelConfig(
                family, modelType, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                maxPositions, normEps, ropeTheta, activation, tieWordEmbeddings, qkvBias, outputBias, mlpBias,
                slidingWindow, embd, resid, attn, bosTokenId, eosTokenId, padTokenId, layerIntermediateSizes);
    }

    /** Returns a copy with q/k/v biases (Qwen2 style) and the given model_type. */
    public ModelConfig withQkvBias(boolean bias, String type) {
        return new ModelConfig(
                family, type, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                maxPositions, normEps, ropeTheta, activation, tieWordEmbeddings, bias, outputBias, mlpBias,
                slidingWindow, embdDropout, residDropout, attnDropout, bosTokenId, eosTokenId, padTokenId, layerIntermediateSizes);
    }

    /** Returns a copy with another RoPE base. */
    public ModelConfig withRopeTheta(double theta) {
        return new ModelConfig(
                family, modelType, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                maxPositions, normEps, theta, activation, tieWordEmbeddings, qkvBias, outputBias, mlpBias,
                slidingWindow, embdDropout, residDropout, attnDropout, bosTokenId, eosTokenId, padTokenId, layerIntermediateSizes);
    }
}
