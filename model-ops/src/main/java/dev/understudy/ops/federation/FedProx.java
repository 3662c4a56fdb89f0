package dev.understudy.ops.federation;

/**
 * FedProx: clients minimise {@code loss(w) + μ/2·||w − w_global||²}; the server step is FedAvg's.
 *
 * <p>Li, Sahu, Zaheer, Sanjabi, Talwalkar, Smith 2020, "Federated Optimization in Heterogeneous
 * Networks", MLSys. Paper: arxiv.org/abs/1812.06127.
 *
 * <p>The proximal term is applied by the client trainer, which reads {@link #proximalMu()}; this
 * class only carries μ to it and aggregates exactly like {@link FedAvg}.
 *
 * <p>YAML keys: {@code server.proximal_mu} (required, ≥ 0, as in Flower), {@code
 * server.server_learning_rate} (default 1.0), {@code server.accept_failures} (default true).
 */
public final class FedProx extends FedAvg {
    private final double proximalMu;

    public FedProx(double proximalMu) {
        this(proximalMu, 1.0, true);
    }

    public FedProx(double proximalMu, double serverLearningRate, boolean acceptFailures) {
        super(serverLearningRate, acceptFailures);
        this.proximalMu = Params.nonNegative("proximal_mu", proximalMu);
    }

    @Override
    public String name() {
        return "fedprox";
    }

    @Override
    public double proximalMu() {
        return proximalMu;
    }
}
