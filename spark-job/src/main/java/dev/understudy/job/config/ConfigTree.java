package dev.understudy.job.config;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * The merged, still untyped configuration: nested maps with string keys, plus where each key was
 * last set (file and line, or {@code --set} argument) and the rank of that layer.
 */
final class ConfigTree {

    /** Where a key's value came from; a higher rank is a higher-precedence layer. */
    record Origin(String where, int rank) {
        static final Origin RECORD_DEFAULT = new Origin("record default", 0);

        @Override
        public String toString() {
            return where;
        }
    }

    static final int DEFAULTS_FILE_RANK = 1;
    static final int FIRST_CONF_RANK = 2;
    static final int FIRST_SET_RANK = 1_000_000;

    final Map<String, Object> root = new LinkedHashMap<>();
    private final Map<String, Origin> origins = new HashMap<>();

    /** Origin of a key, or of its nearest enclosing key that has one; record default if none. */
    Origin origin(String path) {
        for (String p = path; ; p = p.substring(0, p.lastIndexOf('.'))) {
            Origin o = origins.get(p);
            if (o != null) {
                return o;
            }
            if (p.indexOf('.') < 0) {
                return Origin.RECORD_DEFAULT;
            }
        }
    }

    /** Whether the key is present (possibly with a null value). */
    boolean has(String path) {
        Map<String, Object> m = root;
        String[] parts = path.split("\\.");
        for (int i = 0; i < parts.length - 1; i++) {
            if (!(m.get(parts[i]) instanceof Map<?, ?> next)) {
                return false;
            }
            m = cast(next);
        }
        return m.containsKey(parts[parts.length - 1]);
    }

    Object get(String path) {
        Map<String, Object> m = root;
        String[] parts = path.split("\\.");
        for (int i = 0; i < parts.length - 1; i++) {
            if (!(m.get(parts[i]) instanceof Map<?, ?> next)) {
                return null;
            }
            m = cast(next);
        }
        return m.get(parts[parts.length - 1]);
    }

    /** Sets a value as a higher layer would (used when one exclusive key overrides another). */
    void put(String path, Object value, Origin origin) {
        String[] parts = path.split("\\.");
        Map<String, Object> m = root;
        for (int i = 0; i < parts.length - 1; i++) {
            Object next = m.get(parts[i]);
            if (!(next instanceof Map<?, ?>)) {
                next = new LinkedHashMap<String, Object>();
                m.put(parts[i], next);
            }
            m = cast(next);
        }
        m.put(parts[parts.length - 1], value);
        origins.put(path, origin);
    }

    /** Deep-merges a YAML file as the layer of the given rank. */
    void mergeFile(Path file, int rank) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("Cannot read config file " + file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read config file " + file, e);
        }
        mergeText(text, file.toString(), rank);
    }

    /** Deep-merges YAML text read from {@code source} as the layer of the given rank. */
    void mergeText(String text, String source, int rank) {
        Object doc;
        Map<String, Integer> lines = new HashMap<>();
        try {
            doc = yaml().load(text);
            Node node = yaml().compose(new StringReader(text));
            collectLines(node, "", lines);
        } catch (YAMLException e) {
            throw new ConfigException("Cannot parse config file " + source + ": " + e.getMessage(), e);
        }
        if (doc == null) {
            return;
        }
        if (!(doc instanceof Map<?, ?> map)) {
            throw new ConfigException("Cannot read config file " + source + ": the top level must be a map of sections"
                    + " (data:, model:, ...), found " + Values.describe(doc));
        }
        merge(root, map, "", path -> new Origin(
                lines.containsKey(path) ? source + " line " + lines.get(path) : source, rank));
    }

    /** Applies {@code key=value}, the value parsed as YAML (plain text when it is not valid YAML). */
    void applySet(String expression, int rank) {
        int eq = expression.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException("Cannot parse --set '" + expression + "': expected key=value, e.g. --set client.lr=1e-4");
        }
        String key = expression.substring(0, eq).trim();
        String text = expression.substring(eq + 1);
        if (key.isEmpty() || key.startsWith(".") || key.endsWith(".") || key.contains("..")) {
            throw new ConfigException("Cannot parse --set '" + expression + "': '" + key + "' is not a dotted key");
        }
        Object value;
        try {
            value = yaml().load(text);
        } catch (YAMLException e) {
            value = text; // e.g. a template such as "{text} Label:" that is not valid YAML
        }
        Origin origin = new Origin("--set " + expression, rank);
        String[] parts = key.split("\\.");
        Map<String, Object> m = root;
        for (int i = 0; i < parts.length - 1; i++) {
            Object next = m.get(parts[i]);
            if (next == null) {
                next = new LinkedHashMap<String, Object>();
                m.put(parts[i], next);
            } else if (!(next instanceof Map<?, ?>)) {
                String section = String.join(".", List.of(parts).subList(0, i + 1));
                throw new ConfigException("Cannot apply --set " + expression + ": " + section + " is a value ("
                        + Values.describe(next) + "), not a section");
            }
            m = cast(next);
        }
        String last = parts[parts.length - 1];
        Map<String, Object> single = new LinkedHashMap<>();
        single.put(last, value);
        String prefix = parts.length == 1 ? "" : key.substring(0, key.length() - last.length());
        merge(m, single, prefix, path -> origin, true);
    }

    private void merge(Map<String, Object> base, Map<?, ?> overlay, String prefix, Function<String, Origin> origin) {
        merge(base, overlay, prefix, origin, false);
    }

    /**
     * Merges {@code overlay} into {@code base}: maps recursively, anything else replaced. With
     * {@code replaceMaps}, a map value replaces instead of merging ({@code --set a={...}} means "this").
     */
    private void merge(Map<String, Object> base, Map<?, ?> overlay, String prefix,
            Function<String, Origin> origin, boolean replaceMaps) {
        for (Map.Entry<?, ?> e : overlay.entrySet()) {
            String k = String.valueOf(e.getKey());
            String path = prefix + k;
            Object v = e.getValue();
            if (!replaceMaps && v instanceof Map<?, ?> vm && base.get(k) instanceof Map<?, ?> bm) {
                origins.putIfAbsent(path, origin.apply(path));
                merge(cast(bm), vm, path + ".", origin, false);
                continue;
            }
            origins.keySet().removeIf(p -> p.startsWith(path + "."));
            base.put(k, copy(v, path, origin));
            origins.put(path, origin.apply(path));
        }
    }

    private Object copy(Object v, String path, Function<String, Origin> origin) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String p = path + "." + e.getKey();
                out.put(String.valueOf(e.getKey()), copy(e.getValue(), p, origin));
                origins.put(p, origin.apply(p));
            }
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(x -> out.add(copy(x, path, origin)));
            return out;
        }
        return v;
    }

    private static void collectLines(Node node, String prefix, Map<String, Integer> lines) {
        if (node instanceof MappingNode mapping) {
            for (NodeTuple t : mapping.getValue()) {
                if (t.getKeyNode() instanceof ScalarNode key) {
                    String path = prefix + key.getValue();
                    lines.put(path, key.getStartMark().getLine() + 1);
                    collectLines(t.getValueNode(), path + ".", lines);
                }
            }
        }
    }

    /** A YAML reader that builds only plain maps, lists and scalars and rejects duplicate keys. */
    static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(20);
        return new Yaml(new SafeConstructor(options));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> cast(Object map) {
        return (Map<String, Object>) map;
    }
}
