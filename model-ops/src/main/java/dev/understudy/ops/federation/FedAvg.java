package dev.understudy.ops.federation;

import java.util.List;

/**
 * Federated Averaging: {@code x ← x + η·Δ̄}, where {@code Δ̄} is the mean client delta weighted by
 * {@code numExamples} and {@code η} the server learning rate (1 gives plain FedAvg, whose new global
 * is the weighted mean of the client models).
 *
 * <p>McMahan, Moore, Ramage, Hampson, Agüera y Arcas 2017, "Communication-Efficient Learning of Deep
 * Networks from Decentralized Data", AISTATS. Paper: arxiv.org/abs/1602.05629. The server learning
 * rate follows Reddi et al. 2021 (arXiv:2003.00295), where FedAvg is FedOpt with SGD at rate η.
 *
 * <p>YAML keys: {@code server.server_learning_rate} (default 1.0), {@code server.accept_failures}
 * (default true: a round with failures still aggregates the updates that arrived).
 */
public class FedAvg extends LinearStrategy {
    private final double serverLearningRate;

    /** Plain FedAvg: server learning rate 1, failures accepted. */
    public FedAvg() {
        this(true);
    }

    public FedAvg(boolean acceptFailures) {
        this(1.0, acceptFailures);
    }

    public FedAvg(double serverLearningRate, boolean acceptFailures) {
        super(acceptFailures, List.of());
        this.serverLearningRate = Params.positive("server_learning_rate", serverLearningRate);
    }

    @Override
    public String name() {
        return "fedavg";
    }

    public double serverLearningRate() {
        return serverLearningRate;
    }

    @Override
    final float[] step(float[] global, float[] meanDelta) {
        float[] next = new float[global.length];
        for (int i = 0; i < next.length; i++) {
            next[i] = (float) (global[i] + serverLearningRate * meanDelta[i]);
        }
        return next;
    }
}
