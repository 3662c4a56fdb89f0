package dev.understudy.job.quickstart;

import dev.understudy.job.EvaluateJob;
import dev.understudy.job.FederatedJob;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.config.PretrainConfig;
import dev.understudy.job.config.PretrainConfigLoader;
import dev.understudy.job.data.ServerSplit;
import dev.understudy.job.datasets.DatasetImport;
import dev.understudy.job.datasets.DatasetImporters;
import dev.understudy.job.datasets.RegistryFetcher;
import dev.understudy.job.engine.RoundEngine;
import dev.understudy.job.pretrain.CorpusReader;
import dev.understudy.ops.pretrain.FamilyPretraining;
import dev.understudy.ops.pretrain.ModelFamily;
import dev.understudy.ops.pretrain.ProgressBar;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * The quickstart experiment, end to end on one Spark session: import the {@code uci-sentiment},
 * {@code sotu} and {@code moby-dick} datasets, pretrain the quickstart model family (cached), run
 * FedAvg-LoRA on the small member over 10 clients split by review domain with Dirichlet label skew,
 * run FedPT (small clients, large server model, proxy-tuning + distillation), and evaluate base and
 * tuned models on the same held-out rows of every client. {@code understudy quickstart} prints the
 * {@link Result}; tests and notebooks call {@link #run} directly.
 *
 * <p>The server's public distillation set for FedPT is a fixed 10% of the sentiment rows (by a hash
 * of text and domain), removed from the client data of <em>both</em> federated runs so they train on
 * the same rows.
 */
public final class Quickstart {
    private Quickstart() {}

    /** The datasets the quickstart imports. */
    static final List<String> DATASETS = List.of("uci-sentiment", "sotu", "moby-dick");
    /** Percentage of the sentiment rows the server holds as its public distillation set. */
    static final int SERVER_PERCENT = 10;

    /**
     * @param outDir where data, runs and results go (local directory)
     * @param familyDir where the pretrained family is cached
     * @param datasetCache the registry-package cache ({@code ~/.cache/understudy/datasets})
     * @param confDir the repository's {@code conf/} (defaults.yaml, quickstart.yaml, pretrain/quickstart.yaml)
     * @param sets {@code --set key=value} overrides for the two federated jobs
     * @param pretrainSets {@code key=value} overrides for the pretraining config
     * @param fedpt also run FedPT and evaluate the large model
     * @param forcePretrain retrain the family even when it is cached
     */
    public record Options(Path outDir, Path familyDir, Path datasetCache, Path confDir, List<String> sets,
            List<String> pretrainSets, boolean fedpt, boolean forcePretrain, PrintStream out, boolean interactive) {}

    /** One row of the results table. */
    public record Entry(String model, String training, double evalLoss, double accuracy, String artifacts) {}

    /**
     * @param phaseSeconds wall seconds per phase, in order
     * @param family the model family used
     */
    public record Result(List<Entry> entries, Map<String, Double> phaseSeconds, double totalSeconds, ModelFamily family,
            FederatedJob.JobResult fedavg, FederatedJob.JobResult fedpt, Path resultsFile) {

        /** The entry for {@code model}/{@code training}. */
        public Entry entry(String model, String training) {
            return entries.stream().filter(e -> e.model().equals(model) && e.training().equals(training)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no result for " + model + " / " + training));
        }
    }

    public static Result run(SparkSession spark, Options o) throws IOException {
        long start = System.nanoTime();
        PrintStream out = o.out();
        Map<String, Double> phases = new LinkedHashMap<>();
        int steps = o.fedpt() ? 5 : 4;
        Files.createDirectories(o.outDir());
        Path dataDir = o.outDir().resolve("data");

        // 1. data
        long t = header(out, 1, steps, "data: import " + String.join(", ", DATASETS) + " (registry packages, cached)");
        RegistryFetcher fetcher = new RegistryFetcher(o.datasetCache());
        for (String name : DATASETS) {
            Path dir = dataDir.resolve(name);
            if (Files.exists(dir.resolve(DatasetImport.REPORT))) {
                out.printf("  %s: already imported in %s%n", name, dir);
                continue;
            }
            DatasetImport.Result r = DatasetImport.run(spark, DatasetImporters.find(name), fetcher, dir.toUri().toString(),
                    true);
            out.printf(Locale.ROOT, "  %s: %,d rows, %d dropped%s -> %s (%.1f s)%n", name, r.rows(), r.drops().total(),
                    r.drops().total() > 0 ? " " + r.drops().reasons().stream()
                            .map(x -> x.reason() + ": " + x.count()).toList() : "", dir, r.seconds());
        }
        Path clients = dataDir.resolve("uci-sentiment-clients");
        Path server = dataDir.resolve("uci-sentiment-server");
        long[] split = splitServerSet(spark, dataDir.resolve("uci-sentiment"), clients, server);
        out.printf(Locale.ROOT, "  uci-sentiment: %,d rows for the clients, %,d held by the server (public distillation"
                + " set for FedPT)%n", split[0], split[1]);
        phases.put("data", done(t));

        // 2. the model family
        t = header(out, 2, steps, "pretrain the model family (cached in " + o.familyDir() + ")");
        ModelFamily family = pretrain(spark, o, dataDir);
        ModelFamily.Member small = family.member("small");
        ModelFamily.Member large = family.member("large");
        family.checkSharedVocabulary();
        phases.put("pretrain", done(t));

        String smallUri = o.familyDir().resolve(small.name()).toUri().toString();
        String largeUri = o.familyDir().resolve(large.name()).toUri().toString();
        Path runs = o.outDir().resolve("runs");
        List<Entry> entries = new ArrayList<>();

        // 3. FedAvg-LoRA on the small model
        t = header(out, 3, steps, "FedAvg-LoRA on '" + small.name() + "' over the clients");
        JobConfig fedavgCfg = jobConfig(o, clients, smallUri, runs.resolve("fedavg-small"), List.of("method=fedavg_lora"));
        FederatedJob.JobResult fedavg = FederatedJob.run(spark, fedavgCfg, false);
        phases.put("fedavg", done(t));

        // 4. base models and the tuned one, on every client's held-out rows
        t = header(out, 4, steps, "evaluate base and tuned models on every client's held-out rows");
        EvaluateJob.Report smallBase = EvaluateJob.evaluate(spark, fedavgCfg, null, true);
        entries.add(new Entry(small.name(), "base (pretrained only)", smallBase.loss(), smallBase.accuracy(),
                o.familyDir().resolve(small.name()).toString()));
        RoundEngine.RoundMetrics tuned = lastEvaluated(fedavg.rounds()); // the final adapter, evaluated by the run
        entries.add(new Entry(small.name(), "FedAvg-LoRA", tuned.evalLoss(), tuned.evalAccuracy(),
                "runs/fedavg-small/adapter/"));
        if (o.fedpt()) {
            JobConfig largeBaseCfg = jobConfig(o, clients, largeUri, runs.resolve("large-base"),
                    List.of("method=fedavg_lora", "output.overwrite=true"));
            EvaluateJob.Report largeBase = EvaluateJob.evaluate(spark, largeBaseCfg, null, true);
            entries.add(new Entry(large.name(), "base (pretrained only)", largeBase.loss(), largeBase.accuracy(),
                    o.familyDir().resolve(large.name()).toString()));
        }
        phases.put("evaluate", done(t));

        // 5. FedPT
        FederatedJob.JobResult fedpt = null;
        if (o.fedpt()) {
            t = header(out, 5, steps, "FedPT: clients tune '" + small.name() + "', the server proxy-tunes '" + large.name()
                    + "' and distils it back each round");
            JobConfig fedptCfg = jobConfig(o, List.of("quickstart.yaml", "quickstart-fedpt.yaml"), clients, smallUri,
                    runs.resolve("fedpt"), List.of("method_params.large=" + largeUri,
                            "method_params.kd_data=" + server.toUri()));
            fedpt = FederatedJob.run(spark, fedptCfg, false);
            RoundEngine.RoundMetrics last = lastEvaluated(fedpt.rounds());
            entries.add(new Entry(small.name(), "FedPT (distilled from the proxy-tuned large)", last.evalLoss(),
                    last.evalAccuracy(), "runs/fedpt/adapter/"));
            Map<String, Double> mm = last.methodMetrics();
            entries.add(new Entry(large.name(), "FedPT proxy-tuned (large + tuned small - small base)",
                    mm.getOrDefault("proxy_eval_loss", Double.NaN), mm.getOrDefault("proxy_accuracy", Double.NaN),
                    "runs/fedpt/method/proxy.json"));
            phases.put("fedpt", done(t));
        }

        double total = (System.nanoTime() - start) / 1e9;
        Path resultsFile = o.outDir().resolve("results.md");
        Result result = new Result(List.copyOf(entries), phases, total, family, fedavg, fedpt, resultsFile);
        Files.writeString(resultsFile, markdown(result, fedavgCfg), StandardCharsets.UTF_8);
        return result;
    }

    /** Writes the clients' and the server's part of the sentiment data; returns their row counts. */
    static long[] splitServerSet(SparkSession spark, Path all, Path clients, Path server) {
        return ServerSplit.split(spark.read().parquet(all.toUri().toString()), List.of("text", "domain"), SERVER_PERCENT,
                clients, server, all.toString());
    }

    static ModelFamily pretrain(SparkSession spark, Options o, Path dataDir) throws IOException {
        List<String> sets = new ArrayList<>(o.pretrainSets());
        PretrainConfig pc = PretrainConfigLoader.load(List.of(o.confDir().resolve("pretrain/quickstart.yaml")), sets);
        List<String> corpus = List.of(dataDir.resolve("sotu").toUri().toString(),
                dataDir.resolve("moby-dick").toUri().toString());
        CorpusReader.Corpus docs = CorpusReader.read(corpus, pc.corpus(), () -> spark);
        o.out().printf("  corpus: %s%n", docs.describe());
        FamilyPretraining.Options fo = new FamilyPretraining.Options(o.forcePretrain(), false, o.out(), o.interactive());
        FamilyPretraining.Outcome outcome = FamilyPretraining.run(pc.toSpec(), docs.documents(), docs.sources(),
                o.familyDir(), fo);
        return outcome.family();
    }

    static JobConfig jobConfig(Options o, Path data, String modelUri, Path runDir, List<String> extra) {
        return jobConfig(o, List.of("quickstart.yaml"), data, modelUri, runDir, extra);
    }

    /**
     * The job config from {@code confFiles} (in {@code confDir}) with the paths filled in, then the
     * user's {@code --set}s; {@code method_params.*} overrides go to the FedPT run only.
     */
    static JobConfig jobConfig(Options o, List<String> confFiles, Path data, String modelUri, Path runDir,
            List<String> extra) {
        boolean fedpt = confFiles.contains("quickstart-fedpt.yaml");
        List<String> sets = new ArrayList<>();
        sets.add("data.path=" + data.toUri());
        sets.add("model.base=" + modelUri);
        sets.add("output.dir=" + runDir.toUri());
        sets.addAll(extra);
        for (String s : o.sets()) {
            if (fedpt || !s.startsWith("method_params.")) {
                sets.add(s);
            }
        }
        Path defaults = o.confDir().resolve("defaults.yaml");
        List<Path> files = confFiles.stream().map(f -> o.confDir().resolve(f)).toList();
        return ConfigLoader.load(Files.exists(defaults) ? defaults : null, files, sets);
    }

    static RoundEngine.RoundMetrics lastEvaluated(List<RoundEngine.RoundMetrics> rounds) {
        RoundEngine.RoundMetrics last = rounds.get(rounds.size() - 1);
        if (Double.isNaN(last.evalLoss())) {
            throw new IllegalStateException("the last round (" + last.round() + ") was not evaluated; set server.rounds to a"
                    + " multiple of server.eval_every");
        }
        return last;
    }

    private static long header(PrintStream out, int step, int steps, String what) {
        out.printf("%n[%d/%d] %s%n", step, steps, what);
        return System.nanoTime();
    }

    private static double done(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The results table as printed (plain text). */
    public static String table(Result r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-6s %-54s %9s %9s%n", "model", "training", "eval loss", "accuracy"));
        for (Entry e : r.entries()) {
            b.append(String.format(Locale.ROOT, "%-6s %-54s %9s %9s%n", e.model(), e.training(), fmt(e.evalLoss(), 4),
                    fmt(e.accuracy(), 3)));
        }
        return b.toString();
    }

    static String markdown(Result r, JobConfig cfg) {
        StringBuilder b = new StringBuilder("# Understudy quickstart results\n\n");
        b.append("Sentiment (uci-sentiment), ").append(r.fedavg().clients()).append(" clients, ")
                .append(r.fedavg().trainRows()).append(" training rows, ").append(cfg.server().rounds())
                .append(" rounds; accuracy = label scoring on every client's held-out rows.\n\n");
        b.append("Artifacts are relative to ").append(r.resultsFile().getParent()).append(" unless absolute.\n\n");
        b.append("| model | training | eval loss | accuracy | artifacts |\n|---|---|---|---|---|\n");
        for (Entry e : r.entries()) {
            b.append("| ").append(e.model()).append(" | ").append(e.training()).append(" | ").append(fmt(e.evalLoss(), 4))
                    .append(" | ").append(fmt(e.accuracy(), 3)).append(" | `").append(e.artifacts()).append("` |\n");
        }
        b.append("\nWall time per phase (s): ");
        r.phaseSeconds().forEach((k, v) -> b.append(k).append(' ').append(String.format(Locale.ROOT, "%.1f", v)).append("; "));
        b.append(String.format(Locale.ROOT, "total %.1f s.%n", r.totalSeconds()));
        return b.toString();
    }

    private static String fmt(double v, int digits) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + digits + "f", v);
    }

    static boolean interactiveDefault(PrintStream out) {
        return out == System.out && ProgressBar.stdoutIsTerminal();
    }
}
