package dev.understudy.ops.train;

import static dev.understudy.ops.util.Preconditions.checkArgument;

/**
 * One tokenised training sequence. The causal-LM loss covers the tokens at positions ≥ {@code
 * promptLength} (prompt masking: instruction tuning trains on the response only); {@code
 * promptLength = 0} trains on every token (language modelling). The first token never has a loss,
 * since nothing predicts it.
 *
 * @param ids token ids, length ≥ 2
 * @param promptLength number of leading prompt tokens excluded from the loss, in [0, ids.length)
 */
public record Example(int[] ids, int promptLength) {
    public Example {
        checkArgument(ids != null && ids.length >= 2, "an example needs at least 2 tokens, got %s",
                ids == null ? null : ids.length);
        checkArgument(promptLength >= 0 && promptLength < ids.length,
                "promptLength %s must be in [0, %s) so at least one token is trained on", promptLength, ids.length);
    }

    /** A plain language-modelling example (loss on every predicted token). */
    public static Example lm(int[] ids) {
        return new Example(ids, 0);
    }

    /** Number of tokens that carry a loss. */
    public int lossTokens() {
        return ids.length - Math.max(1, promptLength);
    }
}
