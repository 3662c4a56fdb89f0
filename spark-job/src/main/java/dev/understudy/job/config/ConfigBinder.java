package dev.understudy.job.config;

import dev.understudy.partition.PartitioningConfig;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Binds a merged {@link ConfigTree} to the {@link JobConfig} records and back. Record component
 * {@code fooBar} of the section at {@code p} is the key {@code p.foo_bar}; a key absent from the
 * tree takes its {@link ConfigSchema} default.
 */
final class ConfigBinder {
    private ConfigBinder() {}

    private static final Pattern KEY_IN_MESSAGE =
            Pattern.compile("(?:Cannot set|Missing required key|Missing key|Unknown key) ([A-Za-z0-9_.]+)");

    // ---- unknown keys ----

    /** Rejects keys the job schema does not know, outside the opaque maps. */
    static void checkKeys(ConfigTree tree) {
        checkKeys(tree, ConfigSchema.TABLE);
    }

    /** Rejects keys {@code table} does not know, outside the opaque maps. */
    static void checkKeys(ConfigTree tree, KeyTable table) {
        checkSection(tree, table, "", tree.root);
    }

    /** Rejects keys {@code table} does not know inside {@code section} (a map, when present). */
    static void checkKeys(ConfigTree tree, KeyTable table, String section) {
        if (tree.get(section) instanceof Map<?, ?> map) {
            checkSection(tree, table, section, ConfigTree.cast(map));
        }
    }

    private static void checkSection(ConfigTree tree, KeyTable table, String section, Map<String, Object> map) {
        for (Map.Entry<String, Object> e : map.entrySet()) {
            String path = section.isEmpty() ? e.getKey() : section + "." + e.getKey();
            if (table.isLeaf(path)) {
                continue;
            }
            if (!table.isSection(path)) {
                throw unknownKey(tree, table, section, e.getKey(), path);
            }
            if (e.getValue() instanceof Map<?, ?> sub) {
                checkSection(tree, table, path, ConfigTree.cast(sub));
            } else if (e.getValue() != null) {
                throw Values.typeError(path, e.getValue(), tree.origin(path), "a section (a map of keys)");
            }
        }
    }

    private static ConfigException unknownKey(ConfigTree tree, KeyTable table, String section, String name,
            String path) {
        List<String> siblings = table.children(section);
        String prefix = section.isEmpty() ? "" : section + ".";
        String best = Suggestions.nearest(name, siblings);
        String suggestion = prefix + best;
        // A key of the same name in another section beats a distant sibling (top-level "lr" → client.lr).
        if (Suggestions.score(name, best) > 2) {
            for (String k : table.leafPaths()) {
                String leaf = k.substring(k.lastIndexOf('.') + 1);
                if (Suggestions.score(name, leaf) == 0) {
                    suggestion = k;
                    break;
                }
            }
        }
        String where = section.isEmpty() ? "Valid top-level keys: " : "Valid keys in '" + section + "': ";
        return new ConfigException("Unknown config key '" + path + "'" + Values.from(tree.origin(path))
                + "; did you mean '" + suggestion + "'? " + where + String.join(", ", siblings));
    }

    // ---- tree → records ----

    static JobConfig bind(ConfigTree tree) {
        resolveExclusive(tree, "client.local_steps", "client.local_epochs");
        KeyTable t = ConfigSchema.TABLE;
        DataConfig data = bindRecord(tree, t, DataConfig.class, "data");
        ModelConfig model = bindRecord(tree, t, ModelConfig.class, "model");
        ClientConfig client = bindRecord(tree, t, ClientConfig.class, "client");
        ServerConfig server = bindRecord(tree, t, ServerConfig.class, "server");
        OutputConfig output = bindRecord(tree, t, OutputConfig.class, "output");
        long seed = (Long) leaf(tree, t, "seed", long.class);
        String method = (String) leaf(tree, t, "method", String.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> methodParams = (Map<String, Object>) leaf(tree, t, "method_params", Map.class);
        MethodParams.check(tree, method); // a method's declared parameters, bound as every other key
        PartitioningConfig partitioning = bindPartitioning(tree, data, seed);
        PrivacyConfig privacy = bindRecord(tree, t, PrivacyConfig.class, "privacy");
        AttackConfig attack = bindRecord(tree, t, AttackConfig.class, "attack");
        try {
            return new JobConfig(data, partitioning, model, client, server, output, seed, method, methodParams, privacy,
                    attack);
        } catch (IllegalArgumentException e) {
            throw withOrigin(tree, e, "");
        }
    }

    /**
     * When both keys are positive and were set by different layers, the higher layer's key wins and
     * the other becomes 0; within one layer the record reports the conflict.
     */
    private static void resolveExclusive(ConfigTree tree, String a, String b) {
        Long va = lenientLong(raw(tree, ConfigSchema.TABLE, a));
        Long vb = lenientLong(raw(tree, ConfigSchema.TABLE, b));
        if (va == null || vb == null || va <= 0 || vb <= 0) {
            return;
        }
        ConfigTree.Origin oa = origin(tree, a);
        ConfigTree.Origin ob = origin(tree, b);
        if (oa.rank() < ob.rank()) {
            tree.put(a, 0, new ConfigTree.Origin(b + " set by " + ob, ob.rank()));
        } else if (ob.rank() < oa.rank()) {
            tree.put(b, 0, new ConfigTree.Origin(a + " set by " + oa, oa.rank()));
        }
    }

    private static Long lenientLong(Object v) {
        try {
            return v == null ? null : Values.toLong("", v, null);
        } catch (ConfigException e) {
            return null; // reported with its key when the record is bound
        }
    }

    /** Binds the section at {@code prefix} to record {@code type}; absent keys take their {@code table} default. */
    static <R extends Record> R bindRecord(ConfigTree tree, KeyTable table, Class<R> type, String prefix) {
        RecordComponent[] components = type.getRecordComponents();
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            String path = prefix + "." + snake(c.getName());
            types[i] = c.getType();
            if (c.getType().isRecord()) {
                args[i] = bindRecord(tree, table, c.getType().asSubclass(Record.class), path);
            } else {
                args[i] = convert(tree, table, path, c.getGenericType(), c.getType());
            }
        }
        try {
            Constructor<R> ctor = type.getDeclaredConstructor(types);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof IllegalArgumentException iae) {
                throw withOrigin(tree, iae, prefix);
            }
            throw new IllegalStateException("Cannot construct " + type.getSimpleName(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Cannot construct " + type.getSimpleName(), e);
        }
    }

    /** One leaf converted to {@code type}; absent keys take their {@code table} default. */
    static Object leaf(ConfigTree tree, KeyTable table, String path, Class<?> type) {
        return convert(tree, table, path, type, type);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object convert(ConfigTree tree, KeyTable table, String path, Type generic, Class<?> type) {
        Object v = raw(tree, table, path);
        ConfigTree.Origin o = origin(tree, path);
        if (type == int.class) {
            return Values.toInt(path, v, o);
        } else if (type == long.class) {
            return Values.toLong(path, v, o);
        } else if (type == double.class) {
            return Values.toDouble(path, v, o);
        } else if (type == boolean.class) {
            return Values.toBoolean(path, v, o);
        } else if (type == String.class) {
            return Values.toStringValue(path, v, o);
        } else if (type.isEnum()) {
            return Values.toEnum(path, v, o, (Class<Enum>) type);
        } else if (type == List.class) {
            return Values.toStringList(path, v, o);
        } else if (type == Map.class) {
            boolean stringValues = generic instanceof ParameterizedType p && p.getActualTypeArguments()[1] == String.class;
            return stringValues ? Values.toStringMap(path, v, o) : Values.toMap(path, v, o);
        }
        throw new IllegalStateException("No conversion for " + path + " of type " + generic);
    }

    private static PartitioningConfig bindPartitioning(ConfigTree tree, DataConfig data, long seed) {
        Object v = tree.get("partitioning");
        if (v == null) {
            return null;
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw Values.typeError("partitioning", v, tree.origin("partitioning"), "a section (a map of keys)");
        }
        Map<String, Object> section = new LinkedHashMap<>(ConfigTree.cast(map));
        section.putIfAbsent("seed", seed);
        if (data.kind() == DataConfig.Kind.CLASSIFICATION) {
            section.putIfAbsent("label_column", data.labelColumn());
        }
        if (data.rowKeyColumn() != null) {
            section.putIfAbsent("row_key_column", data.rowKeyColumn());
        }
        try {
            return PartitioningConfig.fromMap(section);
        } catch (IllegalArgumentException e) {
            throw withOrigin(tree, e, "partitioning");
        }
    }

    private static Object raw(ConfigTree tree, KeyTable table, String path) {
        if (tree.has(path)) {
            return tree.get(path);
        }
        return table.defaultValue(path);
    }

    private static ConfigTree.Origin origin(ConfigTree tree, String path) {
        return tree.has(path) ? tree.origin(path) : ConfigTree.Origin.RECORD_DEFAULT;
    }

    /**
     * The record's message with the section prefix completed ({@code lora.rank} → {@code
     * model.lora.rank}, for records of other modules) and the origin of the key it names.
     */
    static ConfigException withOrigin(ConfigTree tree, IllegalArgumentException e, String prefix) {
        String msg = String.valueOf(e.getMessage());
        int dot = prefix.lastIndexOf('.');
        if (dot >= 0) {
            String shortPrefix = prefix.substring(dot + 1) + ".";
            msg = msg.replace(" " + shortPrefix, " " + prefix + ".");
        }
        Matcher m = KEY_IN_MESSAGE.matcher(msg);
        if (m.find()) {
            String key = m.group(1);
            msg = msg + Values.from(origin(tree, key));
        }
        return new ConfigException(msg, e);
    }

    // ---- records → tree ----

    static Map<String, Object> toMap(Record r) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Object v;
            try {
                v = c.getAccessor().invoke(r);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("Cannot read " + c.getName(), e);
            }
            out.put(snake(c.getName()), plain(v));
        }
        return out;
    }

    private static Object plain(Object v) {
        if (v instanceof PartitioningConfig p) {
            return partitioningMap(p);
        }
        if (v instanceof Record r) {
            return toMap(r);
        }
        if (v instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT);
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(x -> out.add(plain(x)));
            return out;
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), plain(x)));
            return out;
        }
        return v;
    }

    /** The partitioning section with every default of {@link PartitioningConfig} filled in. */
    private static Map<String, Object> partitioningMap(PartitioningConfig p) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", p.partitioner().type());
        Map<String, Object> params = new TreeMap<>(p.partitioner().parameters());
        if (params.containsKey("num_clients")) {
            out.put("num_clients", params.remove("num_clients"));
        }
        params.forEach((k, v) -> out.put(k, plain(v)));
        out.put("seed", p.seed());
        out.put("eval_fraction", p.evalFraction());
        out.put("holdout_fraction", p.holdoutFraction());
        out.put("row_key_column", p.rowKeyColumn());
        out.put("label_column", p.labelColumn());
        return out;
    }

    /** {@code targetModules} → {@code target_modules}. */
    static String snake(String camel) {
        StringBuilder sb = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                sb.append('_').append(Character.toLowerCase(ch));
            } else {
                sb.append(ch);
            }
        }
        return sb.toString();
    }
}
