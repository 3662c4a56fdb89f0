package dev.understudy.job.engine;

import java.io.Serializable;
import java.util.List;

/**
 * One client's tokenised examples, grouped into a single record so a client's data lives in one
 * Spark partition and is trained by one task.
 *
 * @param clientId client identifier
 * @param train training examples: token ids and prompt lengths (loss only after the prompt)
 * @param eval held-out examples of the same client
 */
public record ClientData(String clientId, List<Tokens> train, List<Tokens> eval) implements Serializable {
    /** A tokenised sequence and the number of leading prompt tokens excluded from the loss. */
    public record Tokens(int[] ids, int promptLength) implements Serializable {}

    /**
     * One tokenised row of a client before its rows are grouped into a {@link ClientData} (what the
     * data preparation's tokenising stage emits; here so the engine's Kryo registration needs no
     * import from the data package).
     *
     * @param rowKey the row's stable key (the split and the packing order follow it)
     * @param eval whether the row is held out
     * @param truncated whether the row was cut to {@code data.max_length}
     */
    public record TokenizedRow(String clientId, String rowKey, boolean eval, Tokens tokens, boolean truncated)
            implements Serializable {}

    /** Rows used for training (the FedAvg sample weight). */
    public long numTrain() {
        return train.size();
    }
}
