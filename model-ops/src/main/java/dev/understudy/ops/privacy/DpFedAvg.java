package dev.understudy.ops.privacy;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import dev.understudy.ops.federation.ClientFailure;
import dev.understudy.ops.federation.ClientUpdate;
import dev.understudy.ops.federation.FederatedStrategy;
import dev.understudy.ops.federation.WeightedMean;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Client-level DP-FedAvg (McMahan, Ramage, Talwar, Zhang 2018, "Learning Differentially Private
 * Recurrent Language Models", ICLR, arXiv:1710.06963, Algorithm 1) as a wrapper around any linear
 * strategy: the wrapped strategy's server optimiser (FedAvg, FedAdam, ...) is applied to the noised
 * average instead of the plain one.
 *
 * <p><b>Mechanism.</b> Clients are Poisson-sampled with probability q ({@link PoissonSampling}).
 * Each sampled client's whole update is clipped to L2 norm C on the executor ({@link DpClipping})
 * and enters the sum with weight 1, whatever its number of examples (a data-dependent weight would
 * raise the sensitivity above C). The driver receives the sum of the m clipped updates and releases
 *
 * <pre>  Δ̄ = (Σ_k Δ̃_k + N(0, (z_Δ·C)² I)) / (qN)</pre>
 *
 * drawing the noise once per round from the stream {@link GaussianNoise#forRound}(seed, round), so a
 * resumed run is bit-identical. The denominator is the <em>expected</em> number of clients qN, fixed
 * in advance (the paper's unbiased estimator f̃_f): it keeps the sensitivity of Δ̄ at C/(qN) whatever
 * m is. Flower's {@code DifferentialPrivacyServerSideFixedClipping} instead divides by the number of
 * sampled clients m (after the wrapped strategy's example-weighted mean) and adds noise of std
 * z·C/m; its average is not unbiased for the sum and its noise scale depends on m.
 *
 * <p><b>Accounting.</b> Each round is one sampled Gaussian mechanism with rate q and noise
 * multiplier z ({@link Rdp}); z_Δ = z with a fixed clipping norm, and smaller with {@link
 * AdaptiveClipping}, whose noised bit count takes the rest. {@link #epsilonAfter} is the
 * accountant's ε at δ after r rounds; {@link #allowsRound} says whether round r stays within the
 * optional ε budget.
 *
 * <p>Rounds where no client was sampled still release noise (the mechanism's output must not reveal
 * that m = 0). Every round that is applied with noise on is checked to change the global vector
 * (DP with LoRA can silently stop updating the adapter, meta-pytorch/opacus#820).
 */
public final class DpFedAvg implements FederatedStrategy {
    private static final String CLIP_STATE = "dp_clip_norm";
    private static final long UPDATE_NOISE = 1;
    private static final long BIT_NOISE = 2;

    /**
     * @param clipNorm C, the (initial, when adaptive) clipping norm
     * @param noiseMultiplier z, what the accountant uses; 0 turns the noise off (clipping only, ε = ∞)
     * @param samplingRate q, each client's per-round inclusion probability
     * @param totalClients N
     * @param delta δ of the reported (ε, δ)
     * @param epsilonBudget stop before a round would take ε above this; 0 = no budget
     * @param seed the run seed (noise streams)
     * @param adaptive adaptive clipping, or null for a fixed norm
     */
    public record Settings(double clipNorm, double noiseMultiplier, double samplingRate, int totalClients, double delta,
            double epsilonBudget, long seed, AdaptiveClipping adaptive) {
        public Settings {
            checkArgument(clipNorm > 0 && Double.isFinite(clipNorm),
                    "Cannot set privacy.clip_norm to %s: the value must be positive", clipNorm);
            checkArgument(noiseMultiplier >= 0 && Double.isFinite(noiseMultiplier),
                    "Cannot set privacy.noise_multiplier to %s: the value must be non-negative", noiseMultiplier);
            checkArgument(samplingRate > 0 && samplingRate <= 1,
                    "The DP sampling rate must be in (0, 1], got %s (server.fraction or clients_per_round / clients)",
                    samplingRate);
            checkArgument(totalClients >= 1, "DP-FedAvg needs at least one client, got %s", totalClients);
            checkArgument(delta > 0 && delta < 1, "Cannot set privacy.delta to %s: the value must be in (0, 1)", delta);
            checkArgument(epsilonBudget >= 0, "Cannot set privacy.epsilon_budget to %s: the value must be ≥ 0 (0 = none)",
                    epsilonBudget);
            checkArgument(adaptive == null || noiseMultiplier > 0,
                    "Adaptive clipping needs privacy.noise_multiplier > 0 (its clip count is noised)");
        }

        /** qN, the fixed denominator. */
        public double expectedClients() {
            return samplingRate * totalClients;
        }
    }

    private final FederatedStrategy inner;
    private final Settings settings;
    private final double updateNoise; // z_Δ
    private final double[] oneRoundRdp; // at Rdp.DEFAULT_ORDERS
    private float clipNorm;
    private Map<String, Double> lastMetrics = Map.of();

    public DpFedAvg(FederatedStrategy inner, Settings settings) {
        this.inner = checkNotNull(inner, "inner strategy");
        this.settings = checkNotNull(settings, "settings");
        checkArgument(inner.isLinear(),
                "DP-FedAvg wraps linear strategies only (it noises the average); %s needs every update. Use fedavg,"
                        + " fedavgm, fedadam, fedadagrad, fedyogi or fedprox with privacy on",
                inner.name());
        double z = settings.noiseMultiplier();
        this.updateNoise = settings.adaptive() == null ? z : settings.adaptive().updateNoiseMultiplier(z);
        this.oneRoundRdp = z == 0 ? null : Rdp.sampledGaussian(settings.samplingRate(), z, 1, Rdp.DEFAULT_ORDERS);
        this.clipNorm = (float) settings.clipNorm();
    }

    public Settings settings() {
        return settings;
    }

    /** The clipping norm the clients of the next round must use (changes each round when adaptive). */
    public float clipNorm() {
        return clipNorm;
    }

    /** z_Δ, the noise multiplier on the update (z itself unless adaptive clipping takes a share). */
    public double updateNoiseMultiplier() {
        return updateNoise;
    }

    /** The accountant's (ε, δ) after {@code rounds} rounds; ε = ∞ with noise off. */
    public Rdp.Epsilon epsilonAfter(long rounds) {
        if (oneRoundRdp == null) {
            return new Rdp.Epsilon(rounds == 0 ? 0 : Double.POSITIVE_INFINITY, Double.NaN);
        }
        double[] rdp = new double[oneRoundRdp.length];
        for (int k = 0; k < rdp.length; k++) {
            rdp[k] = rounds * oneRoundRdp[k];
        }
        return Rdp.epsilon(Rdp.DEFAULT_ORDERS, rdp, settings.delta());
    }

    /** Whether running round {@code round} (1-based) keeps ε within the budget (always, without one). */
    public boolean allowsRound(int round) {
        return settings.epsilonBudget() == 0 || epsilonAfter(round).epsilon() <= settings.epsilonBudget();
    }

    @Override
    public String name() {
        return "dp-" + inner.name();
    }

    @Override
    public boolean isLinear() {
        return true;
    }

    @Override
    public double proximalMu() {
        return inner.proximalMu();
    }

    /** Clips each update here (for callers without executors), then as {@link #applyClippedSum}. */
    @Override
    public Optional<float[]> aggregate(int round, float[] global, List<ClientUpdate> updates, List<ClientFailure> failures) {
        checkNotNull(global, "global");
        checkNotNull(updates, "updates");
        checkNotNull(failures, "failures");
        WeightedMean sum = WeightedMean.empty(global.length);
        int clipped = 0;
        for (ClientUpdate u : updates) {
            DpClipping.Clipped c = DpClipping.clip(u.delta(), clipNorm);
            clipped += c.clipped() ? 1 : 0;
            sum.add(new ClientUpdate(u.clientId(), 1, c.delta(), u.trainLoss(), u.trainTokens(), u.metrics()));
        }
        return applyClippedSum(round, global, sum, clipped, failures.size());
    }

    /**
     * As {@link #applyClippedSum} without a clipped count: only for a fixed clipping norm.
     *
     * @throws IllegalStateException with adaptive clipping, which needs the count
     */
    @Override
    public Optional<float[]> applyMean(int round, float[] global, WeightedMean mean, int failures) {
        if (settings.adaptive() != null) {
            throw new IllegalStateException("adaptive clipping needs the clipped count: call applyClippedSum");
        }
        return applyClippedSum(round, global, mean, -1, failures);
    }

    /**
     * One DP round from the executors' reduction.
     *
     * @param clippedUpdates the sampled clients' updates, each clipped to {@link #clipNorm()} and added
     *     with weight 1
     * @param clipped how many of them were scaled down, or −1 if unknown (fixed clipping only)
     * @param failures clients that were sampled but returned nothing
     * @throws IllegalArgumentException if an update was added with a weight other than 1
     * @throws IllegalStateException if noise is on and the applied round left the global vector unchanged
     */
    public Optional<float[]> applyClippedSum(int round, float[] global, WeightedMean clippedUpdates, int clipped,
            int failures) {
        checkNotNull(global, "global");
        checkNotNull(clippedUpdates, "clippedUpdates");
        checkArgument(clippedUpdates.size() == global.length,
                "The clipped sum has %s elements but the global vector has %s", clippedUpdates.size(), global.length);
        int m = clippedUpdates.count();
        checkArgument(clippedUpdates.totalWeight() == m,
                "DP-FedAvg needs every clipped update added with weight 1, but %s updates carry weight %s",
                m, clippedUpdates.totalWeight());
        checkArgument(clipped <= m, "%s clipped updates out of %s", clipped, m);
        double expected = settings.expectedClients();
        float[] mean = m == 0 ? new float[global.length] : clippedUpdates.mean();
        double sigmaSum = updateNoise * clipNorm; // std of the noise on the sum
        GaussianNoise noise = GaussianNoise.forRound(settings.seed(), round, UPDATE_NOISE);
        float[] noisy = new float[global.length];
        for (int i = 0; i < noisy.length; i++) {
            double sum = (double) mean[i] * m;
            noisy[i] = (float) ((sum + (sigmaSum == 0 ? 0 : sigmaSum * noise.next())) / expected);
        }
        WeightedMean released = WeightedMean.empty(global.length).add(new ClientUpdate("dp-average", 1, noisy, 0, 0));
        Optional<float[]> next = inner.applyMean(round, global, released, failures);
        float usedClip = clipNorm;
        int changed = 0;
        if (next.isPresent()) {
            float[] v = next.get();
            for (int i = 0; i < v.length; i++) {
                changed += Float.floatToIntBits(v[i]) != Float.floatToIntBits(global[i]) ? 1 : 0;
            }
            if (updateNoise > 0 && changed == 0 && global.length > 0) {
                throw new IllegalStateException(String.format(
                        "DP round %d left the global adapter unchanged although noise is on (noise std on the average"
                                + " %.3g): the server learning rate or the noise is below float resolution, or the"
                                + " adapter is not trained; check server.server_learning_rate and privacy.noise_multiplier",
                        round, sigmaSum / expected));
            }
            if (settings.adaptive() != null) {
                double draw = GaussianNoise.forRound(settings.seed(), round, BIT_NOISE).next();
                clipNorm = settings.adaptive().next(clipNorm, m - clipped, expected, draw);
            }
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        Rdp.Epsilon eps = epsilonAfter(round);
        metrics.put("dp_clip_norm", (double) usedClip);
        metrics.put("dp_clipped_fraction", clipped < 0 || m == 0 ? Double.NaN : (double) clipped / m);
        metrics.put("dp_noise_sigma", sigmaSum / expected);
        metrics.put("dp_epsilon", eps.epsilon());
        metrics.put("dp_order", eps.order());
        metrics.put("dp_changed_fraction", global.length == 0 ? Double.NaN : (double) changed / global.length);
        lastMetrics = Map.copyOf(metrics);
        return next;
    }

    /**
     * The last round's figures: {@code dp_clip_norm}, {@code dp_clipped_fraction} (the exact share of
     * sampled clients clipped: a diagnostic, not itself noised), {@code dp_noise_sigma} (std of the
     * noise on the average), {@code dp_epsilon} and {@code dp_order} (cumulative, at δ), {@code
     * dp_changed_fraction} (share of global coordinates that changed).
     */
    public Map<String, Double> roundMetrics() {
        return lastMetrics;
    }

    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>(inner.state());
        if (settings.adaptive() != null) {
            s.put(CLIP_STATE, new float[] {clipNorm});
        }
        return s;
    }

    @Override
    public long roundsApplied() {
        return inner.roundsApplied();
    }

    @Override
    public void restoreState(Map<String, float[]> state, long roundsApplied) {
        checkNotNull(state, "state");
        Map<String, float[]> rest = new LinkedHashMap<>(state);
        float[] c = rest.remove(CLIP_STATE);
        if (settings.adaptive() != null) {
            checkArgument(c != null && c.length == 1 && c[0] > 0 && Float.isFinite(c[0]),
                    "The checkpoint of %s has no valid %s entry; it was written without adaptive clipping", name(),
                    CLIP_STATE);
            clipNorm = c[0];
        } else {
            checkArgument(c == null, "The checkpoint has a %s entry but adaptive clipping is off", CLIP_STATE);
        }
        inner.restoreState(rest, roundsApplied);
    }

    @Override
    public String toString() {
        return name();
    }
}
