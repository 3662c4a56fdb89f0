package dev.understudy.ops.federation;

import java.util.List;

/**
 * Adaptive server optimisers of Reddi, Charles, Zaheer, Garrett, Rush, Konečný, Kumar, McMahan 2021,
 * "Adaptive Federated Optimization", ICLR. Paper: arxiv.org/abs/2003.00295, Algorithm 2. Per
 * coordinate, with {@code Δ̄} the example-weighted mean client delta:
 *
 * <pre>
 *   m ← β1·m + (1 − β1)·Δ̄                 (m starts at 0)
 *   v ← secondMoment(v, Δ̄²)                (v starts at τ², the paper's "v_{-1} ≥ τ²")
 *   x ← x + η·m / (√v + τ)
 * </pre>
 *
 * <p>Departures from Flower, on purpose, following the paper: Flower starts {@code v} at 0 rather
 * than τ², and Flower's FedAdam multiplies η by Adam's bias correction
 * {@code √(1 − β2^t) / (1 − β1^t)}; Algorithm 2 has no bias correction, and neither do we. The client
 * learning rate {@code eta_l} of Flower's constructors is not a server parameter here.
 *
 * <p>State vectors {@code m} and {@code v} are kept in float, exactly what {@link #state()} exports,
 * so a restored run continues bit for bit; each update is computed in double and rounded once.
 */
abstract class FedOpt extends LinearStrategy {
    private final double eta;
    private final double beta1;
    private final double tau;

    FedOpt(double eta, double beta1, double tau, boolean acceptFailures) {
        super(acceptFailures, List.of("m", "v"));
        this.eta = Params.positive("eta", eta);
        this.beta1 = Params.unitInterval("beta_1", beta1);
        this.tau = Params.positive("tau", tau);
    }

    public final double eta() {
        return eta;
    }

    public final double beta1() {
        return beta1;
    }

    public final double tau() {
        return tau;
    }

    /** The new second-moment estimate from the old one and the squared mean delta. */
    abstract double secondMoment(double v, double deltaSquared);

    @Override
    final float[] step(float[] global, float[] meanDelta) {
        float[] m = stateVector("m", global.length, 0f); // (n)
        float[] v = stateVector("v", global.length, (float) (tau * tau)); // (n)
        float[] next = new float[global.length];
        for (int i = 0; i < next.length; i++) {
            double d = meanDelta[i];
            m[i] = (float) (beta1 * m[i] + (1 - beta1) * d);
            v[i] = (float) secondMoment(v[i], d * d);
            next[i] = (float) (global[i] + eta * m[i] / (Math.sqrt(v[i]) + tau));
        }
        return next;
    }
}
