package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Creates strategies from the {@code server} section of the job configuration: {@code name} is
 * {@code server.strategy}, {@code params} the other {@code server.*} entries without the prefix.
 * Values may be {@link Number}/{@link Boolean} (YAML) or {@link String} ({@code --set} overrides).
 * Unknown names and keys fail, naming the valid ones.
 */
public final class Strategies {
    private static final String ETA = "eta";
    private static final String BETA_1 = "beta_1";
    private static final String BETA_2 = "beta_2";
    private static final String TAU = "tau";
    private static final String ACCEPT = "accept_failures";
    private static final String SERVER_LR = "server_learning_rate";
    private static final String BYZ = "num_malicious_clients";
    private static final String KEEP = "num_clients_to_keep";

    /** Strategy name → (parameter keys, constructor). */
    private static final Map<String, Spec> SPECS = new LinkedHashMap<>();

    static {
        register("fedavg", List.of(SERVER_LR, ACCEPT), p -> new FedAvg(p.number(SERVER_LR, 1.0), p.flag(ACCEPT, true)));
        register(
                "fedprox",
                List.of("proximal_mu", SERVER_LR, ACCEPT),
                p -> new FedProx(p.required("proximal_mu"), p.number(SERVER_LR, 1.0), p.flag(ACCEPT, true)));
        register(
                "fedavgm",
                List.of(SERVER_LR, "server_momentum", ACCEPT),
                p -> new FedAvgM(p.number(SERVER_LR, 1.0), p.number("server_momentum", 0.0), p.flag(ACCEPT, true)));
        register(
                "fedadagrad",
                List.of(ETA, BETA_1, TAU, ACCEPT),
                p -> new FedAdagrad(p.number(ETA, 1e-1), p.number(BETA_1, 0.0), p.number(TAU, 1e-9), p.flag(ACCEPT, true)));
        register(
                "fedadam",
                List.of(ETA, BETA_1, BETA_2, TAU, ACCEPT),
                p -> new FedAdam(
                        p.number(ETA, 1e-1), p.number(BETA_1, 0.9), p.number(BETA_2, 0.99), p.number(TAU, 1e-9),
                        p.flag(ACCEPT, true)));
        register(
                "fedyogi",
                List.of(ETA, BETA_1, BETA_2, TAU, ACCEPT),
                p -> new FedYogi(
                        p.number(ETA, 1e-2), p.number(BETA_1, 0.9), p.number(BETA_2, 0.99), p.number(TAU, 1e-3),
                        p.flag(ACCEPT, true)));
        register(
                "fedtrimmedavg",
                List.of("beta", ACCEPT),
                p -> new FedTrimmedAvg(p.number("beta", 0.2), p.flag(ACCEPT, true)));
        register("fedmedian", List.of(ACCEPT), p -> new FedMedian(p.flag(ACCEPT, true)));
        register("krum", List.of(BYZ, ACCEPT), p -> new Krum(Params.count(BYZ, p.number(BYZ, 0)), p.flag(ACCEPT, true)));
        register("multikrum", List.of(BYZ, KEEP, ACCEPT), p -> Krum.multi(Params.count(BYZ, p.number(BYZ, 0)), Params.count(KEEP, p.number(KEEP, 0)), p.flag(ACCEPT, true)));
        register("bulyan", List.of(BYZ, ACCEPT), p -> new Bulyan(Params.count(BYZ, p.number(BYZ, 0)), p.flag(ACCEPT, true)));
    }

    private Strategies() {}

    /** The valid strategy names. */
    public static List<String> names() {
        return List.copyOf(SPECS.keySet());
    }

    /** The parameter keys {@code name} accepts, without the {@code server.} prefix. */
    public static List<String> keys(String name) {
        return spec(name).keys();
    }

    /**
     * Creates the strategy {@code name} (case-insensitive) with {@code params}; missing keys take the
     * defaults documented on each strategy class.
     *
     * @throws IllegalArgumentException for an unknown name or key, or an invalid value
     */
    public static FederatedStrategy create(String name, Map<String, ?> params) {
        checkNotNull(params, "params");
        Spec spec = spec(name);
        for (String key : params.keySet()) {
            checkArgument(
                    spec.keys().contains(key),
                    "Unknown parameter server.%s for strategy %s; valid keys: %s.%s",
                    key,
                    spec.name(),
                    spec.keys(),
                    suggestion(key, spec.keys(), "server."));
        }
        return spec.build().apply(new Values(params));
    }

    private static Spec spec(String name) {
        checkNotNull(name, "strategy name");
        Spec spec = SPECS.get(name.trim().toLowerCase(Locale.ROOT));
        checkArgument(
                spec != null,
                "Unknown strategy '%s'; valid strategies: %s.%s",
                name,
                SPECS.keySet(),
                suggestion(name.trim().toLowerCase(Locale.ROOT), SPECS.keySet(), ""));
        return spec;
    }

    private static void register(String name, List<String> keys, Function<Values, FederatedStrategy> build) {
        SPECS.put(name, new Spec(name, keys, build));
    }

    /** " Did you mean X?" for the nearest candidate within a third of the input's length, else "". */
    private static String suggestion(String input, Iterable<String> candidates, String prefix) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            int d = editDistance(input, candidate);
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= Math.max(2, input.length() / 3) ? " Did you mean " + prefix + best + "?" : "";
    }

    /** Levenshtein distance. */
    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }

    private record Spec(String name, List<String> keys, Function<Values, FederatedStrategy> build) {}

    /** Typed access to the raw values, converting Strings from {@code --set}. */
    private record Values(Map<String, ?> raw) {
        double number(String key, double fallback) {
            return raw.containsKey(key) ? parse(key, raw.get(key)) : fallback;
        }

        double required(String key) {
            checkArgument(raw.containsKey(key), "server.%s is required by this strategy and has no default", key);
            return parse(key, raw.get(key));
        }

        boolean flag(String key, boolean fallback) {
            if (!raw.containsKey(key)) {
                return fallback;
            }
            Object value = raw.get(key);
            if (value instanceof Boolean b) {
                return b;
            }
            String s = String.valueOf(value).trim().toLowerCase(Locale.ROOT);
            checkArgument(
                    s.equals("true") || s.equals("false"),
                    "Cannot set server.%s to '%s': the value must be true or false",
                    key,
                    value);
            return Boolean.parseBoolean(s);
        }

        private static double parse(String key, Object value) {
            if (value instanceof Number n) {
                return n.doubleValue();
            }
            checkArgument(value instanceof String, "Cannot set server.%s to %s: the value must be a number", key, value);
            try {
                return Double.parseDouble(((String) value).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        String.format("Cannot set server.%s to '%s': the value must be a number", key, value), e);
            }
        }
    }
}
