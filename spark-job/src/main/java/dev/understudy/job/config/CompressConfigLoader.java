package dev.understudy.job.config;

import dev.understudy.ops.surgery.CompressSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The keys of {@code understudy compress} ({@link CompressSpec}) and their loading from layered YAML
 * and {@code --set} overrides with the job's machinery (unknown keys rejected with suggestions,
 * values checked, errors naming the key and where it was set).
 */
public final class CompressConfigLoader {
    private CompressConfigLoader() {}

    static final Map<String, String> SECTIONS = ConfigSchema.sections(
            "drop", "Layer dropping (applied first).",
            "prune", "FFN neuron pruning (applied to the model after any drop).",
            "data", "The public text: calibration (bi, activation), distillation and held-out perplexity.",
            "distill", "Representation distillation of the derived model towards the parent.");

    static final List<ConfigSchema.Key> KEYS = List.of(
            ConfigSchema.key("model", "", "Parent model directory (Hugging Face layout). Required."),
            ConfigSchema.key("tokenizer", "", "Directory with the model's tokenizer.json; empty = the model directory,"
                    + " else its sibling tokenizer/ (a pretrained family's layout)."),
            ConfigSchema.key("output", "", "Directory the derived model is written to. Required."),
            ConfigSchema.key("overwrite", false, "Replace a derived model already in output (never foreign files)."),
            ConfigSchema.key("drop.method", "none", "none, uniform (Offsite-Tuning emulator: keep bottom and top, the"
                    + " middle by uniform stride) or bi (drop the lowest Block Influence blocks; ShortGPT, FedProxy)."),
            ConfigSchema.key("drop.keep_layers", 0, "Layers the derived model keeps (>= 1 when drop.method is set)."),
            ConfigSchema.key("drop.bottom", 1, "(uniform) first layers always kept."),
            ConfigSchema.key("drop.top", 1, "(uniform) last layers always kept."),
            ConfigSchema.key("drop.exempt_layers", List.of("first", "last"), "(bi) layers never dropped: indices,"
                    + " first or last."),
            ConfigSchema.key("prune.saliency", "none", "none, weight (FedPFT: L2 norm of a neuron's input and output"
                    + " weights) or activation (ours: RMS activation on data.text times output-column norm)."),
            ConfigSchema.key("prune.keep_fraction", 0.5, "Share of each pruned layer's FFN neurons kept, in (0, 1]."),
            ConfigSchema.key("prune.exempt_layers", List.of("first", "last"), "Layers not pruned (FedPFT keeps the"
                    + " first and last): indices, first or last; [] prunes every layer."),
            ConfigSchema.key("data.text", "", "UTF-8 public text file (never client data); needed by drop.method=bi,"
                    + " prune.saliency=activation and distillation, and for the perplexity figures."),
            ConfigSchema.key("data.seq_len", 128, "Tokens per block; the text is tokenised once (BOS first) and cut."),
            ConfigSchema.key("data.heldout_fraction", 0.1, "The last blocks, this share of them, are held out for"
                    + " perplexity, in (0, 1)."),
            ConfigSchema.key("data.max_blocks", 0, "At most this many training blocks; 0 = all."),
            ConfigSchema.key("distill.steps", 0, "Optimiser steps of distillation; 0 = none."),
            ConfigSchema.key("distill.lr", 1e-3, "Peak AdamW learning rate (5% warm-up, cosine decay to 10%)."),
            ConfigSchema.key("distill.batch_size", 8, "Blocks per step (also the calibration and evaluation batch)."),
            ConfigSchema.key("distill.kd_weight", 1.0, "Weight of the mean per-layer normalised hidden-state MSE"
                    + " (methods.md 0.2) over the derived layers and their parent layers."),
            ConfigSchema.key("distill.lm_weight", 1.0, "Weight of the derived model's LM cross-entropy."),
            ConfigSchema.key("distill.train", "ffn", "ffn (the FFNs of pruned layers; every layer's FFN after a pure"
                    + " drop) or all (whole blocks)."),
            ConfigSchema.key("seed", 42L, "Seed of the distillation's data order."));

    private static final Map<String, ConfigSchema.Key> BY_PATH = new LinkedHashMap<>();

    static {
        KEYS.forEach(k -> BY_PATH.put(k.path(), k));
    }

    static final KeyTable TABLE = new KeyTable() {
        @Override
        public boolean isLeaf(String path) {
            return BY_PATH.containsKey(path);
        }

        @Override
        public boolean isSection(String path) {
            return SECTIONS.containsKey(path);
        }

        @Override
        public List<String> children(String section) {
            String prefix = section.isEmpty() ? "" : section + ".";
            Set<String> out = new LinkedHashSet<>();
            for (ConfigSchema.Key k : KEYS) {
                if (k.path().startsWith(prefix)) {
                    String rest = k.path().substring(prefix.length());
                    int dot = rest.indexOf('.');
                    out.add(dot < 0 ? rest : rest.substring(0, dot));
                }
            }
            return new ArrayList<>(out);
        }

        @Override
        public List<String> leafPaths() {
            return KEYS.stream().map(ConfigSchema.Key::path).toList();
        }

        @Override
        public Object defaultValue(String path) {
            ConfigSchema.Key k = BY_PATH.get(path);
            if (k == null) {
                throw new IllegalStateException("Record component " + path + " is missing from CompressConfigLoader.KEYS");
            }
            return k.defaultValue();
        }
    };

    /**
     * @throws ConfigException naming the key, the value and the file line or {@code --set} it came from
     */
    public static CompressSpec load(List<Path> confFiles, List<String> setOverrides) {
        ConfigTree tree = new ConfigTree();
        for (int i = 0; i < confFiles.size(); i++) {
            tree.mergeFile(confFiles.get(i), ConfigTree.FIRST_CONF_RANK + i);
        }
        for (int i = 0; i < setOverrides.size(); i++) {
            tree.applySet(setOverrides.get(i), ConfigTree.FIRST_SET_RANK + i);
        }
        ConfigBinder.checkKeys(tree, TABLE);
        String model = (String) ConfigBinder.leaf(tree, TABLE, "model", String.class);
        String tokenizer = (String) ConfigBinder.leaf(tree, TABLE, "tokenizer", String.class);
        String output = (String) ConfigBinder.leaf(tree, TABLE, "output", String.class);
        boolean overwrite = (Boolean) ConfigBinder.leaf(tree, TABLE, "overwrite", boolean.class);
        CompressSpec.Drop drop = ConfigBinder.bindRecord(tree, TABLE, CompressSpec.Drop.class, "drop");
        CompressSpec.Prune prune = ConfigBinder.bindRecord(tree, TABLE, CompressSpec.Prune.class, "prune");
        CompressSpec.Data data = ConfigBinder.bindRecord(tree, TABLE, CompressSpec.Data.class, "data");
        CompressSpec.Distill distill = ConfigBinder.bindRecord(tree, TABLE, CompressSpec.Distill.class, "distill");
        long seed = (Long) ConfigBinder.leaf(tree, TABLE, "seed", long.class);
        try {
            return new CompressSpec(model, tokenizer, output, overwrite, drop, prune, data, distill, seed);
        } catch (IllegalArgumentException e) {
            throw ConfigBinder.withOrigin(tree, e, "");
        }
    }

    /** The key reference as a Markdown table (README). */
    public static String reference() {
        StringBuilder b = new StringBuilder("| key | default | meaning |\n|---|---|---|\n");
        for (ConfigSchema.Key k : KEYS) {
            b.append("| `").append(k.path()).append("` | `").append(k.defaultValue()).append("` | ")
                    .append(k.description()).append(" |\n");
        }
        return b.toString();
    }
}
