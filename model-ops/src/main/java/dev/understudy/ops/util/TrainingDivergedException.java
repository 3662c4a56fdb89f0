package dev.understudy.ops.util;

/**
 * The training loss became NaN or infinite. The message names the step and batch and suggests a
 * remedy (lower the learning rate, enable gradient clipping).
 */
public class TrainingDivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long step;
    private final int batch;

    public TrainingDivergedException(String message, long step, int batch) {
        super(message);
        this.step = step;
        this.batch = batch;
    }

    /** Global optimiser step at which the non-finite loss appeared. */
    public long step() {
        return step;
    }

    /** Index of the micro-batch (within the step) whose loss was non-finite. */
    public int batch() {
        return batch;
    }
}
