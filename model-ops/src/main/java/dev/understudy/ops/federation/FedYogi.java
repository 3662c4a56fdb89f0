package dev.understudy.ops.federation;

/**
 * FedYogi, {@link FedOpt} with {@code v ← v − (1 − β2)·Δ̄²·sign(v − Δ̄²)}, which grows or shrinks
 * {@code v} additively towards {@code Δ̄²} instead of Adam's multiplicative decay. Reddi et al. 2021,
 * "Adaptive Federated Optimization", arxiv.org/abs/2003.00295, Algorithm 2.
 *
 * <p>YAML keys and defaults (Flower's): {@code server.eta} 0.01, {@code server.beta_1} 0.9, {@code
 * server.beta_2} 0.99, {@code server.tau} 1e-3, {@code server.accept_failures} true. State: {@code m},
 * {@code v}.
 */
public final class FedYogi extends FedOpt {
    private final double beta2;

    public FedYogi() {
        this(1e-2, 0.9, 0.99, 1e-3, true);
    }

    public FedYogi(double eta, double beta1, double beta2, double tau, boolean acceptFailures) {
        super(eta, beta1, tau, acceptFailures);
        this.beta2 = Params.unitInterval("beta_2", beta2);
    }

    @Override
    public String name() {
        return "fedyogi";
    }

    public double beta2() {
        return beta2;
    }

    @Override
    double secondMoment(double v, double deltaSquared) {
        return v - (1 - beta2) * deltaSquared * Math.signum(v - deltaSquared);
    }
}
