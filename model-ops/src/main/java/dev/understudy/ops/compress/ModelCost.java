package dev.understudy.ops.compress;

import dev.understudy.ops.model.ModelConfig;

/**
 * Forward cost of a decoder per token, for comparing a derived model with its parent. Counts
 * multiply-adds as 2 FLOPs (the usual {@code 2N} rule of Kaplan et al. 2020, arXiv 2001.08361):
 *
 * <pre>
 *   FLOPs/token = 2 · (Σ_layers [attention projections + FFN matrices] + LM head)
 *               + Σ_layers 4 · ctx · (heads · head_dim)         # QKᵀ and AV
 * </pre>
 *
 * with the FFN at its per-layer width ({@code 3·d·N} for SwiGLU, {@code 2·d·N} for GELU), the LM
 * head {@code d·V}, and {@code ctx} the mean causal context of a block of {@code seqLen} tokens,
 * {@code (seqLen + 1) / 2}. Norms, biases, activations, softmax and the embedding lookup are
 * ignored (they are linear in {@code d}, not in the weights).
 */
public final class ModelCost {
    private ModelCost() {}

    /** Weights used by matrix products per token (attention, FFN, LM head; not the embedding lookup). */
    public static long matmulWeights(ModelConfig c) {
        long d = c.hiddenSize();
        long q = (long) c.numHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        long total = 0;
        for (int l = 0; l < c.numLayers(); l++) {
            long n = c.intermediateSize(l);
            boolean swiglu = c.family() == ModelConfig.Family.LLAMA;
            total += d * q + 2 * d * kv + q * d; // q, k, v, o
            total += (swiglu ? 3 : 2) * d * n;
        }
        return total + d * c.vocabSize();
    }

    /** Forward FLOPs per token at block length {@code seqLen} (formula above). */
    public static double flopsPerToken(ModelConfig c, int seqLen) {
        double ctx = (seqLen + 1) / 2.0;
        double attention = 4.0 * ctx * c.numHeads() * c.headDim() * c.numLayers();
        return 2.0 * matmulWeights(c) + attention;
    }
}
