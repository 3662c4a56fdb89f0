package dev.understudy.ops.federation;

/**
 * FedAdagrad, {@link FedOpt} with {@code v ← v + Δ̄²}. Reddi et al. 2021, "Adaptive Federated
 * Optimization", arxiv.org/abs/2003.00295, Algorithm 2.
 *
 * <p>YAML keys and defaults (Flower's): {@code server.eta} 0.1, {@code server.beta_1} 0.0 (Flower's
 * FedAdagrad fixes β1 = 0, i.e. no momentum; the paper allows β1 > 0), {@code server.tau} 1e-9,
 * {@code server.accept_failures} true. State: {@code m}, {@code v}.
 */
public final class FedAdagrad extends FedOpt {
    public FedAdagrad() {
        this(1e-1, 0.0, 1e-9, true);
    }

    public FedAdagrad(double eta, double beta1, double tau, boolean acceptFailures) {
        super(eta, beta1, tau, acceptFailures);
    }

    @Override
    public String name() {
        return "fedadagrad";
    }

    @Override
    double secondMoment(double v, double deltaSquared) {
        return v + deltaSquared;
    }
}
