package dev.understudy.job.config;

import dev.understudy.ops.pretrain.PretrainSettings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads a {@link PretrainConfig} from layered YAML files and {@code --set} overrides with the job's
 * configuration machinery ({@link ConfigTree} for merging and origins, {@link ConfigBinder} for
 * binding records, unknown-key suggestions and value errors) over the {@link PretrainSchema} keys.
 *
 * <pre>
 *   PretrainConfig c = PretrainConfigLoader.load(List.of(Path.of("conf/pretrain/quickstart.yaml")),
 *           List.of("training.token_budget=200000"));
 * </pre>
 */
public final class PretrainConfigLoader {
    private PretrainConfigLoader() {}

    /**
     * @param confFiles {@code --conf} files, lowest precedence first
     * @param setOverrides {@code --set key=value} arguments, applied in order
     * @throws ConfigException naming the key, the value and the file line or {@code --set} it came from
     */
    public static PretrainConfig load(List<Path> confFiles, List<String> setOverrides) {
        ConfigTree tree = new ConfigTree();
        List<Path> confs = confFiles == null ? List.of() : confFiles;
        for (int i = 0; i < confs.size(); i++) {
            tree.mergeFile(confs.get(i), ConfigTree.FIRST_CONF_RANK + i);
        }
        List<String> sets = setOverrides == null ? List.of() : setOverrides;
        for (int i = 0; i < sets.size(); i++) {
            tree.applySet(sets.get(i), ConfigTree.FIRST_SET_RANK + i);
        }
        return bind(tree);
    }

    /** Parses a resolved config written by {@link #toYaml}. */
    public static PretrainConfig fromYaml(String yaml, String source) {
        ConfigTree tree = new ConfigTree();
        tree.mergeText(yaml, source, ConfigTree.FIRST_CONF_RANK);
        return bind(tree);
    }

    private static PretrainConfig bind(ConfigTree tree) {
        KeyTable t = PretrainSchema.TABLE;
        ConfigBinder.checkKeys(tree, t);
        String name = (String) ConfigBinder.leaf(tree, t, "name", String.class);
        PretrainConfig.Corpus corpus = ConfigBinder.bindRecord(tree, t, PretrainConfig.Corpus.class, "corpus");
        PretrainConfig.TokenizerSettings tokenizer =
                ConfigBinder.bindRecord(tree, t, PretrainConfig.TokenizerSettings.class, "tokenizer");
        PretrainSettings training = ConfigBinder.bindRecord(tree, t, PretrainSettings.class, "training");
        Map<String, PretrainConfig.Member> members = new LinkedHashMap<>();
        Object section = tree.get("members");
        if (section instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String member = String.valueOf(e.getKey());
                if (e.getValue() == null) {
                    continue; // --set members.x=null drops a member defined by a lower layer
                }
                String prefix = "members." + member;
                for (String k : t.children(prefix)) {
                    if (PretrainSchema.REQUIRED_MEMBER_KEYS.contains(k) && !tree.has(prefix + "." + k)) {
                        throw new ConfigException("Missing required key " + prefix + "." + k + " of member '" + member
                                + "'" + Values.from(tree.origin(prefix)) + "; every member sets "
                                + String.join(", ", t.children(prefix).stream()
                                        .filter(PretrainSchema.REQUIRED_MEMBER_KEYS::contains).toList()));
                    }
                }
                members.put(member, ConfigBinder.bindRecord(tree, t, PretrainConfig.Member.class, prefix));
            }
        }
        PretrainConfig.Output output = ConfigBinder.bindRecord(tree, t, PretrainConfig.Output.class, "output");
        long seed = (Long) ConfigBinder.leaf(tree, t, "seed", long.class);
        try {
            PretrainConfig config = new PretrainConfig(name, corpus, tokenizer, training, members, output, seed);
            config.toSpec(); // validates members (names, head layout) and the family as a whole
            return config;
        } catch (IllegalArgumentException e) {
            throw ConfigBinder.withOrigin(tree, e, "");
        }
    }

    /** The resolved config as nested maps (every default filled in). */
    static Map<String, Object> toMap(PretrainConfig config) {
        return ConfigBinder.toMap(config);
    }

    /** The resolved config as YAML with a comment above every key; {@link #fromYaml} reads it back. */
    public static String toYaml(PretrainConfig config) {
        return YamlWriter.write("# Resolved Understudy pretraining configuration (all defaults filled in).\n",
                toMap(config), PretrainConfigLoader::comment);
    }

    private static String comment(String path) {
        if (PretrainSchema.SECTIONS.containsKey(path)) {
            return PretrainSchema.SECTIONS.get(path);
        }
        if (path.startsWith("members.") && path.indexOf('.', "members.".length()) < 0) {
            return null; // a member's own section: its keys carry the comments
        }
        ConfigSchema.Key k = PretrainSchema.key(path);
        return k == null ? null : k.description();
    }
}
