package dev.understudy.ops.infer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;

/**
 * Optional capability of a {@link LogitSource}: teacher-forced logits for every position of whole
 * sequences in one pass (one forward per model), as scoring and distillation need. Sources that
 * cannot do this (a remote black-box model) are stepped token by token instead, see {@link
 * TeacherForcing#logits}.
 */
public interface SequenceLogits {
    /**
     * Logits {@code [B, T, V]} in float32 (float64 for a float64 model) for the sequences
     * right-padded to the longest length {@code T}: position {@code t} of row {@code b} holds the
     * logits of the token after {@code sequences.get(b)[0..t]}. Positions past a sequence's end
     * hold unspecified finite values. Runs without autograd; the result is attached to {@code
     * manager} (and the open NDScope, if any).
     */
    NDArray sequenceLogits(List<int[]> sequences, NDManager manager);
}
