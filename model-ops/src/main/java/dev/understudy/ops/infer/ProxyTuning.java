package dev.understudy.ops.infer;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.model.Ops;

/**
 * Proxy-tuning logit arithmetic (Liu et al. 2024, "Tuning Language Models by Proxy", arXiv
 * 2401.08565; the up-scaling case of Mitchell et al.'s emulated fine-tuning, arXiv 2310.12962):
 *
 * <pre>
 *   z̃ = z_large + α · (z_expert − z_anti)
 * </pre>
 *
 * where {@code z_large} are the next-token logits of the large base model, {@code z_expert} those
 * of the small tuned model and {@code z_anti} those of the small model it was tuned from (the
 * anti-expert). Temperature and top-p are applied to {@code z̃}, after the arithmetic, as in the
 * reference code ({@code alisawuffles/proxy-tuning}, {@code modeling/dexperts.py}). Raw logits are
 * combined, as there: log-probabilities would differ from them by one constant per model and
 * position, which the final softmax removes, so the resulting distribution is the same either way.
 *
 * <p>Vocabulary rule (also as in the reference code): the expert and anti-expert may have more
 * token ids than the large model (ids appended at the end, e.g. CodeLlama's 32016 against
 * Llama-2's 32000); their logits are truncated to the large model's first {@code V} ids. A smaller
 * expert or anti-expert vocabulary cannot be aligned and is an error.
 *
 * <p>Both versions compute in float32 in the same order, {@code ((z_expert − z_anti) · α) +
 * z_large}, so they agree bit for bit; {@code α = 0} and {@code z_expert = z_anti} give {@code
 * z_large} exactly.
 */
public final class ProxyTuning {
    private ProxyTuning() {}

    /**
     * Checks the vocabulary rule and returns the proxy's vocabulary size (the large model's).
     *
     * @throws IllegalArgumentException if the expert or anti-expert vocabulary is smaller than the
     *     large model's
     */
    public static int checkVocab(int largeVocab, int expertVocab, int antiVocab) {
        checkArgument(largeVocab >= 1, "the large model's vocabulary size must be positive, got %s", largeVocab);
        checkArgument(expertVocab >= largeVocab,
                "proxy-tuning: the small tuned model (expert) has %s token ids but the large model has %s; the expert"
                        + " must cover every id of the large model (extra trailing ids are truncated, missing ids cannot"
                        + " be aligned); use small and large models that share one tokenizer",
                expertVocab, largeVocab);
        checkArgument(antiVocab >= largeVocab,
                "proxy-tuning: the small base model (anti-expert) has %s token ids but the large model has %s; the"
                        + " anti-expert must cover every id of the large model (extra trailing ids are truncated, missing"
                        + " ids cannot be aligned); use small and large models that share one tokenizer",
                antiVocab, largeVocab);
        return largeVocab;
    }

    /** Checks that {@code alpha} is a usable proxy strength. */
    static double checkAlpha(double alpha) {
        checkArgument(Double.isFinite(alpha) && alpha >= 0,
                "Cannot set proxy alpha to %s, the value must be finite and ≥ 0 (1 is proxy-tuning's default)", alpha);
        return alpha;
    }

    /**
     * {@code z_large + α (z_expert − z_anti)} over the first {@code large.length} ids, in float32.
     *
     * @return a new array of {@code large.length} logits
     */
    public static float[] combine(float[] large, float[] expert, float[] anti, double alpha) {
        checkAlpha(alpha);
        int v = checkVocab(large.length, expert.length, anti.length);
        float a = (float) alpha;
        float[] out = new float[v];
        for (int i = 0; i < v; i++) {
            float diff = expert[i] - anti[i];
            out[i] = diff * a + large[i];
        }
        return out;
    }

    /**
     * As {@link #combine(float[], float[], float[], double)} for arrays of logits whose last axis is
     * the vocabulary ({@code [..., V]}, same leading shape), computed in float32. The result is
     * attached to {@code large}'s manager (and the open NDScope, if any); temporaries are closed.
     */
    public static NDArray combine(NDArray large, NDArray expert, NDArray anti, double alpha) {
        checkAlpha(alpha);
        int axis = large.getShape().dimension() - 1;
        checkArgument(axis >= 0, "proxy-tuning needs logits with a vocabulary axis, got a scalar");
        int v = checkVocab((int) large.getShape().get(axis), (int) expert.getShape().get(axis),
                (int) anti.getShape().get(axis));
        checkArgument(expert.getShape().slice(0, axis).equals(large.getShape().slice(0, axis))
                        && anti.getShape().slice(0, axis).equals(large.getShape().slice(0, axis)),
                "proxy-tuning: logits of shapes %s (large), %s (expert), %s (anti-expert) differ outside the vocabulary"
                        + " axis", large.getShape(), expert.getShape(), anti.getShape());
        try (NDArray l = float32(large);
                NDArray e = truncated(expert, v);
                NDArray x = truncated(anti, v);
                NDArray diff = e.sub(x);
                NDArray scaled = Ops.mul(diff, alpha)) {
            NDArray out = scaled.add(l);
            out.attach(large.getManager());
            return out;
        }
    }

    /** A float32 copy of the first {@code v} entries of the last axis (a copy, so closing it is safe). */
    private static NDArray truncated(NDArray x, int v) {
        long have = x.getShape().get(x.getShape().dimension() - 1);
        if (have == v) {
            return float32(x);
        }
        try (NDArray view = x.get("..., 0:" + v)) {
            return float32(view);
        }
    }

    private static NDArray float32(NDArray x) {
        return x.getDataType() == DataType.FLOAT32 ? x.duplicate() : x.toType(DataType.FLOAT32, true);
    }
}
