package dev.understudy.partition;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads typed values out of a {@code partitioning} section given as a map (YAML numbers, booleans and
 * lists, or the strings of {@code --set key=value}), with errors that name the key.
 */
final class ConfigValues {

    static final long DEFAULT_SEED = 42;

    /** Keys that {@link PartitioningConfig} owns; every type accepts them. */
    static final Set<String> SECTION_KEYS =
            Set.of("type", "seed", "eval_fraction", "holdout_fraction", "row_key_column", "label_column");

    private static final Map<String, Set<String>> TYPE_KEYS = Map.of(
            IidConfig.TYPE, Set.of("num_clients", "size_weights"),
            DirichletConfig.TYPE, Set.of("num_clients", "alpha", "min_size", "max_resamples", "self_balancing"),
            PathologicalConfig.TYPE, Set.of("num_clients", "labels_per_client"),
            SizeConfig.TYPE, Set.of("num_clients", "distribution", "exponent", "sigma", "min_size"),
            NaturalIdConfig.TYPE, Set.of("id_column"),
            GroupedNaturalIdConfig.TYPE, Set.of("id_column", "num_clients"),
            InnerDirichletConfig.TYPE, Set.of("num_clients", "alpha", "size_weights"),
            GroupedDirichletConfig.TYPE, Set.of("group_column", "num_clients", "alpha", "min_size"));

    private final Map<String, ?> values;

    ConfigValues(Map<String, ?> values) {
        this.values = new LinkedHashMap<>(values);
    }

    static PartitionerConfig parsePartitioner(ConfigValues v) {
        String type = v.requiredString("type");
        Set<String> keys = TYPE_KEYS.get(type);
        if (keys == null) {
            throw new IllegalArgumentException(Checks.message("type", type, "one of " + PartitionerConfig.TYPES));
        }
        v.rejectUnknown(type, keys);
        long seed = v.optionalLong("seed", DEFAULT_SEED);
        return switch (type) {
            case IidConfig.TYPE -> new IidConfig(v.requiredInt("num_clients", type), v.doubles("size_weights"), seed);
            case DirichletConfig.TYPE -> new DirichletConfig(v.requiredInt("num_clients", type),
                    v.optionalDouble("alpha", 0.5), v.optionalInt("min_size", 10), v.optionalInt("max_resamples", 10),
                    v.optionalBoolean("self_balancing", false), seed);
            case PathologicalConfig.TYPE -> new PathologicalConfig(v.requiredInt("num_clients", type),
                    v.optionalInt("labels_per_client", 2), seed);
            case SizeConfig.TYPE -> parseSize(v, type, seed);
            case NaturalIdConfig.TYPE -> new NaturalIdConfig(v.requiredString("id_column", type), seed);
            case GroupedNaturalIdConfig.TYPE -> new GroupedNaturalIdConfig(v.requiredString("id_column", type),
                    v.requiredInt("num_clients", type), seed);
            case InnerDirichletConfig.TYPE -> new InnerDirichletConfig(v.requiredInt("num_clients", type),
                    v.optionalDouble("alpha", 0.5), v.doubles("size_weights"), seed);
            case GroupedDirichletConfig.TYPE -> new GroupedDirichletConfig(v.requiredString("group_column", type),
                    v.requiredInt("num_clients", type), v.optionalDouble("alpha", 0.5), v.optionalInt("min_size", 10), seed);
            default -> throw new IllegalStateException("unhandled type " + type);
        };
    }

    private static SizeConfig parseSize(ConfigValues v, String type, long seed) {
        SizeConfig.Distribution d = SizeConfig.Distribution.parse(v.optionalString("distribution", "power_law"));
        if (d == SizeConfig.Distribution.POWER_LAW && v.has("sigma")) {
            throw new IllegalArgumentException("partitioning.sigma applies only to distribution log_normal;"
                    + " use partitioning.exponent for power_law");
        }
        if (d == SizeConfig.Distribution.LOG_NORMAL && v.has("exponent")) {
            throw new IllegalArgumentException("partitioning.exponent applies only to distribution power_law;"
                    + " use partitioning.sigma for log_normal");
        }
        // The parameter of the other distribution stays 0, as in SizeConfig.powerLaw / logNormal.
        boolean powerLaw = d == SizeConfig.Distribution.POWER_LAW;
        return new SizeConfig(v.requiredInt("num_clients", type), d, powerLaw ? v.optionalDouble("exponent", 1.0) : 0,
                powerLaw ? 0 : v.optionalDouble("sigma", 1.0), v.optionalInt("min_size", 1), seed);
    }

    static void checkSizeWeights(List<Double> weights, int numClients) {
        if (weights.isEmpty()) {
            return;
        }
        if (weights.size() != numClients) {
            throw new IllegalArgumentException("Cannot set partitioning.size_weights to a list of " + weights.size()
                    + " values: partitioning.num_clients is " + numClients + "; give one weight per client, or none for equal sizes");
        }
        for (int i = 0; i < weights.size(); i++) {
            Double w = weights.get(i);
            Checks.check(w != null && w > 0 && Double.isFinite(w), "size_weights[" + i + "]", w, "> 0 and finite");
        }
    }

    boolean has(String key) {
        return values.containsKey(key);
    }

    void rejectUnknown(String type, Set<String> typeKeys) {
        for (String key : values.keySet()) {
            if (!SECTION_KEYS.contains(key) && !typeKeys.contains(key)) {
                Set<String> known = new TreeSet<>(typeKeys);
                known.addAll(SECTION_KEYS);
                throw new IllegalArgumentException("Unknown key partitioning." + key + " for type '" + type
                        + "'; known keys: " + known);
            }
        }
    }

    String requiredString(String key) {
        Object v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException("Missing key partitioning." + key + "; set it to one of " + PartitionerConfig.TYPES);
        }
        return v.toString().trim();
    }

    String requiredString(String key, String type) {
        Object v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException("Missing key partitioning." + key + ", which type '" + type + "' requires");
        }
        return v.toString().trim();
    }

    String optionalString(String key, String fallback) {
        Object v = values.get(key);
        return v == null ? fallback : v.toString().trim();
    }

    int requiredInt(String key, String type) {
        if (!values.containsKey(key)) {
            throw new IllegalArgumentException("Missing key partitioning." + key + ", which type '" + type + "' requires");
        }
        return optionalInt(key, 0);
    }

    int optionalInt(String key, int fallback) {
        long v = optionalLong(key, fallback);
        Checks.check(v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE, key, v, "a 32-bit integer");
        return (int) v;
    }

    long optionalLong(String key, long fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Number n) {
            double d = n.doubleValue();
            Checks.check(d == Math.rint(d) && Math.abs(d) < 0x1p63, key, v, "an integer");
            return (long) d;
        }
        try {
            return Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(Checks.message(key, v.toString(), "an integer"), e);
        }
    }

    double optionalDouble(String key, double fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        return toDouble(key, v);
    }

    boolean optionalBoolean(String key, boolean fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().trim();
        if (s.equals("true") || s.equals("false")) {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException(Checks.message(key, s, "true or false"));
    }

    /** A list of numbers: a YAML list, or a comma-separated string ("1,2,3", optionally in brackets). */
    List<Double> doubles(String key) {
        Object v = values.get(key);
        List<Double> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v instanceof List<?> list) {
            for (Object e : list) {
                out.add(toDouble(key, e));
            }
            return out;
        }
        String s = v.toString().trim();
        if (s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1);
        }
        if (s.isBlank()) {
            return out;
        }
        for (String part : s.split(",")) {
            out.add(toDouble(key, part.trim()));
        }
        return out;
    }

    private static double toDouble(String key, Object v) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        try {
            return Double.parseDouble(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(Checks.message(key, v.toString(), "a number"), e);
        }
    }
}
