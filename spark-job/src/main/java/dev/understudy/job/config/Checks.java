package dev.understudy.job.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Validation helpers whose messages name the full dotted key and the rejected value. */
final class Checks {
    private Checks() {}

    /** Throws "Cannot set {key} to {value}: the value must be {rule}" unless {@code ok}. */
    static void check(boolean ok, String key, Object value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("Cannot set " + key + " to " + render(value) + ": the value must be " + rule);
        }
    }

    static void positive(String key, int value) {
        check(value > 0, key, value, "positive");
    }

    static void positive(String key, double value) {
        check(value > 0 && Double.isFinite(value), key, value, "positive");
    }

    static void nonNegative(String key, long value) {
        check(value >= 0, key, value, ">= 0");
    }

    static void nonNegative(String key, double value) {
        check(value >= 0 && Double.isFinite(value), key, value, ">= 0");
    }

    static void unitInterval(String key, double value) {
        check(value >= 0 && value <= 1, key, value, "in [0, 1]");
    }

    static String required(String key, String value, String example) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("Missing required key " + key + "; set it in a --conf file or with --set "
                    + key + "=" + example);
        }
        return value;
    }

    /** A column name or other identifier: null allowed only when {@code nullable}, never blank. */
    static void name(String key, String value, boolean nullable) {
        check(value != null ? !value.isBlank() : nullable, key, value, nullable ? "null or a non-blank string"
                : "a non-blank string");
    }

    static <T> T notNull(String key, T value, String rule) {
        check(value != null, key, null, rule);
        return value;
    }

    static String render(Object value) {
        return value instanceof String s ? "'" + s + "'" : String.valueOf(value);
    }

    /** An unmodifiable deep copy of a free-form map (null values allowed, keys as strings). */
    static Map<String, Object> freeze(Map<?, ?> map) {
        if (map == null) {
            return Map.of();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(String.valueOf(k), freezeValue(v)));
        return Collections.unmodifiableMap(out);
    }

    private static Object freezeValue(Object v) {
        if (v instanceof Map<?, ?> m) {
            return freeze(m);
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(e -> out.add(freezeValue(e)));
            return Collections.unmodifiableList(out);
        }
        return v;
    }
}
