package dev.understudy.job.config;

import java.util.List;

/**
 * The {@code bench:} section of an {@code understudy bench fedpt} configuration (the rest of the
 * file is an ordinary job configuration shared by every run of the comparison). Loaded with
 * {@link FedPtBenchLoader}.
 *
 * @param dataset {@code bench.dataset}: the {@code understudy data import} name of the data set
 *     (uci-sentiment, wordnet-glosses, ...)
 * @param data {@code bench.data}: directory of an earlier import of it, or null to import it into
 *     the output directory (registry package, cached)
 * @param family {@code bench.family}: directory of the pretrained model family ({@code family.json}),
 *     or null for the quickstart family's cache ({@code ~/.cache/understudy/families/quickstart})
 * @param small {@code bench.small}: the family member the clients tune (FedPT's proxy)
 * @param large {@code bench.large}: the family member the server holds
 * @param where {@code bench.where}: a Spark SQL filter applied to the data set first, or null
 * @param sampleRows {@code bench.sample_rows}: keep a fixed sample of this many rows (the smallest
 *     seeded hashes of {@code split_columns}) before the server split; 0 = all rows
 * @param serverPercent {@code bench.server_percent}: percentage of the rows the server holds as its
 *     public distillation set, removed from the clients' data of every run
 * @param splitColumns {@code bench.split_columns}: columns whose hash decides sample and server
 *     split (rows that agree on them stay together, e.g. one synset's gloss and examples)
 * @param evalRows {@code bench.eval_rows}: held-out rows the comparison evaluates, apportioned to
 *     clients by their held-out counts (the first rows of each client in row-key order); 0 = all
 * @param maxNewTokens {@code bench.max_new_tokens}: generation length cap for instruction data
 * @param alphas {@code bench.alphas}: the proxy strengths α of the ablation
 * @param alphaRetrain {@code bench.alpha_retrain}: also run FedPT once per α (else the ablation
 *     evaluates the final FedPT adapter at every α)
 * @param memoryProbe {@code bench.memory_probe}: measure one client's local training memory for the
 *     small and the large model, each in a fresh JVM (started with this JVM's {@code
 *     java.class.path}, which must hold the application jar)
 * @param gapTarget {@code bench.gap_target}: share of the gap between the large base and
 *     FedAvg-LoRA on the large model the proxy-tuned large model should close
 * @param skip {@code bench.skip}: runs to leave out (see {@link #RUNS})
 * @param centralLr {@code bench.central_lr}: learning rate of the centralised baseline (0 = the
 *     clients' {@code client.lr})
 */
public record FedPtBenchConfig(String dataset, String data, String family, String small, String large, String where,
        int sampleRows, int serverPercent, List<String> splitColumns, int evalRows, int maxNewTokens, List<Double> alphas,
        boolean alphaRetrain, boolean memoryProbe, double gapTarget, List<String> skip, double centralLr) {

    /** Runs that {@code bench.skip} may name. */
    public static final List<String> RUNS = List.of("fedavg_small", "fedpt", "fedavg_large", "central_large", "ablation");

    public FedPtBenchConfig {
        Checks.required("bench.dataset", dataset, "uci-sentiment");
        Checks.name("bench.data", data, true);
        Checks.name("bench.family", family, true);
        Checks.required("bench.small", small, "small");
        Checks.required("bench.large", large, "large");
        Checks.check(!small.equals(large), "bench.large", large, "a different member than bench.small");
        Checks.check(sampleRows >= 0, "bench.sample_rows", sampleRows, "≥ 0 (0 = all rows)");
        Checks.check(serverPercent >= 1 && serverPercent <= 50, "bench.server_percent", serverPercent,
                "in [1, 50]: the server's share of the rows, in percent");
        Checks.check(splitColumns != null && !splitColumns.isEmpty(), "bench.split_columns", splitColumns,
                "at least one column");
        splitColumns = List.copyOf(splitColumns);
        Checks.check(evalRows >= 0, "bench.eval_rows", evalRows, "≥ 0 (0 = every held-out row)");
        Checks.positive("bench.max_new_tokens", maxNewTokens);
        Checks.check(alphas != null && !alphas.isEmpty(), "bench.alphas", alphas, "at least one α, e.g. [0.5, 1.0, 1.5]");
        for (double a : alphas) {
            Checks.check(Double.isFinite(a) && a >= 0, "bench.alphas", alphas, "α values ≥ 0");
        }
        alphas = List.copyOf(alphas);
        Checks.check(gapTarget > 0 && gapTarget <= 1, "bench.gap_target", gapTarget, "in (0, 1]");
        skip = skip == null ? List.of() : List.copyOf(skip);
        for (String s : skip) {
            Checks.check(RUNS.contains(s), "bench.skip", s, "one of " + RUNS);
        }
        Checks.check(Double.isFinite(centralLr) && centralLr >= 0, "bench.central_lr", centralLr,
                "≥ 0 (0 = the clients' client.lr)");
        Checks.check(!(skip.contains("fedpt") && alphaRetrain), "bench.alpha_retrain", alphaRetrain,
                "false when bench.skip names fedpt");
    }

    /** Whether run {@code name} ({@link #RUNS}) is part of this comparison. */
    public boolean runs(String name) {
        if (!RUNS.contains(name)) {
            throw new IllegalArgumentException("unknown bench run '" + name + "'; runs: " + RUNS);
        }
        return !skip.contains(name) && !(name.equals("ablation") && skip.contains("fedpt"));
    }
}
