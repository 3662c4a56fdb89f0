package dev.understudy.ops.infer;

import java.util.List;

/**
 * A language model seen only through its next-token logits: the narrow interface proxy-tuning
 * needs for the large model, so that a remote black-box model can stand behind it.
 */
public interface LogitSource {
    /** Vocabulary size of the logits this source produces. */
    int vocabSize();

    /** Starts decoding after the given prompts (one per sequence of the batch). */
    DecodingSession start(List<int[]> prompts);

    /** Incremental decoding state of one batch. */
    interface DecodingSession extends AutoCloseable {
        /** Logits {@code [B][V]} for the next token of each sequence. */
        float[][] nextLogits();

        /** Appends one token to every sequence and advances. */
        void append(int[] tokens);

        @Override
        void close();
    }
}
