package dev.understudy.ops.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.Ops;
import java.util.List;

/**
 * A right-padded batch of examples as int64 arrays: {@code ids [B, T]}, {@code mask [B, T]} (1 for
 * tokens, 0 for padding) and {@code labels [B, T]} holding the id to predict at each position or
 * {@link #IGNORE} (prompt, padding). Labels are not shifted: position {@code t} of the logits
 * predicts {@code labels[t + 1]}.
 */
public record TokenBatch(NDArray ids, NDArray mask, NDArray labels, int lossTokens) implements AutoCloseable {
    /** Label value excluded from the loss (PyTorch's ignore_index). */
    public static final long IGNORE = -100;

    /** Collates examples, padding with {@code padId} to the longest one. */
    public static TokenBatch collate(List<Example> examples, int padId, NDManager manager) {
        int b = examples.size();
        int t = 0;
        for (Example e : examples) {
            t = Math.max(t, e.ids().length);
        }
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] labels = new long[b * t];
        java.util.Arrays.fill(ids, padId);
        java.util.Arrays.fill(labels, IGNORE);
        int lossTokens = 0;
        for (int i = 0; i < b; i++) {
            Example e = examples.get(i);
            int[] x = e.ids();
            for (int j = 0; j < x.length; j++) {
                ids[i * t + j] = x[j];
                mask[i * t + j] = 1;
                if (j >= Math.max(1, e.promptLength())) {
                    labels[i * t + j] = x[j];
                }
            }
            lossTokens += e.lossTokens();
        }
        Shape s = new Shape(b, t);
        return new TokenBatch(Ops.fromLongs(manager, ids, s), Ops.fromLongs(manager, mask, s), Ops.fromLongs(manager, labels, s),
                lossTokens);
    }

    @Override
    public void close() {
        ids.close();
        mask.close();
        labels.close();
    }
}
