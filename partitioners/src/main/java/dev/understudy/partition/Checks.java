package dev.understudy.partition;

import java.util.Locale;

/** Config validation with messages that name the YAML key and the rejected value. */
final class Checks {

    static final String PREFIX = "partitioning.";

    private Checks() {}

    /** "Cannot set partitioning.alpha to -1.0: the value must be > 0". */
    static void check(boolean ok, String key, Object value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(message(key, value, rule));
        }
    }

    static String message(String key, Object value, String rule) {
        return "Cannot set " + PREFIX + key + " to " + render(value) + ": the value must be " + rule;
    }

    static void positive(String key, int value) {
        check(value > 0, key, value, "> 0");
    }

    static void positive(String key, double value) {
        check(value > 0 && Double.isFinite(value), key, value, "> 0 and finite");
    }

    static void nonNegative(String key, int value) {
        check(value >= 0, key, value, ">= 0");
    }

    static void nonNegative(String key, double value) {
        check(value >= 0 && Double.isFinite(value), key, value, ">= 0 and finite");
    }

    /** A fraction of rows to set aside: [0, 1). */
    static void fraction(String key, double value) {
        check(value >= 0 && value < 1, key, value, "in [0, 1)");
    }

    static String key(String key) {
        return PREFIX + key;
    }

    private static String render(Object value) {
        if (value instanceof String s) {
            return "'" + s + "'";
        }
        if (value instanceof Double d) {
            return String.format(Locale.ROOT, "%s", d);
        }
        return String.valueOf(value);
    }
}
