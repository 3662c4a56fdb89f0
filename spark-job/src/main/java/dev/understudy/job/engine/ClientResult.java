package dev.understudy.job.engine;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a client task sends back: the delta of the global state (trained minus global, flattened in
 * the global layout), its weight, training figures and the task's named statistics (linear arrays
 * the engine sums over clients, {@link ClientStatistics}; empty for plain LoRA training).
 * {@link #payloadBytes} is the exact size of the delta and statistics on the wire (raw
 * little-endian float32 / float64). A failed client has {@code failure} set.
 */
public record ClientResult(
        String clientId, int round, long numExamples, float[] delta, double trainLoss, long trainTokens,
        double trainSeconds, int attempt, String failure, Map<String, double[]> statistics) implements Serializable {
    public ClientResult {
        statistics = statistics == null || statistics.isEmpty() ? Map.of() : new TreeMap<>(statistics);
    }

    /** A result without statistics. */
    public ClientResult(String clientId, int round, long numExamples, float[] delta, double trainLoss, long trainTokens,
            double trainSeconds, int attempt, String failure) {
        this(clientId, round, numExamples, delta, trainLoss, trainTokens, trainSeconds, attempt, failure, Map.of());
    }

    /** A client whose local training failed (e.g. diverged); it carries no delta. */
    public static ClientResult failed(String clientId, int round, String why, int attempt) {
        return new ClientResult(clientId, round, 0, new float[0], Double.NaN, 0, 0, attempt, why);
    }

    /** This result with {@code stats} as its statistics. */
    public ClientResult withStatistics(Map<String, double[]> stats) {
        return new ClientResult(clientId, round, numExamples, delta, trainLoss, trainTokens, trainSeconds, attempt, failure,
                stats);
    }

    public boolean ok() {
        return failure == null;
    }

    public long payloadBytes() {
        return 4L * delta.length + ClientStatistics.bytes(statistics);
    }
}
