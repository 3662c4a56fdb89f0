package dev.understudy.job.config;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Writes config trees as block YAML that SnakeYAML reads back to equal values: sections as indented
 * blocks, lists and values inside lists as flow, strings plain when that round-trips and
 * double-quoted otherwise, doubles always with a decimal point.
 */
final class YamlWriter {
    private YamlWriter() {}

    private static final Pattern PLAIN_CANDIDATE = Pattern.compile("[A-Za-z0-9_/][A-Za-z0-9_./:+\\-]*");
    private static final int COMMENT_WIDTH = 96;

    /**
     * @param comments path → comment written above the key, or null for none
     */
    static String write(String header, Map<String, ?> tree, Function<String, String> comments) {
        StringBuilder sb = new StringBuilder(header);
        writeMap(sb, tree, "", 0, comments);
        return sb.toString();
    }

    private static void writeMap(StringBuilder sb, Map<String, ?> map, String prefix, int indent,
            Function<String, String> comments) {
        String pad = " ".repeat(indent);
        for (Map.Entry<String, ?> e : map.entrySet()) {
            String path = prefix + e.getKey();
            Object v = e.getValue();
            if (comments != null) {
                String c = comments.apply(path);
                if (indent == 0 && sb.length() > 0) {
                    sb.append('\n');
                }
                if (c != null) {
                    for (String line : wrap(c, COMMENT_WIDTH - indent)) {
                        sb.append(pad).append("# ").append(line).append('\n');
                    }
                }
            }
            sb.append(pad).append(scalar(e.getKey())).append(':');
            if (v instanceof Map<?, ?> m && !m.isEmpty()) {
                sb.append('\n');
                writeMap(sb, ConfigTree.cast(m), path + ".", indent + 2, comments);
            } else {
                sb.append(' ').append(flow(v)).append('\n');
            }
        }
    }

    /** A value in flow style: {@code null}, {@code 1.0}, {@code [a, b]}, {@code {k: v}}, {@code "x\ny"}. */
    static String flow(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String s) {
            return scalar(s);
        }
        if (v instanceof Double || v instanceof Float) {
            return number(((Number) v).doubleValue());
        }
        if (v instanceof List<?> l) {
            List<String> parts = new ArrayList<>();
            l.forEach(x -> parts.add(flow(x)));
            return "[" + String.join(", ", parts) + "]";
        }
        if (v instanceof Map<?, ?> m) {
            List<String> parts = new ArrayList<>();
            m.forEach((k, x) -> parts.add(scalar(String.valueOf(k)) + ": " + flow(x)));
            return "{" + String.join(", ", parts) + "}";
        }
        return String.valueOf(v); // integers, booleans
    }

    static String number(double d) {
        if (Double.isNaN(d)) {
            return ".nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? ".inf" : "-.inf";
        }
        String s = BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
        return s.contains(".") ? s : s + ".0";
    }

    /** Plain when YAML reads it back as the same string in block and flow context, else double-quoted. */
    static String scalar(String s) {
        if (PLAIN_CANDIDATE.matcher(s).matches() && readsBackAsItself(s)) {
            return s;
        }
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    private static boolean readsBackAsItself(String s) {
        try {
            Object block = ConfigTree.yaml().load("k: " + s);
            Object flow = ConfigTree.yaml().load("[" + s + "]");
            return block instanceof Map<?, ?> m && s.equals(m.get("k")) && flow instanceof List<?> l && l.size() == 1
                    && s.equals(l.get(0));
        } catch (YAMLException e) {
            return false;
        }
    }

    private static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(word);
        }
        if (line.length() > 0) {
            lines.add(line.toString());
        }
        return lines;
    }
}
