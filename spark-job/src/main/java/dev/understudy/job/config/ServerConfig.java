package dev.understudy.job.config;

import java.util.Map;

/**
 * The {@code server} section: client selection and aggregation.
 *
 * @param strategy {@code server.strategy}: aggregation strategy name
 * @param strategyParams {@code server.strategy_params}: free-form parameters, validated by the
 *     strategy factory
 * @param rounds {@code server.rounds}: federated rounds
 * @param clientsPerRound {@code server.clients_per_round}: clients sampled per round (0 = use fraction)
 * @param fraction {@code server.fraction}: share of clients sampled per round, in (0, 1]
 * @param minClients {@code server.min_clients}: fewest successful clients a round may aggregate
 * @param acceptFailures {@code server.accept_failures}: aggregate the successful clients when some fail
 * @param evalEvery {@code server.eval_every}: evaluate every this many rounds (0 = never)
 * @param maxFailedFraction {@code server.max_failed_fraction}: largest tolerated share of failed
 *     clients in a round
 * @param collectBudgetMb {@code server.collect_budget_mb}: driver memory (MiB) a strategy that needs
 *     every client update may fill with one round's updates (0 = a quarter of the driver's max heap)
 */
public record ServerConfig(String strategy, Map<String, Object> strategyParams, int rounds, int clientsPerRound,
        double fraction, int minClients, boolean acceptFailures, int evalEvery, double maxFailedFraction,
        long collectBudgetMb) {

    public ServerConfig {
        Checks.name("server.strategy", strategy, false);
        strategyParams = Checks.freeze(strategyParams);
        Checks.positive("server.rounds", rounds);
        Checks.nonNegative("server.clients_per_round", clientsPerRound);
        Checks.check(fraction > 0 && fraction <= 1, "server.fraction", fraction, "in (0, 1]");
        Checks.positive("server.min_clients", minClients);
        Checks.check(clientsPerRound == 0 || clientsPerRound >= minClients, "server.clients_per_round",
                clientsPerRound, "0 or >= server.min_clients (" + minClients + ")");
        Checks.nonNegative("server.eval_every", evalEvery);
        Checks.unitInterval("server.max_failed_fraction", maxFailedFraction);
        Checks.check(collectBudgetMb >= 0, "server.collect_budget_mb", collectBudgetMb, ">= 0");
    }
}
