package dev.understudy.ops.pretrain;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import dev.understudy.ops.model.ModelConfig;
import java.util.regex.Pattern;

/**
 * One member of a model family: a LLaMA-architecture decoder (RMSNorm, RoPE, SwiGLU, grouped-query
 * attention, no biases) of the given shape.
 *
 * @param name member name, also its directory name ({@code [a-z0-9][a-z0-9_-]*})
 * @param hiddenSize model width d
 * @param numLayers decoder blocks
 * @param numHeads query heads (must divide hiddenSize into an even head width)
 * @param numKvHeads key/value heads (must divide numHeads)
 * @param intermediateSize SwiGLU inner width
 * @param tieWordEmbeddings whether the LM head reuses the embedding matrix
 * @param seqLen block length for this member, or 0 to use the family's {@link PretrainSettings#seqLen()}
 * @param lr peak learning rate for this member, or 0 to use the family's {@link PretrainSettings#lr()}
 * @param embeddingLr peak learning rate of the token embedding (and tied head), or 0 for {@code lr}. Wider
 *     members need a lower rate for their hidden weights, while the embedding, which learns the token
 *     statistics that dominate the early loss, does not (as in muP, Yang et al. 2022, arXiv:2203.03466);
 *     a separate rate lets it keep the pace of the smaller members
 */
public record MemberSpec(
        String name,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int intermediateSize,
        boolean tieWordEmbeddings,
        int seqLen,
        double lr,
        double embeddingLr) {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]*");

    public MemberSpec {
        checkArgument(name != null && NAME.matcher(name).matches(), "Cannot name a family member '%s': use lower-case"
                + " letters, digits, '_' and '-', starting with a letter or digit (it becomes a directory name)", name);
        String p = "members." + name + ".";
        checkArgument(hiddenSize > 0, "Cannot set %shidden_size to %s, the value must be positive", p, hiddenSize);
        checkArgument(numLayers > 0, "Cannot set %snum_layers to %s, the value must be positive", p, numLayers);
        checkArgument(numHeads > 0 && hiddenSize % numHeads == 0 && (hiddenSize / numHeads) % 2 == 0,
                "Cannot set %snum_heads to %s: it must divide hidden_size=%s into an even head width", p, numHeads,
                hiddenSize);
        checkArgument(numKvHeads > 0 && numHeads % numKvHeads == 0,
                "Cannot set %snum_kv_heads to %s: it must be positive and divide num_heads=%s", p, numKvHeads, numHeads);
        checkArgument(intermediateSize > 0, "Cannot set %sintermediate_size to %s, the value must be positive", p,
                intermediateSize);
        checkArgument(seqLen == 0 || seqLen >= 2, "Cannot set %sseq_len to %s: use 0 (the family's training.seq_len)"
                + " or a length ≥ 2", p, seqLen);
        checkArgument(lr >= 0 && Double.isFinite(lr), "Cannot set %slr to %s: use 0 (the family's training.lr) or a"
                + " positive rate", p, lr);
        checkArgument(embeddingLr >= 0 && Double.isFinite(embeddingLr), "Cannot set %sembedding_lr to %s: use 0 (the"
                + " member's lr) or a positive rate", p, embeddingLr);
    }

    /** A member with the family's sequence length and learning rate and tied embeddings. */
    public static MemberSpec of(String name, int hidden, int layers, int heads, int kvHeads, int intermediate) {
        return new MemberSpec(name, hidden, layers, heads, kvHeads, intermediate, true, 0, 0, 0);
    }

    /** The block length this member trains on. */
    public int seqLen(PretrainSettings s) {
        return seqLen > 0 ? seqLen : s.seqLen();
    }

    /** The peak learning rate of this member. */
    public double lr(PretrainSettings s) {
        return lr > 0 ? lr : s.lr();
    }

    /** The peak learning rate of the token embedding (and tied head) of this member. */
    public double embeddingLr(PretrainSettings s) {
        return embeddingLr > 0 ? embeddingLr : lr(s);
    }

    /** The Hugging Face config of this member (special ids are filled in from the tokenizer later). */
    public ModelConfig modelConfig(int vocabSize, PretrainSettings s) {
        return ModelConfig.llama(vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, intermediateSize, seqLen(s))
                .withTiedEmbeddings(tieWordEmbeddings);
    }

    /** Scalar parameters of the model (tied head counted once). */
    public long parameterCount(int vocabSize) {
        return embeddingParameters(vocabSize) + nonEmbeddingParameters();
    }

    /** Parameters in the token embedding and (when untied) the LM head. */
    public long embeddingParameters(int vocabSize) {
        return (long) vocabSize * hiddenSize * (tieWordEmbeddings ? 1 : 2);
    }

    /** Parameters of the decoder blocks and the final norm. */
    public long nonEmbeddingParameters() {
        long d = hiddenSize;
        long headDim = d / numHeads;
        long kv = headDim * numKvHeads;
        long attention = d * d + 2 * d * kv + d * d; // q, k, v, o
        long mlp = 3 * d * intermediateSize; // gate, up, down
        long norms = 2 * d;
        return numLayers * (attention + mlp + norms) + d;
    }
}
