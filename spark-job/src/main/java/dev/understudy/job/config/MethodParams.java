package dev.understudy.job.config;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * A method's {@code method_params} bound to its record by the same machinery as every other key:
 * record component {@code kdSteps} is {@code method_params.kd_steps}; unknown keys are rejected with
 * the nearest valid one ("did you mean"), bad values name the key, and both name the file and line
 * (or {@code --set}) the key came from. A method declares its parameters with a {@link Schema},
 * listed in {@code META-INF/services/dev.understudy.job.config.MethodParams$Schema} so that this
 * package (below the methods) finds it when a configuration is loaded.
 */
public final class MethodParams {
    private MethodParams() {}

    /** The section's key. */
    public static final String SECTION = "method_params";

    /** One method's parameters: its record and the defaults of the keys a configuration may leave out. */
    public interface Schema {
        /** The method's {@code method} value, e.g. {@code fedpt}. */
        String method();

        /** The record {@code method_params} binds to (components of the types other config records use). */
        Class<? extends Record> type();

        /** The default of each key by its snake_case name (absent: null). */
        Map<String, Object> defaults();
    }

    /** The schema of {@code method}, if a method on the class path declares one. */
    public static Optional<Schema> schema(String method) {
        for (Schema s : ServiceLoader.load(Schema.class, MethodParams.class.getClassLoader())) {
            if (s.method().equals(method)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** Binds {@code params} (a job's {@code method_params}) to the schema's record. */
    public static <R extends Record> R bind(Schema schema, Map<String, Object> params) {
        ConfigTree tree = new ConfigTree();
        tree.put(SECTION, new java.util.LinkedHashMap<>(params), new ConfigTree.Origin(SECTION, ConfigTree.FIRST_CONF_RANK));
        @SuppressWarnings("unchecked")
        R r = (R) bind(tree, schema);
        return r;
    }

    /** Checks and binds {@code tree}'s {@code method_params} when its method declares a schema ({@link ConfigBinder#bind}). */
    static void check(ConfigTree tree, String method) {
        schema(method).ifPresent(s -> bind(tree, s));
    }

    private static Record bind(ConfigTree tree, Schema schema) {
        Table table = new Table(schema);
        Object section = tree.get(SECTION);
        if (section != null && !(section instanceof Map<?, ?>)) {
            throw Values.typeError(SECTION, section, tree.origin(SECTION), "a section (a map of keys)");
        }
        ConfigBinder.checkKeys(tree, table, SECTION);
        return ConfigBinder.bindRecord(tree, table, schema.type(), SECTION);
    }

    /** The keys of one schema: {@code method_params} and its leaves, for {@link ConfigBinder}. */
    private static final class Table implements KeyTable {
        private final Schema schema;
        private final List<String> names = new ArrayList<>();

        Table(Schema schema) {
            this.schema = schema;
            for (RecordComponent c : schema.type().getRecordComponents()) {
                names.add(ConfigBinder.snake(c.getName()));
            }
        }

        @Override
        public boolean isLeaf(String path) {
            return path.startsWith(SECTION + ".") && names.contains(path.substring(SECTION.length() + 1));
        }

        @Override
        public boolean isSection(String path) {
            return path.equals(SECTION);
        }

        @Override
        public List<String> children(String section) {
            return section.equals(SECTION) ? names : section.isEmpty() ? List.of(SECTION) : List.of();
        }

        @Override
        public List<String> leafPaths() {
            return names.stream().map(n -> SECTION + "." + n).toList();
        }

        @Override
        public Object defaultValue(String path) {
            if (!isLeaf(path)) {
                throw new IllegalStateException("no key " + path + " in the parameters of " + schema.method());
            }
            return schema.defaults().get(path.substring(SECTION.length() + 1));
        }
    }
}
