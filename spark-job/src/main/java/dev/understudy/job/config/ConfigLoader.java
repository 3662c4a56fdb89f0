package dev.understudy.job.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Loads a {@link JobConfig} from layered YAML files and {@code --set} overrides (precedence: see
 * {@link JobConfig}), and writes the resolved form that goes next to every checkpoint.
 *
 * <pre>
 *   JobConfig config = ConfigLoader.load(Path.of("conf/defaults.yaml"),
 *           List.of(Path.of("conf/examples/fedavg-tiny.yaml")), List.of("client.lr=1e-4"));
 *   String resolved = ConfigLoader.toYaml(config); // ConfigLoader.fromYaml(resolved) equals config
 * </pre>
 *
 * All errors are {@link ConfigException}s naming the full dotted key, the value and the file or
 * {@code --set} argument it came from; an unreadable file is an {@link java.io.UncheckedIOException}.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    /**
     * @param defaultsYaml {@code conf/defaults.yaml}, or null to start from the record defaults alone
     * @param confFiles {@code --conf} files, lowest precedence first
     * @param setOverrides {@code --set} arguments as {@code dotted.key=yaml-value}, applied in order
     */
    public static JobConfig load(Path defaultsYaml, List<Path> confFiles, List<String> setOverrides) {
        ConfigTree tree = new ConfigTree();
        if (defaultsYaml != null) {
            tree.mergeFile(defaultsYaml, ConfigTree.DEFAULTS_FILE_RANK);
        }
        List<Path> confs = confFiles == null ? List.of() : confFiles;
        for (int i = 0; i < confs.size(); i++) {
            tree.mergeFile(confs.get(i), ConfigTree.FIRST_CONF_RANK + i);
        }
        List<String> sets = setOverrides == null ? List.of() : setOverrides;
        for (int i = 0; i < sets.size(); i++) {
            tree.applySet(sets.get(i), ConfigTree.FIRST_SET_RANK + i);
        }
        ConfigBinder.checkKeys(tree);
        return ConfigBinder.bind(tree);
    }

    /** Parses a resolved config written by {@link #toYaml} (e.g. read back from a checkpoint). */
    public static JobConfig fromYaml(String yaml, String source) {
        ConfigTree tree = new ConfigTree();
        tree.mergeText(yaml, source, ConfigTree.FIRST_CONF_RANK);
        ConfigBinder.checkKeys(tree);
        return ConfigBinder.bind(tree);
    }

    /** As {@link #fromYaml(String, String)}, then {@code --set} overrides (e.g. the keys a resume may change). */
    public static JobConfig fromYaml(String yaml, String source, List<String> setOverrides) {
        ConfigTree tree = new ConfigTree();
        tree.mergeText(yaml, source, ConfigTree.FIRST_CONF_RANK);
        for (int i = 0; i < setOverrides.size(); i++) {
            tree.applySet(setOverrides.get(i), ConfigTree.FIRST_SET_RANK + i);
        }
        ConfigBinder.checkKeys(tree);
        return ConfigBinder.bind(tree);
    }

    /** The fully resolved config as nested maps (every default filled in), in file order. */
    public static Map<String, Object> toMap(JobConfig config) {
        return ConfigBinder.toMap(config);
    }

    /** The fully resolved config as YAML; loading it alone gives an equal {@link JobConfig}. */
    public static String toYaml(JobConfig config) {
        return YamlWriter.write("# Resolved Understudy job configuration (all defaults filled in).\n",
                toMap(config), null);
    }
}
