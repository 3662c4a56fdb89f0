package dev.understudy.job.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The keys of a pretraining configuration ({@link PretrainConfig}): order, record defaults and
 * descriptions, as {@link ConfigSchema} is for the job. Members are named by the user, so their keys
 * are written {@code members.*.hidden_size} here and any {@code members.<name>} section matches.
 */
final class PretrainSchema {
    private PretrainSchema() {}

    static final Map<String, String> SECTIONS = ConfigSchema.sections(
            "corpus", "The documents to pretrain on.",
            "tokenizer", "The byte-level BPE tokenizer every member shares, trained on the training documents.",
            "training", "Training settings shared by every member (same token budget for all).",
            "members", "The family: one section per member, keyed by its name (e.g. tiny, small, large).",
            "members.*", "One LLaMA-architecture member (RMSNorm, RoPE, SwiGLU, grouped-query attention).",
            "output", "Where the family is written.");

    /** Member keys without a default: every member must set them. */
    static final Set<String> REQUIRED_MEMBER_KEYS = Set.of("hidden_size", "num_layers", "num_heads", "num_kv_heads",
            "intermediate_size");

    static final List<ConfigSchema.Key> KEYS = List.of(
            key("name", "family", "Family name, written to family.json."),
            key("corpus.paths", List.of(), "Files or directories to read (local paths or Hadoop URIs: file://, hdfs://,"
                    + " s3a://). *.txt and *.jsonl files are read directly; *.parquet files and directories holding"
                    + " them through a local Spark session. --corpus on the command line replaces this list."),
            key("corpus.text_column", "text", "Column (Parquet) or field (JSONL) holding the document text."),
            key("corpus.txt_documents", "file", "How a .txt file becomes documents: file (the whole file),"
                    + " paragraphs (split on blank lines) or lines."),
            key("corpus.heldout_fraction", 0.05, "Share of documents held out for perplexity, in (0, 0.5]; the split"
                    + " is by a seeded hash of each document's text."),
            key("tokenizer.vocab_size", 2048, "BPE vocabulary size, specials and the 256 byte tokens included."),
            key("tokenizer.min_frequency", 2, "Smallest pair count worth a merge."),
            key("tokenizer.max_chars", 0L, "Characters of training documents the BPE trainer reads; 0 = all."),
            key("training.token_budget", 1_000_000L, "Input tokens every member trains on; steps = ceil(budget /"
                    + " (batch_size * grad_accum_steps * seq_len))."),
            key("training.batch_size", 16, "Blocks per micro-batch."),
            key("training.grad_accum_steps", 1, "Micro-batches per optimiser step."),
            key("training.seq_len", 128, "Tokens per block (documents are concatenated with BOS/EOS and cut); also"
                    + " each member's max_position_embeddings unless the member sets seq_len."),
            key("training.lr", 3e-3, "Peak learning rate (AdamW); a member may set its own lr."),
            key("training.schedule", "cosine", "Decay after warm-up: constant, linear or cosine."),
            key("training.warmup_steps", 20L, "Steps of linear warm-up."),
            key("training.min_lr_ratio", 0.1, "Floor of the decay as a fraction of lr, in [0, 1]."),
            key("training.weight_decay", 0.0, "AdamW decoupled weight decay (applied to every weight)."),
            key("training.max_grad_norm", 1.0, "Gradient clipping norm; 0 disables clipping."),
            key("training.beta1", 0.9, "AdamW beta1."),
            key("training.beta2", 0.95, "AdamW beta2."),
            key("training.init_std", 0.02, "Standard deviation of the N(0, std) weight initialisation."),
            key("training.eval_every", 100, "Steps between held-out evaluations; 0 = only at the end."),
            key("training.eval_tokens", 8192, "Held-out tokens scored by each periodic evaluation."),
            key("training.final_eval_tokens", 65536, "Held-out tokens scored by the final evaluation (the figure in"
                    + " family.json); 0 = all."),
            key("training.eval_batch_size", 16, "Blocks per evaluation batch."),
            key("training.checkpoint_every", 100, "Steps between checkpoints (for --resume); 0 = none."),
            key("members", Map.of(), "Family members by name; each is a section of the keys below."),
            key("members.*.hidden_size", null, "Model width. Required."),
            key("members.*.num_layers", null, "Decoder blocks. Required."),
            key("members.*.num_heads", null, "Query heads; hidden_size / num_heads must be even. Required."),
            key("members.*.num_kv_heads", null, "Key/value heads (grouped-query attention); must divide num_heads."
                    + " Required."),
            key("members.*.intermediate_size", null, "SwiGLU inner width. Required."),
            key("members.*.tie_word_embeddings", true, "Whether the LM head reuses the embedding matrix."),
            key("members.*.seq_len", 0, "Block length of this member; 0 = training.seq_len."),
            key("members.*.lr", 0.0, "Peak learning rate of this member; 0 = training.lr."),
            key("members.*.embedding_lr", 0.0, "Peak learning rate of this member's token embedding (tied head);"
                    + " 0 = the member's lr. Wide members train their hidden weights at a lower lr but can keep the"
                    + " embedding at the small members' rate (muP-style)."),
            key("output.dir", null, "Directory the family is written to (local). Required unless --out is given."),
            key("seed", 42L, "Root of all randomness: held-out split, initialisation, data order."));

    private static final Map<String, ConfigSchema.Key> BY_PATH = byPath();

    /** {@code members.tiny.hidden_size} → {@code members.*.hidden_size}. */
    static String normalise(String path) {
        if (!path.startsWith("members.")) {
            return path;
        }
        String rest = path.substring("members.".length());
        int dot = rest.indexOf('.');
        return "members.*" + (dot < 0 ? "" : rest.substring(dot));
    }

    static ConfigSchema.Key key(String path) {
        return BY_PATH.get(normalise(path));
    }

    static final KeyTable TABLE = new KeyTable() {
        @Override
        public boolean isLeaf(String path) {
            // "members" is a section whose children are named by the user, not a leaf.
            return !path.equals("members") && BY_PATH.containsKey(normalise(path));
        }

        @Override
        public boolean isSection(String path) {
            return SECTIONS.containsKey(normalise(path));
        }

        @Override
        public List<String> children(String section) {
            String s = normalise(section);
            String prefix = s.isEmpty() ? "" : s + ".";
            Set<String> out = new LinkedHashSet<>();
            for (ConfigSchema.Key k : KEYS) {
                if (k.path().startsWith(prefix) && !k.path().equals(s)) {
                    String rest = k.path().substring(prefix.length());
                    int dot = rest.indexOf('.');
                    out.add(dot < 0 ? rest : rest.substring(0, dot));
                }
            }
            return new ArrayList<>(out);
        }

        @Override
        public List<String> leafPaths() {
            return KEYS.stream().map(ConfigSchema.Key::path).filter(p -> !p.equals("members")).toList();
        }

        @Override
        public Object defaultValue(String path) {
            ConfigSchema.Key k = key(path);
            if (k == null) {
                throw new IllegalStateException("Record component " + path + " is missing from PretrainSchema.KEYS");
            }
            return k.defaultValue();
        }
    };

    private static ConfigSchema.Key key(String path, Object defaultValue, String description) {
        return ConfigSchema.key(path, defaultValue, description);
    }

    private static Map<String, ConfigSchema.Key> byPath() {
        Map<String, ConfigSchema.Key> m = new LinkedHashMap<>();
        KEYS.forEach(k -> m.put(k.path(), k));
        return m;
    }
}
