package dev.understudy.job.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Loads an {@code understudy bench fedpt} configuration: an ordinary job configuration (the
 * settings every run of the comparison shares: data kind and columns, partitioning, LoRA, client,
 * server, seed, FedPT's {@code method_params}) plus a {@code bench:} section ({@link
 * FedPtBenchConfig}). Both are validated with the job's machinery (unknown keys are rejected with
 * the nearest valid key, errors name the file line or {@code --set} a value came from).
 *
 * <p>{@link #job} builds the configuration of one run: conf files &lt; the user's {@code --set}s
 * &lt; the run's own settings (data path, model, output dir, method), which the comparison controls.
 *
 * <pre>
 *   FedPtBenchLoader l = new FedPtBenchLoader(Path.of("conf/defaults.yaml"),
 *           List.of(Path.of("conf/examples/fedpt-sentiment.yaml")), List.of("server.rounds=2"));
 *   FedPtBenchConfig bench = l.bench();
 *   JobConfig run = l.job(List.of("data.path=file:///d", "model.base=file:///m", "output.dir=file:///o"));
 * </pre>
 */
public final class FedPtBenchLoader {
    static final String SECTION = "bench";

    static final List<ConfigSchema.Key> KEYS = List.of(
            ConfigSchema.key("bench.dataset", null, "Data set name of `understudy data import` (uci-sentiment,"
                    + " wordnet-glosses). Required."),
            ConfigSchema.key("bench.data", null, "Directory of an earlier import of the data set; null imports it"
                    + " into OUT/data/<dataset>."),
            ConfigSchema.key("bench.family", null, "Pretrained model family directory (family.json); null = the"
                    + " quickstart family's cache."),
            ConfigSchema.key("bench.small", "small", "Family member the clients tune."),
            ConfigSchema.key("bench.large", "large", "Family member the server holds."),
            ConfigSchema.key("bench.where", null, "Spark SQL filter applied to the data set first, or null."),
            ConfigSchema.key("bench.sample_rows", 0, "Fixed sample of this many rows before the server split; 0 = all."),
            ConfigSchema.key("bench.server_percent", 10, "Percent of the rows the server holds (distillation set)."),
            ConfigSchema.key("bench.split_columns", List.of("text"), "Columns hashed for the sample and the server split."),
            ConfigSchema.key("bench.eval_rows", 0, "Held-out rows evaluated (apportioned to clients); 0 = all."),
            ConfigSchema.key("bench.max_new_tokens", 32, "Generated tokens per held-out prompt (instruction data)."),
            ConfigSchema.key("bench.alphas", List.of(0.5, 1.0, 1.5), "Proxy strengths of the alpha ablation."),
            ConfigSchema.key("bench.alpha_retrain", false, "Run FedPT once per alpha (else evaluation-only ablation)."),
            ConfigSchema.key("bench.memory_probe", true, "Measure one client's local training memory in a child JVM"
                    + " (it needs the application jar on java.class.path: true with bin/understudy; under spark-submit"
                    + " add it with --driver-class-path or set false)."),
            ConfigSchema.key("bench.gap_target", 0.7, "Share of the large-base to FedAvg-large gap the proxy should close."),
            ConfigSchema.key("bench.skip", List.of(), "Runs to leave out: " + FedPtBenchConfig.RUNS + "."),
            ConfigSchema.key("bench.central_lr", 0.0, "Learning rate of the centralised baseline; 0 = client.lr."));

    private static final Map<String, ConfigSchema.Key> BY_PATH = byPath();

    /** The job's keys plus the {@code bench} section. */
    static final KeyTable TABLE = new KeyTable() {
        @Override
        public boolean isLeaf(String path) {
            return BY_PATH.containsKey(path) || ConfigSchema.TABLE.isLeaf(path);
        }

        @Override
        public boolean isSection(String path) {
            return path.equals(SECTION) || ConfigSchema.TABLE.isSection(path);
        }

        @Override
        public List<String> children(String section) {
            if (section.equals(SECTION)) {
                return KEYS.stream().map(k -> k.path().substring(SECTION.length() + 1)).toList();
            }
            List<String> out = new ArrayList<>(ConfigSchema.TABLE.children(section));
            if (section.isEmpty()) {
                out.add(SECTION);
            }
            return out;
        }

        @Override
        public List<String> leafPaths() {
            LinkedHashSet<String> out = new LinkedHashSet<>(ConfigSchema.TABLE.leafPaths());
            KEYS.forEach(k -> out.add(k.path()));
            return new ArrayList<>(out);
        }

        @Override
        public Object defaultValue(String path) {
            ConfigSchema.Key k = BY_PATH.get(path);
            return k != null ? k.defaultValue() : ConfigSchema.TABLE.defaultValue(path);
        }
    };

    private final Path defaults;
    private final List<Path> confs;
    private final List<String> sets;
    private final FedPtBenchConfig bench;

    /**
     * Reads and validates the files and overrides (the bench section at once; the job keys need a
     * run's settings, see {@link #job}).
     *
     * @param defaultsYaml {@code conf/defaults.yaml}, or null
     * @param confFiles {@code --conf} files, lowest precedence first
     * @param setOverrides the user's {@code --set key=value}s, job or {@code bench.} keys
     */
    public FedPtBenchLoader(Path defaultsYaml, List<Path> confFiles, List<String> setOverrides) {
        this.defaults = defaultsYaml;
        this.confs = List.copyOf(confFiles);
        this.sets = List.copyOf(setOverrides);
        ConfigTree tree = tree(List.of());
        this.bench = bindBench(tree);
        checkDataKind(tree);
    }

    /** The comparison scores labels (accuracy) or generations (ROUGE-L); plain text has neither. */
    private static void checkDataKind(ConfigTree tree) {
        String key = "data.kind";
        DataConfig.Kind kind = (DataConfig.Kind) ConfigBinder.leaf(tree, TABLE, key, DataConfig.Kind.class);
        if (kind == DataConfig.Kind.TEXT) {
            throw new ConfigException("Cannot set " + key + " to text" + Values.from(tree.has(key) ? tree.origin(key) : null)
                    + " for bench fedpt (text is the default): the comparison scores classification data by accuracy"
                    + " and instruction data by ROUGE-L; set data.kind to classification or instruction");
        }
    }

    public FedPtBenchConfig bench() {
        return bench;
    }

    /** The job configuration of one run: files &lt; user {@code --set}s &lt; {@code runSets}. */
    public JobConfig job(List<String> runSets) {
        return ConfigBinder.bind(tree(runSets));
    }

    /** The bench section with every default filled in, as YAML (written next to the results). */
    public static String toYaml(FedPtBenchConfig b) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put(SECTION, ConfigBinder.toMap(b));
        return YamlWriter.write("# Resolved bench section of `understudy bench fedpt`.\n", root, null);
    }

    private ConfigTree tree(List<String> runSets) {
        ConfigTree tree = new ConfigTree();
        if (defaults != null) {
            tree.mergeFile(defaults, ConfigTree.DEFAULTS_FILE_RANK);
        }
        for (int i = 0; i < confs.size(); i++) {
            tree.mergeFile(confs.get(i), ConfigTree.FIRST_CONF_RANK + i);
        }
        List<String> all = new ArrayList<>(sets);
        all.addAll(runSets);
        for (int i = 0; i < all.size(); i++) {
            tree.applySet(all.get(i), ConfigTree.FIRST_SET_RANK + i);
        }
        ConfigBinder.checkKeys(tree, TABLE);
        return tree;
    }

    private static FedPtBenchConfig bindBench(ConfigTree tree) {
        String alphasKey = SECTION + ".alphas";
        Object rawAlphas = tree.has(alphasKey) ? tree.get(alphasKey) : TABLE.defaultValue(alphasKey);
        List<Double> alphas = new ArrayList<>();
        List<?> list = rawAlphas instanceof List<?> l ? l : rawAlphas == null ? List.of() : List.of(
                String.valueOf(rawAlphas).split(","));
        for (Object a : list) {
            try {
                alphas.add(a instanceof Number n ? n.doubleValue() : Double.parseDouble(String.valueOf(a).trim()));
            } catch (NumberFormatException e) {
                throw Values.typeError(alphasKey, rawAlphas, tree.has(alphasKey) ? tree.origin(alphasKey) : null,
                        "a list of numbers, e.g. [0.5, 1.0, 1.5]");
            }
        }
        try {
            return new FedPtBenchConfig(str(tree, "dataset"), str(tree, "data"), str(tree, "family"), str(tree, "small"),
                    str(tree, "large"), str(tree, "where"), integer(tree, "sample_rows"), integer(tree, "server_percent"),
                    list(tree, "split_columns"), integer(tree, "eval_rows"), integer(tree, "max_new_tokens"), alphas,
                    bool(tree, "alpha_retrain"), bool(tree, "memory_probe"),
                    (Double) ConfigBinder.leaf(tree, TABLE, SECTION + ".gap_target", double.class), list(tree, "skip"),
                    (Double) ConfigBinder.leaf(tree, TABLE, SECTION + ".central_lr", double.class));
        } catch (IllegalArgumentException e) {
            throw ConfigBinder.withOrigin(tree, e, "");
        }
    }

    private static String str(ConfigTree t, String k) {
        return (String) ConfigBinder.leaf(t, TABLE, SECTION + "." + k, String.class);
    }

    private static int integer(ConfigTree t, String k) {
        return (Integer) ConfigBinder.leaf(t, TABLE, SECTION + "." + k, int.class);
    }

    private static boolean bool(ConfigTree t, String k) {
        return (Boolean) ConfigBinder.leaf(t, TABLE, SECTION + "." + k, boolean.class);
    }

    @SuppressWarnings("unchecked")
    private static List<String> list(ConfigTree t, String k) {
        return (List<String>) ConfigBinder.leaf(t, TABLE, SECTION + "." + k, List.class);
    }

    private static Map<String, ConfigSchema.Key> byPath() {
        Map<String, ConfigSchema.Key> m = new LinkedHashMap<>();
        KEYS.forEach(k -> m.put(k.path(), k));
        return m;
    }
}
