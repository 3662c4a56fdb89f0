package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;

/** Constructor checks whose messages name the YAML key, {@code server.<key>}. */
final class Params {
    private Params() {}

    static double positive(String key, double value) {
        checkArgument(value > 0 && Double.isFinite(value), "Cannot set server.%s to %s: the value must be positive", key, value);
        return value;
    }

    static double nonNegative(String key, double value) {
        checkArgument(
                value >= 0 && Double.isFinite(value), "Cannot set server.%s to %s: the value must be non-negative", key, value);
        return value;
    }

    /** For decay rates: {@code 0 ≤ value < 1}. */
    static double unitInterval(String key, double value) {
        checkArgument(value >= 0 && value < 1, "Cannot set server.%s to %s: the value must be in [0, 1)", key, value);
        return value;
    }

    /** For counts: a non-negative integer (YAML and {@code --set} give doubles). */
    static int count(String key, double value) {
        checkArgument(
                value >= 0 && value == Math.rint(value) && value <= Integer.MAX_VALUE,
                "Cannot set server.%s to %s: the value must be a non-negative integer", key, value);
        return (int) value;
    }
}
