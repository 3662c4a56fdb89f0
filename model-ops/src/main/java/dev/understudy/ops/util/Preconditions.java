package dev.understudy.ops.util;

/**
 * Argument and state checks for public boundaries. Messages are {@link String#format} templates so
 * that they carry the offending values, e.g. {@code checkArgument(rank > 0, "Cannot set lora.rank
 * to %s, the value must be positive", rank)}.
 */
public final class Preconditions {
    private Preconditions() {}

    /** Throws {@link IllegalArgumentException} with the formatted message when {@code condition} is false. */
    public static void checkArgument(boolean condition, String template, Object... args) {
        if (!condition) {
            throw new IllegalArgumentException(String.format(template, args));
        }
    }

    /** Throws {@link IllegalStateException} with the formatted message when {@code condition} is false. */
    public static void checkState(boolean condition, String template, Object... args) {
        if (!condition) {
            throw new IllegalStateException(String.format(template, args));
        }
    }

    /** Returns {@code value} or throws {@link NullPointerException} naming {@code what}. */
    public static <T> T checkNotNull(T value, String what) {
        if (value == null) {
            throw new NullPointerException(what + " must not be null");
        }
        return value;
    }
}
