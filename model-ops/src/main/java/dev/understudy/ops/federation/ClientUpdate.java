package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Map;

/**
 * One client's result for one round.
 *
 * <p>The record takes ownership of {@code delta} without copying it (adapter deltas can be tens of
 * megabytes, and the driver should hold as few as possible): callers must not modify the array
 * afterwards. {@link #equals} and {@link #hashCode} compare the delta's contents.
 *
 * @param clientId the client's id, used in error messages
 * @param numExamples training examples the client used this round; the weight in weighted means
 * @param delta the client's trained parameters minus the global parameters it started from, in the
 *     {@link ParameterLayout} of the global vector; every element finite
 * @param trainLoss the client's mean training loss this round; finite
 * @param trainTokens tokens the client trained on this round
 * @param metrics further client metrics, by name; copied
 */
public record ClientUpdate(
        String clientId, long numExamples, float[] delta, double trainLoss, long trainTokens, Map<String, Double> metrics)
        implements Serializable {
    public ClientUpdate {
        checkNotNull(clientId, "clientId");
        checkNotNull(delta, "delta of client " + clientId);
        checkArgument(numExamples >= 0, "Client %s reported numExamples=%s; the count must be non-negative", clientId, numExamples);
        checkArgument(trainTokens >= 0, "Client %s reported trainTokens=%s; the count must be non-negative", clientId, trainTokens);
        checkArgument(
                Double.isFinite(trainLoss),
                "Client %s reported a non-finite train loss (%s); its local training diverged: lower the client"
                        + " learning rate or enable gradient clipping",
                clientId,
                trainLoss);
        for (int i = 0; i < delta.length; i++) {
            checkArgument(
                    Float.isFinite(delta[i]),
                    "client %s sent a non-finite update at index %s (%s); its local training diverged: lower the"
                            + " client learning rate or enable gradient clipping, or let the job drop the client as a"
                            + " failure",
                    clientId,
                    i,
                    delta[i]);
        }
        metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
    }

    /** An update without extra metrics. */
    public ClientUpdate(String clientId, long numExamples, float[] delta, double trainLoss, long trainTokens) {
        this(clientId, numExamples, delta, trainLoss, trainTokens, Map.of());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClientUpdate u
                && clientId.equals(u.clientId)
                && numExamples == u.numExamples
                && Arrays.equals(delta, u.delta)
                && Double.compare(trainLoss, u.trainLoss) == 0
                && trainTokens == u.trainTokens
                && metrics.equals(u.metrics);
    }

    @Override
    public int hashCode() {
        int h = clientId.hashCode();
        h = 31 * h + Long.hashCode(numExamples);
        h = 31 * h + Arrays.hashCode(delta);
        h = 31 * h + Double.hashCode(trainLoss);
        h = 31 * h + Long.hashCode(trainTokens);
        return 31 * h + metrics.hashCode();
    }

    @Override
    public String toString() {
        return "ClientUpdate[clientId=" + clientId + ", numExamples=" + numExamples + ", delta=float[" + delta.length
                + "], trainLoss=" + trainLoss + ", trainTokens=" + trainTokens + ", metrics=" + metrics + "]";
    }
}
