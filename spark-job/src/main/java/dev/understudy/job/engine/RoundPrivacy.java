package dev.understudy.job.engine;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import dev.understudy.ops.federation.ByzantineAttack;
import dev.understudy.ops.federation.ClientFailure;
import dev.understudy.ops.federation.FederatedStrategy;
import dev.understudy.ops.federation.WeightedMean;
import dev.understudy.ops.privacy.AdaptiveClipping;
import dev.understudy.ops.privacy.DpFedAvg;
import dev.understudy.ops.privacy.PoissonSampling;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the round engine does differently with {@code privacy.enabled} (client-level DP-FedAvg) or a
 * simulated {@code attack}: the engine's hooks call this object, which is {@link #OFF} (every hook
 * the identity) otherwise.
 *
 * <ul>
 *   <li>sampling: Poisson with rate q (what the RDP analysis of {@link DpFedAvg} assumes) instead of
 *       the fixed-size sample;
 *   <li>client task: the attack (if any) and then the clipping wrap the method's task, so both run
 *       inside the client task on the executor ({@link AttackClientTask}, {@link ClippingClientTask});
 *   <li>strategy: whatever the method chose ({@link FederatedMethod#strategy}) is wrapped in {@link
 *       DpFedAvg}, which adds the seeded per-round noise to the clipped sum on the driver;
 *   <li>budget: a round that would take ε above {@code privacy.epsilon_budget} is not started.
 * </ul>
 */
public final class RoundPrivacy {
    /** Privacy off and no attack. */
    public static final RoundPrivacy OFF = new RoundPrivacy(null, ByzantineAttack.NONE, null);

    /**
     * DP settings of a run: the {@code privacy.*} keys that {@link DpFedAvg.Settings} does not
     * derive from the sampling ({@code q}, {@code N}) and the seed.
     *
     * @param targetQuantile 0 = fixed clipping
     * @param clipCountNoise 0 = qN / 20
     */
    public record Dp(double clipNorm, double noiseMultiplier, double delta, double epsilonBudget, double targetQuantile,
            double clipLearningRate, double clipCountNoise) {}

    private final Dp dp;
    private final ByzantineAttack attack;
    private final List<int[]> labelResponses;

    /**
     * @param dp DP-FedAvg settings, or null for no DP
     * @param attack the simulated attack ({@link ByzantineAttack#NONE} for none)
     * @param labelResponses label responses for {@code label_flip}, or null
     */
    public RoundPrivacy(Dp dp, ByzantineAttack attack, List<int[]> labelResponses) {
        this.dp = dp;
        this.attack = attack == null ? ByzantineAttack.NONE : attack;
        this.labelResponses = labelResponses;
    }

    public boolean dpOn() {
        return dp != null;
    }

    /** q: clients_per_round / N, or server.fraction. */
    static double samplingRate(int totalClients, RoundEngine.Options o) {
        return o.clientsPerRound() > 0 ? Math.min(1.0, (double) o.clientsPerRound() / totalClients) : o.fraction();
    }

    /** The round's clients: Poisson-sampled with DP on, else the engine's fixed-size sample. */
    List<String> sample(List<String> sortedIds, int round, RoundEngine.Options o) {
        if (dp == null) {
            return RoundEngine.sample(sortedIds, round, o);
        }
        return PoissonSampling.sample(sortedIds, samplingRate(sortedIds.size(), o), o.seed(), round);
    }

    /** The method's chosen strategy, wrapped in DP-FedAvg when DP is on. */
    FederatedStrategy wrap(FederatedStrategy chosen, int totalClients, RoundEngine.Options o) {
        if (dp == null) {
            return chosen;
        }
        double q = samplingRate(totalClients, o);
        AdaptiveClipping adaptive = null;
        if (dp.targetQuantile() > 0) {
            double bitNoise = dp.clipCountNoise() > 0 ? dp.clipCountNoise() : q * totalClients / 20;
            adaptive = new AdaptiveClipping(dp.targetQuantile(), dp.clipLearningRate(), bitNoise);
        }
        return new DpFedAvg(chosen, new DpFedAvg.Settings(dp.clipNorm(), dp.noiseMultiplier(), q, totalClients, dp.delta(),
                dp.epsilonBudget(), o.seed(), adaptive));
    }

    /** The task the executors run this round: attack (if any) inside, clipping (if DP) outside. */
    ClientTask roundTask(ClientTask task, FederatedStrategy strategy, List<String> allClients) {
        ClientTask t = task;
        if (attack.kind() != ByzantineAttack.Kind.NONE && attack.fraction() > 0) {
            t = new AttackClientTask(t, attack, attack.attackers(allClients), labelResponses);
        }
        if (strategy instanceof DpFedAvg d) {
            t = new ClippingClientTask(t, d.clipNorm());
        }
        return t;
    }

    /** Whether round {@code round} may run; false ends the run before it (ε budget). */
    boolean allowsRound(int round, FederatedStrategy strategy) {
        return !(strategy instanceof DpFedAvg d) || d.allowsRound(round);
    }

    /** The line the run prints when the budget ends it. */
    static String budgetMessage(int round, FederatedStrategy strategy) {
        DpFedAvg d = (DpFedAvg) strategy;
        return String.format(Locale.ROOT, "privacy: stopping before round %d: it would take epsilon to %.4f, above"
                + " privacy.epsilon_budget=%s (delta=%s); epsilon after round %d is %.4f. The run ends here with round %d"
                + " as its final adapter; raise the budget or privacy.noise_multiplier to train longer", round,
                d.epsilonAfter(round).epsilon(), d.settings().epsilonBudget(), d.settings().delta(), round - 1,
                d.epsilonAfter(round - 1).epsilon(), round - 1);
    }

    /**
     * A linear round's aggregation: DP-FedAvg's noised release of the clipped sum (noise also when no
     * client took part), else the strategy's own step. Empty when the round keeps the global.
     */
    Optional<float[]> applyMean(FederatedStrategy strategy, int round, float[] global, WeightedMean mean,
            ClientStatistics statistics, List<ClientFailure> failures, boolean tooManyFailures) {
        if (strategy instanceof DpFedAvg d) {
            if (tooManyFailures) {
                return Optional.empty();
            }
            double[] clipped = statistics.get(ClippingClientTask.CLIPPED);
            int c = clipped == null ? 0 : (int) Math.round(clipped[0]);
            checkArgument(clipped != null || mean.count() == 0, "DP round %s: the clients' updates carry no %s"
                    + " statistic, so they were not clipped on the executors", round, ClippingClientTask.CLIPPED);
            return d.applyClippedSum(round, global, mean, c, failures.size());
        }
        return tooManyFailures || mean.count() == 0 ? Optional.empty()
                : strategy.applyMean(round, global, mean, failures.size());
    }

    /** Per-round figures for metrics.jsonl: DP's ({@code dp_*}) and the attack's, empty otherwise. */
    Map<String, Double> roundMetrics(FederatedStrategy strategy, ClientStatistics statistics) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (strategy instanceof DpFedAvg d) {
            m.putAll(d.roundMetrics());
        }
        if (attack.kind() != ByzantineAttack.Kind.NONE && attack.fraction() > 0) {
            double[] a = statistics.get(AttackClientTask.ATTACKERS);
            m.put("attack_clients", a == null ? 0.0 : a[0]);
        }
        return m;
    }

    /** The attackers among {@code clients} (empty without an attack): for logs and tests. */
    public Set<String> attackers(List<String> clients) {
        return attack.attackers(clients);
    }

    public ByzantineAttack attack() {
        return attack;
    }
}
