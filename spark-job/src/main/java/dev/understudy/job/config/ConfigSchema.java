package dev.understudy.job.config;

import dev.understudy.partition.PartitionerConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The single source of truth for config keys: order, record defaults and descriptions. The records
 * hold the types and the validation; {@code ConfigSchemaTest} checks that the two name the same keys
 * in the same order. {@code conf/defaults.yaml} and {@link ConfigReference#referenceMarkdown()} are
 * generated from this table.
 */
final class ConfigSchema {
    private ConfigSchema() {}

    /** One leaf key (or opaque/free-form map) with its record default. */
    record Key(String path, Object defaultValue, boolean required, String description) {}

    /** Descriptions of the sections, in file order. */
    static final Map<String, String> SECTIONS = sections(
            "data", "Training data: where the rows are and how a row becomes a training example.",
            "partitioning", "How rows are assigned to simulated clients. Required when data.client_column is null,"
                    + " ignored otherwise. Keys are validated by the partitioners module: type ("
                    + String.join(", ", PartitionerConfig.TYPES) + ") and its parameters,"
                    + " seed (defaults to the top-level seed), eval_fraction (0.1), holdout_fraction (0.0),"
                    + " row_key_column, label_column. Example: {type: dirichlet, num_clients: 100, alpha: 0.3}",
            "model", "The frozen base model and the LoRA adapter trained on it.",
            "model.lora", "LoRA adapter (Hu et al. 2021, arXiv:2106.09685); the update is (alpha / rank) * B A.",
            "client", "Local training on each selected client in a round.",
            "server", "Client selection and aggregation on the driver.",
            "output", "Where the run writes checkpoints, metrics and the resolved config.",
            "privacy", "Client-level DP-FedAvg (McMahan et al. 2018): clipping in the client task on the executor,"
                    + " Poisson client sampling with q = server.fraction (or clients_per_round / clients), Gaussian"
                    + " noise once per round on the driver, RDP accounting (epsilon per round in metrics.jsonl).",
            "attack", "SIMULATED Byzantine clients, for robustness experiments only: a seeded share of the clients"
                    + " corrupts its update (or trains on flipped labels) inside its client task.");

    static final List<Key> KEYS = List.of(
            required("data.path", "URI of the training data (file://, hdfs://, s3a://). Required."),
            key("data.format", null, "parquet, jsonl or csv; null infers it from the extension of data.path."),
            key("data.kind", "text", "text (train on text_column), instruction (prompt_column -> response_column)"
                    + " or classification (template filled with text_column -> label word of label_column)."),
            key("data.text_column", "text", "Column holding the text of text and classification rows."),
            key("data.prompt_column", "prompt", "Column holding the prompt of instruction rows."),
            key("data.response_column", "response", "Column holding the response of instruction rows."),
            key("data.label_column", "label", "Column holding the label of classification rows."),
            key("data.client_column", null, "Column naming each row's client (natural partitioning); null assigns"
                    + " rows to clients with the partitioning section."),
            key("data.row_key_column", null, "Column with a stable unique row key; null hashes the row content."),
            key("data.template", "{text}\nSentiment:", "Prompt of classification rows; {text} is replaced by the"
                    + " text column."),
            key("data.label_words", Map.of(), "Map label -> response string for classification rows, e.g."
                    + " {0: \" negative\", 1: \" positive\"}; labels not listed use the label value itself."),
            key("data.max_length", 256, "Tokens per example after truncation."),
            key("data.bad_rows", "fail", "Rows with missing or malformed fields: fail the job, or skip them."),
            key("data.eval_path", null, "URI of a separate evaluation set in the same format; null evaluates on"
                    + " the per-client hold-out of partitioning.eval_fraction."),
            key("partitioning", null, "The partitioning section (see above); null when data.client_column is set."),
            required("model.base", "URI of a Hugging Face model directory (config.json, *.safetensors,"
                    + " tokenizer.json). Required."),
            key("model.dtype", "float32", "Element type of the frozen base weights: float32, float16 or bfloat16."),
            key("model.lora.rank", 8, "LoRA rank r (>= 1)."),
            key("model.lora.alpha", 16.0, "LoRA scaling numerator; the effective scale is alpha / rank."),
            key("model.lora.dropout", 0.05, "Dropout on the adapter input during training, in [0, 1)."),
            key("model.lora.target_modules", List.of("q_proj", "v_proj"), "Modules to adapt, matched as in PEFT"
                    + " (full name equal, or ending in \".\" + entry)."),
            key("client.local_steps", 10, "Optimiser steps per client per round. Exactly one of local_steps and"
                    + " local_epochs is > 0; setting one in a higher layer zeroes the other."),
            key("client.local_epochs", 0, "Passes over the client's data per round (0 = use local_steps)."),
            key("client.batch_size", 8, "Examples per micro-batch."),
            key("client.grad_accum_steps", 1, "Micro-batches accumulated per optimiser step."),
            key("client.lr", 2e-4, "Peak learning rate (AdamW)."),
            key("client.schedule", "cosine", "Learning-rate decay after warm-up: constant, linear or cosine."),
            key("client.warmup_steps", 0, "Global optimiser steps of linear warm-up (the schedule spans all rounds)."),
            key("client.min_lr_ratio", 0.0, "Floor of the decay as a fraction of lr, in [0, 1]."),
            key("client.weight_decay", 0.0, "AdamW decoupled weight decay."),
            key("client.max_grad_norm", 1.0, "Gradient clipping norm; 0 disables clipping."),
            key("client.proximal_mu", 0.0, "FedProx proximal term weight mu (Li et al. 2020); 0 = plain FedAvg."),
            key("client.threads", 0, "Torch intra-op threads per Spark task; 0 = auto."),
            key("client.max_update_rms", 1.0, "Divergence bound: a client whose adapter update (trained minus global)"
                    + " has a root-mean-square element above this, or any non-finite element, fails (named, per round);"
                    + " 0 = no bound."),
            key("client.max_train_loss", 0.0, "Divergence bound on a client's mean local training loss; 0 = 2 ln(vocabulary"
                    + " size), twice the loss of a uniform prediction. A non-finite loss always fails the client."),
            key("server.strategy", "fedavg", "Aggregation strategy."),
            key("server.strategy_params", Map.of(), "Free-form strategy parameters, validated by the strategy."),
            key("server.rounds", 10, "Federated rounds."),
            key("server.clients_per_round", 0, "Clients sampled per round; 0 = use fraction."),
            key("server.fraction", 1.0, "Share of clients sampled per round, in (0, 1]."),
            key("server.min_clients", 1, "Fewest successful clients a round may aggregate."),
            key("server.accept_failures", true, "Aggregate the successful clients when some fail (within"
                    + " max_failed_fraction); false fails the round on any client failure."),
            key("server.eval_every", 1, "Evaluate the global adapter every this many rounds; 0 = never."),
            key("server.max_failed_fraction", 0.5, "Largest share of failed clients a round tolerates, in [0, 1]."),
            key("server.collect_budget_mb", 0L, "Driver memory (MiB) a strategy that needs every client update"
                    + " (fedmedian, fedtrimmedavg, a method's own rule) may fill with one round's updates; a round that"
                    + " would need more fails before it starts. 0 = a quarter of the driver's max heap."),
            required("output.dir", "URI of the run directory (checkpoints, metrics, resolved config). Required."),
            key("output.save_merged", false, "Also write merged/: the base model with the final adapter merged in, streamed"
                    + " tensor by tensor in the base's dtypes and shard layout."),
            key("output.overwrite", false, "Replace an existing run directory instead of failing."),
            key("output.keep_rounds", 0, "Committed rounds to keep: after each commit, rounds older than the newest N are"
                    + " deleted (resume needs only the newest). 0 keeps all."),
            key("seed", 42L, "Root of all job randomness (client sampling, dropout; partitioning by default)."),
            key("method", "fedavg_lora", "Federated fine-tuning method."),
            key("method_params", Map.of(), "Free-form method parameters, validated by the method."),
            key("privacy.enabled", false, "Turn client-level DP-FedAvg on (linear strategies only)."),
            key("privacy.clip_norm", 1.0, "C: each client's whole update is scaled to L2 norm at most C on the executor"
                    + " (the initial C with adaptive clipping)."),
            key("privacy.noise_multiplier", 1.0, "z: the noise on the sum of clipped updates has std z * C; 0 = clipping"
                    + " only (epsilon is infinite)."),
            key("privacy.delta", 1e-5, "delta of the reported (epsilon, delta); below 1 / clients is usual."),
            key("privacy.epsilon_budget", 0.0, "End the run cleanly before a round would take epsilon above this; 0 = no"
                    + " budget."),
            key("privacy.target_quantile", 0.0, "Adaptive clipping (Andrew et al. 2021): the quantile of update norms C"
                    + " tracks, in (0, 1); 0 = a fixed clip_norm."),
            key("privacy.clip_learning_rate", 0.2, "Adaptive clipping: step size of the geometric update of C."),
            key("privacy.clip_count_noise", 0.0, "Adaptive clipping: std of the noise on the count of unclipped clients;"
                    + " 0 = expected clients / 20."),
            key("attack.kind", "none", "Simulated attack: none, sign_flip (send -scale * update), scale (send scale *"
                    + " update) or label_flip (train on the next label's response)."),
            key("attack.fraction", 0.0, "Share of all clients that attack (fixed for the run), in [0, 1)."),
            key("attack.scale", 1.0, "Factor of sign_flip and scale."),
            key("attack.seed", 0L, "Picks the attacking clients."));

    /** Keys whose values are maps with any keys; the loader does not look inside them. */
    static final Set<String> OPAQUE = Set.of("partitioning", "data.label_words", "server.strategy_params", "method_params");

    private static final Map<String, Key> BY_PATH = byPath();

    /** This schema as the {@link KeyTable} the binder works from. */
    static final KeyTable TABLE = new KeyTable() {
        @Override
        public boolean isLeaf(String path) {
            return ConfigSchema.isLeaf(path);
        }

        @Override
        public boolean isSection(String path) {
            return ConfigSchema.isSection(path);
        }

        @Override
        public List<String> children(String section) {
            return ConfigSchema.children(section);
        }

        @Override
        public List<String> leafPaths() {
            return KEYS.stream().map(Key::path).toList();
        }

        @Override
        public Object defaultValue(String path) {
            Key key = key(path);
            if (key == null) {
                throw new IllegalStateException("Record component " + path + " is missing from ConfigSchema.KEYS");
            }
            return key.defaultValue();
        }
    };

    static Key key(String path) {
        return BY_PATH.get(path);
    }

    static boolean isLeaf(String path) {
        return BY_PATH.containsKey(path);
    }

    static boolean isSection(String path) {
        return SECTIONS.containsKey(path) && !BY_PATH.containsKey(path);
    }

    /** Direct children (leaf keys and sections) of a section, "" for the top level, in file order. */
    static List<String> children(String section) {
        String prefix = section.isEmpty() ? "" : section + ".";
        Set<String> out = new LinkedHashSet<>();
        for (Key k : KEYS) {
            if (k.path().startsWith(prefix)) {
                String rest = k.path().substring(prefix.length());
                int dot = rest.indexOf('.');
                out.add(dot < 0 ? rest : rest.substring(0, dot));
            }
        }
        return new ArrayList<>(out);
    }

    /** The record defaults as a nested map (required keys as null), in file order. */
    static Map<String, Object> defaultsTree() {
        Map<String, Object> root = new LinkedHashMap<>();
        for (Key k : KEYS) {
            String[] parts = k.path().split("\\.");
            Map<String, Object> m = root;
            for (int i = 0; i < parts.length - 1; i++) {
                @SuppressWarnings("unchecked")
                Map<String, Object> next = (Map<String, Object>) m.computeIfAbsent(parts[i], x -> new LinkedHashMap<>());
                m = next;
            }
            m.put(parts[parts.length - 1], k.defaultValue());
        }
        return root;
    }

    static Key key(String path, Object defaultValue, String description) {
        return new Key(path, defaultValue, false, description);
    }

    private static Key required(String path, String description) {
        return new Key(path, null, true, description);
    }

    static Map<String, String> sections(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static Map<String, Key> byPath() {
        Map<String, Key> m = new LinkedHashMap<>();
        KEYS.forEach(k -> m.put(k.path(), k));
        return m;
    }
}
