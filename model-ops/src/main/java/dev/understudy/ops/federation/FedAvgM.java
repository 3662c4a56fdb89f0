package dev.understudy.ops.federation;

import java.util.List;

/**
 * Federated Averaging with server momentum: {@code v ← β·v + Δ̄; x ← x + η·v}, with {@code v}
 * starting at 0 (so the first round is FedAvg scaled by η).
 *
 * <p>Hsu, Qi, Brown 2019, "Measuring the Effects of Non-Identical Data Distribution for Federated
 * Visual Classification". Paper: arxiv.org/abs/1909.06335. Flower writes the same update with the
 * pseudo-gradient {@code −Δ̄} and subtracts.
 *
 * <p>YAML keys: {@code server.server_learning_rate} (η, default 1.0), {@code server.server_momentum}
 * (β in [0, 1), default 0.0 as in Flower; Hsu et al. use 0.9), {@code server.accept_failures}
 * (default true). State: {@code momentum}.
 */
public final class FedAvgM extends LinearStrategy {
    private final double serverLearningRate;
    private final double serverMomentum;

    public FedAvgM(double serverLearningRate, double serverMomentum) {
        this(serverLearningRate, serverMomentum, true);
    }

    public FedAvgM(double serverLearningRate, double serverMomentum, boolean acceptFailures) {
        super(acceptFailures, List.of("momentum"));
        this.serverLearningRate = Params.positive("server_learning_rate", serverLearningRate);
        this.serverMomentum = Params.unitInterval("server_momentum", serverMomentum);
    }

    @Override
    public String name() {
        return "fedavgm";
    }

    public double serverLearningRate() {
        return serverLearningRate;
    }

    public double serverMomentum() {
        return serverMomentum;
    }

    @Override
    float[] step(float[] global, float[] meanDelta) {
        float[] v = stateVector("momentum", global.length, 0f); // (n)
        float[] next = new float[global.length];
        for (int i = 0; i < next.length; i++) {
            v[i] = (float) (serverMomentum * v[i] + meanDelta[i]);
            next[i] = (float) (global[i] + serverLearningRate * v[i]);
        }
        return next;
    }
}
