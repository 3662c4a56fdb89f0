package dev.understudy.job.engine;

import java.io.Serializable;

/**
 * What a client task sends back: the adapter delta (trained minus global, flattened in the global
 * layout), its weight and training statistics. {@link #payloadBytes} is the exact size of the
 * delta on the wire (raw little-endian float32). A failed client has {@code failure} set.
 */
public record ClientResult(
        String clientId, int round, long numExamples, float[] delta, double trainLoss, long trainTokens,
        double trainSeconds, int attempt, String failure) implements Serializable {
    /** A client whose local training failed (e.g. diverged); it carries no delta. */
    public static ClientResult failed(String clientId, int round, String why, int attempt) {
        return new ClientResult(clientId, round, 0, new float[0], Double.NaN, 0, 0, attempt, why);
    }

    public boolean ok() {
        return failure == null;
    }

    public long payloadBytes() {
        return 4L * delta.length;
    }
}
