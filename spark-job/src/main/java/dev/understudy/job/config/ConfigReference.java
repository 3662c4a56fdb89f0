package dev.understudy.job.config;

import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Map;

/**
 * The configuration reference, generated from the same key table the loader uses for record
 * defaults: the text of {@code conf/defaults.yaml} and a Markdown table.
 */
public final class ConfigReference {
    private ConfigReference() {}

    static final String DEFAULTS_HEADER = """
            # Understudy job configuration: every key with its default and meaning.
            #
            # Precedence, lowest first: record defaults < conf/defaults.yaml < each --conf file in order
            #   < --set overrides in order. Maps merge key by key; lists and values are replaced.
            # Unknown keys are errors. Keys marked "Required." have no default.
            #
            # This file is generated from dev.understudy.job.config.ConfigSchema (spark-job); edit the
            # descriptions there and regenerate it with
            #   mvn -pl spark-job -am test -Dtest=DefaultsYamlTest -Dsurefire.failIfNoSpecifiedTests=false \\
            #       -Dunderstudy.regenerate=true
            """;

    /** The text of {@code conf/defaults.yaml}: every key, its record default and a comment. */
    public static String defaultsYaml() {
        return YamlWriter.write(DEFAULTS_HEADER, ConfigSchema.defaultsTree(), ConfigReference::comment);
    }

    /** A Markdown table of every key: key, type, default, description. */
    public static String referenceMarkdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("| Key | Type | Default | Description |\n");
        sb.append("|---|---|---|---|\n");
        for (ConfigSchema.Key k : ConfigSchema.KEYS) {
            String def = k.required() ? "*required*" : "`" + YamlWriter.flow(k.defaultValue()) + "`";
            String description = k.path().equals("partitioning") ? ConfigSchema.SECTIONS.get("partitioning")
                    : k.description();
            sb.append("| `").append(k.path()).append("` | ").append(type(k.path())).append(" | ")
                    .append(cell(def)).append(" | ").append(cell(description)).append(" |\n");
        }
        return sb.toString();
    }

    private static String comment(String path) {
        ConfigSchema.Key key = ConfigSchema.key(path);
        if (path.equals("partitioning")) {
            return ConfigSchema.SECTIONS.get(path);
        }
        return key != null ? key.description() : ConfigSchema.SECTIONS.get(path);
    }

    /** The type of a key, read from the record component that holds it. */
    static String type(String path) {
        Class<?> type = componentType(JobConfig.class, List.of(path.split("\\.")));
        if (type == int.class || type == long.class) {
            return "integer";
        } else if (type == double.class) {
            return "number";
        } else if (type == boolean.class) {
            return "boolean";
        } else if (type == String.class) {
            return "string";
        } else if (type.isEnum()) {
            return "one of " + Values.choices(type);
        } else if (type == List.class) {
            return "list of strings";
        } else if (type == Map.class || type.isRecord()) {
            return "map";
        }
        return type.getSimpleName();
    }

    private static Class<?> componentType(Class<?> record, List<String> path) {
        for (RecordComponent c : record.getRecordComponents()) {
            if (ConfigBinder.snake(c.getName()).equals(path.get(0))) {
                return path.size() == 1 ? c.getType() : componentType(c.getType(), path.subList(1, path.size()));
            }
        }
        throw new IllegalStateException("No record component for key " + String.join(".", path));
    }

    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", "\\n");
    }
}
