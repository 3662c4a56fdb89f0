package dev.understudy.job.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Converts untyped YAML values ({@code --set} gives strings for anything YAML does not type, such as
 * {@code 2e-4}) to the types of record components, with errors naming key, value and expected type.
 */
final class Values {
    private Values() {}

    static int toInt(String key, Object v, Object origin) {
        long l = toLong(key, v, origin);
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw typeError(key, v, origin, "a 32-bit integer");
        }
        return (int) l;
    }

    static long toLong(String key, Object v, Object origin) {
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Number n) {
            double d = n.doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 0x1p63) {
                return (long) d;
            }
            throw typeError(key, v, origin, "an integer");
        }
        if (v instanceof String s) {
            try {
                return Long.parseLong(s.trim().replace("_", ""));
            } catch (NumberFormatException e) {
                throw typeError(key, v, origin, "an integer");
            }
        }
        throw typeError(key, v, origin, "an integer");
    }

    static double toDouble(String key, Object v, Object origin) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String s) {
            try {
                double d = Double.parseDouble(s.trim());
                if (!s.trim().matches("[-+]?[0-9.]+([eE][-+]?[0-9]+)?")) {
                    throw new NumberFormatException(s); // NaN, Infinity, hex and 1d/1f suffixes are not YAML
                }
                return d;
            } catch (NumberFormatException e) {
                throw typeError(key, v, origin, "a number");
            }
        }
        throw typeError(key, v, origin, "a number");
    }

    static boolean toBoolean(String key, Object v, Object origin) {
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
            return Boolean.parseBoolean(s);
        }
        throw typeError(key, v, origin, "true or false");
    }

    static String toStringValue(String key, Object v, Object origin) {
        if (v == null || v instanceof String) {
            return (String) v;
        }
        throw typeError(key, v, origin, "a string (quote values that YAML reads as numbers, booleans or maps,"
                + " e.g. '\"{text}\"')");
    }

    static <E extends Enum<E>> E toEnum(String key, Object v, Object origin, Class<E> type) {
        if (v == null) {
            return null;
        }
        if (v instanceof String s) {
            String name = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            for (E e : type.getEnumConstants()) {
                if (e.name().equals(name)) {
                    return e;
                }
            }
        }
        throw typeError(key, v, origin, "one of " + choices(type));
    }

    static String choices(Class<?> enumType) {
        List<String> names = new ArrayList<>();
        for (Object e : enumType.getEnumConstants()) {
            names.add(((Enum<?>) e).name().toLowerCase(Locale.ROOT));
        }
        return String.join(", ", names);
    }

    /** A list of strings; a plain string is split on commas ({@code --set k=a,b}). */
    static List<String> toStringList(String key, Object v, Object origin) {
        if (v == null) {
            return null;
        }
        List<String> out = new ArrayList<>();
        if (v instanceof List<?> list) {
            for (Object e : list) {
                if (!(e instanceof String s)) {
                    throw typeError(key, v, origin, "a list of strings");
                }
                out.add(s);
            }
            return out;
        }
        if (v instanceof String s) {
            for (String part : s.split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
            return out;
        }
        throw typeError(key, v, origin, "a list of strings, e.g. [q_proj, v_proj]");
    }

    /** A map of label → word; labels may be YAML numbers or booleans, words strings or numbers. */
    static Map<String, String> toStringMap(String key, Object v, Object origin) {
        if (v == null) {
            return Map.of();
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw typeError(key, v, origin, "a map, e.g. {0: \" negative\", 1: \" positive\"}");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            Object word = e.getValue();
            if (!(word instanceof String || word instanceof Number)) {
                throw typeError(key + "." + e.getKey(), word, origin, "a string");
            }
            out.put(String.valueOf(e.getKey()), String.valueOf(word));
        }
        return out;
    }

    static Map<String, Object> toMap(String key, Object v, Object origin) {
        if (v == null) {
            return Map.of();
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw typeError(key, v, origin, "a map");
        }
        return Checks.freeze(map);
    }

    static ConfigException typeError(String key, Object v, Object origin, String expected) {
        return new ConfigException("Cannot set " + key + " to " + describe(v) + from(origin) + ": expected " + expected);
    }

    static String from(Object origin) {
        return origin == null || origin == ConfigTree.Origin.RECORD_DEFAULT ? "" : " (from " + origin + ")";
    }

    /** The value as the user wrote it, with its YAML type when that is not obvious. */
    static String describe(Object v) {
        if (v instanceof String s) {
            return "'" + s + "'";
        }
        if (v instanceof Map<?, ?>) {
            return "a map " + v;
        }
        if (v instanceof List<?>) {
            return "a list " + v;
        }
        return String.valueOf(v);
    }
}
