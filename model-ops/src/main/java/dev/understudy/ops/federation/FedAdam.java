package dev.understudy.ops.federation;

/**
 * FedAdam, {@link FedOpt} with {@code v ← β2·v + (1 − β2)·Δ̄²} and no bias correction (see {@link
 * FedOpt}). Reddi et al. 2021, "Adaptive Federated Optimization", arxiv.org/abs/2003.00295,
 * Algorithm 2.
 *
 * <p>YAML keys and defaults (Flower's): {@code server.eta} 0.1, {@code server.beta_1} 0.9, {@code
 * server.beta_2} 0.99, {@code server.tau} 1e-9, {@code server.accept_failures} true. State: {@code m},
 * {@code v}.
 */
public final class FedAdam extends FedOpt {
    private final double beta2;

    public FedAdam() {
        this(1e-1, 0.9, 0.99, 1e-9, true);
    }

    public FedAdam(double eta, double beta1, double beta2, double tau, boolean acceptFailures) {
        super(eta, beta1, tau, acceptFailures);
        this.beta2 = Params.unitInterval("beta_2", beta2);
    }

    @Override
    public String name() {
        return "fedadam";
    }

    public double beta2() {
        return beta2;
    }

    @Override
    double secondMoment(double v, double deltaSquared) {
        return beta2 * v + (1 - beta2) * deltaSquared;
    }
}
