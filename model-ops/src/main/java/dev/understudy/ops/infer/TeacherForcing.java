package dev.understudy.ops.infer;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkState;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.Ops;
import java.util.List;

/**
 * Teacher-forced logits from any {@link LogitSource}: through {@link SequenceLogits} when the
 * source has it (one forward), otherwise by stepping a {@link LogitSource.DecodingSession} through
 * the sequences one token at a time (what a logits-only black-box model allows).
 */
public final class TeacherForcing {
    private TeacherForcing() {}

    /**
     * Logits {@code [B, T, V]} (float32 or float64, right-padded to the longest sequence; see {@link
     * SequenceLogits#sequenceLogits}) attached to {@code manager}.
     */
    public static NDArray logits(LogitSource source, List<int[]> sequences, NDManager manager) {
        checkSequences(sequences);
        if (source instanceof SequenceLogits s) {
            return s.sequenceLogits(sequences, manager);
        }
        return stepped(source, sequences, manager);
    }

    /**
     * The token-by-token fallback: starts a session on each sequence's first token, reads the next
     * logits and appends the next token until the longest sequence is consumed. Shorter sequences
     * get token 0 appended once they end; their logits there are filler. Costs {@code T} calls of
     * {@code nextLogits} per batch.
     */
    public static NDArray stepped(LogitSource source, List<int[]> sequences, NDManager manager) {
        checkSequences(sequences);
        int b = sequences.size();
        int t = maxLength(sequences);
        int v = source.vocabSize();
        float[] flat = new float[Math.multiplyExact(Math.multiplyExact(b, t), v)];
        List<int[]> first = sequences.stream().map(s -> new int[] {s[0]}).toList();
        try (LogitSource.DecodingSession session = source.start(first)) {
            for (int pos = 0; pos < t; pos++) {
                float[][] next = session.nextLogits();
                checkState(next.length == b, "logit source returned %s rows for a batch of %s", next.length, b);
                for (int i = 0; i < b; i++) {
                    checkState(next[i].length == v, "logit source declared vocabulary %s but returned %s logits",
                            v, next[i].length);
                    System.arraycopy(next[i], 0, flat, (i * t + pos) * v, v);
                }
                if (pos == t - 1) {
                    break;
                }
                int[] tokens = new int[b];
                for (int i = 0; i < b; i++) {
                    int[] s = sequences.get(i);
                    tokens[i] = pos + 1 < s.length ? s[pos + 1] : 0;
                }
                session.append(tokens);
            }
        }
        return Ops.fromFloats(manager, flat, new Shape(b, t, v));
    }

    static int maxLength(List<int[]> sequences) {
        int t = 0;
        for (int[] s : sequences) {
            t = Math.max(t, s.length);
        }
        return t;
    }

    private static void checkSequences(List<int[]> sequences) {
        checkArgument(!sequences.isEmpty(), "teacher forcing needs at least one sequence");
        for (int[] s : sequences) {
            checkArgument(s.length >= 1, "teacher forcing needs non-empty sequences");
        }
    }
}
