package dev.understudy.job.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.reflect.TypeToken;
import dev.understudy.job.FederatedJob;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.DataConfig;
import dev.understudy.job.config.FedPtBenchConfig;
import dev.understudy.job.config.FedPtBenchLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.data.DataPrep;
import dev.understudy.job.data.ServerSplit;
import dev.understudy.job.datasets.DatasetImport;
import dev.understudy.job.datasets.DatasetImporters;
import dev.understudy.job.datasets.RegistryFetcher;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.engine.ClientData;
import dev.understudy.job.engine.ClientPacking;
import dev.understudy.job.engine.EvalFunction;
import dev.understudy.job.engine.ExecutorModelCache;
import dev.understudy.job.engine.GenerationEvalFunction;
import dev.understudy.job.engine.ProxyEvalFunction;
import dev.understudy.job.engine.RoundEngine;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.job.method.FedPt;
import dev.understudy.job.method.FedPtConfig;
import dev.understudy.job.run.JobSettings;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.pretrain.ModelFamily;
import dev.understudy.ops.tokenizer.Tokenizer;
import dev.understudy.ops.train.Example;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * {@code understudy bench fedpt}: FedPT (Gao et al. 2024, arXiv 2410.00362) against its baselines
 * on one data split, on one Spark session, through the ordinary job machinery ({@link
 * FederatedJob} for every training run, {@link EvalFunction} / {@link ProxyEvalFunction} / {@link
 * GenerationEvalFunction} for every evaluation):
 *
 * <ol>
 *   <li>data: import the data set (cached), optional filter and fixed sample (written to {@code
 *       OUT/data}), and the server's
 *       public distillation set split off by a hash ({@link ServerSplit#split}); every run
 *       trains on the remaining rows with the same partitioning and seed, so every run has the same
 *       clients and the same held-out rows;
 *   <li>runs: FedAvg-LoRA on the small model, FedPT (small clients, large server model), FedAvg-LoRA
 *       on the large model, and centralised LoRA on the large model (every client's training rows
 *       pooled into one client, {@link #pooled}). With {@code client.local_steps} it takes, per
 *       round, as many optimiser steps of the same batch as the clients of a federated round
 *       together, so the examples seen per round match; with {@code client.local_epochs} it runs
 *       those epochs over every client's rows each round, which is N / (clients per round) times
 *       the examples of a federated round when fewer than all N clients are sampled (the report's
 *       "centralised budget" line says which);
 *   <li>evaluation of the two base models and every run's final adapter on the same held-out rows
 *       (at most {@code bench.eval_rows}): label-scoring accuracy for classification, ROUGE-L of
 *       greedy generations for instruction data, the response loss for both; the proxy-tuned large
 *       model and the α ablation (evaluation only, or FedPT retrained per α);
 *   <li>resources: per-client bytes per round of FedPT and FedAvg-large, and one client's local
 *       training memory for each in a fresh JVM ({@link MemoryProbe}).
 * </ol>
 * Writes {@code results.md}, {@code results.json} and {@code bench.yaml} to the output directory
 * and prints the table.
 */
public final class FedPtBenchmark {
    private FedPtBenchmark() {}

    /**
     * @param outDir data, runs and results (local)
     * @param defaults {@code conf/defaults.yaml} or null
     * @param confs {@code --conf} files
     * @param sets {@code --set} overrides (job keys or {@code bench.*})
     * @param family the family directory from {@code --family}, or null for {@code bench.family}
     * @param defaultFamily the family directory when neither is set (the quickstart cache)
     * @param datasetCache registry-package cache for importing the data set
     * @param reuse resume/reuse a run whose output directory holds the same resolved configuration;
     *     refused when {@code OUT/data/split.json} records other data settings
     * @param command the command line, for the report
     * @param out where progress and the evaluation lines are printed
     */
    public record Options(Path outDir, Path defaults, List<Path> confs, List<String> sets, Path family,
            Path defaultFamily, Path datasetCache, boolean reuse, String command, PrintStream out) {}

    /** The report, where it was written, and the training runs (by name). */
    public record Result(FedPtReport report, Path markdown, Path json, Map<String, FederatedJob.JobResult> runs) {}

    /** A model to evaluate: {@code modelUri} (+ adapter), or the proxy large + α (small+adapter − small). */
    record Target(String modelUri, float[] adapter, String largeUri, double alpha) {}

    /**
     * The expert adapter of a FedPT run's proxy: its final adapter, plus the expert offset when the
     * run used {@code method_params.expert: client_updates} (as {@code method/proxy.json} says).
     */
    static float[] proxyExpert(FederatedJob.JobResult fedpt) {
        return FedPt.expert(fedpt.finalAdapter(), fedpt.methodState().get(FedPt.EXPERT_OFFSET));
    }

    /** The proxy row's label: α, and the expert when it is not the paper's (the aggregated adapter). */
    static String proxyLabel(FedPtConfig p) {
        return String.format(Locale.ROOT, "FedPT: proxy-tuned large (α=%s%s)", FedPtReport.fmt(p.alpha(), 2),
                p.expert() == FedPtConfig.Expert.CLIENT_UPDATES ? ", expert = client updates" : "");
    }

    /** Scores of one evaluation. */
    record Scores(double metric, double loss, long examples, List<GenerationEvalFunction.Sample> samples) {}

    public static Result run(SparkSession spark, Options o) throws IOException, InterruptedException {
        long start = System.nanoTime();
        PrintStream out = o.out();
        FedPtBenchLoader loader = new FedPtBenchLoader(o.defaults(), o.confs(), o.sets());
        FedPtBenchConfig bench = loader.bench();
        Path familyDir = o.family() != null ? o.family()
                : bench.family() != null ? Path.of(bench.family()) : o.defaultFamily();
        Path dataDir = o.outDir().resolve("data");
        Path splitFile = dataDir.resolve(SPLIT_FILE);
        Map<String, String> dataSettings = dataSettings(bench, familyDir);
        if (o.reuse()) {
            checkReuse(splitFile, dataSettings, o.outDir().resolve("runs"));
        }
        Files.createDirectories(o.outDir());
        Files.writeString(o.outDir().resolve("bench.yaml"), FedPtBenchLoader.toYaml(bench), StandardCharsets.UTF_8);
        Map<String, Double> phases = new LinkedHashMap<>();
        Map<String, String> setup = new LinkedHashMap<>();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());

        // 1. data
        long t = header(out, "data: " + bench.dataset());
        Path clients = dataDir.resolve(bench.dataset() + "-clients");
        Path server = dataDir.resolve(bench.dataset() + "-server");
        Files.deleteIfExists(splitFile); // no record while the split is rewritten
        DataSplit split = splitData(spark, bench, o, dataDir, clients, server);
        Files.createDirectories(dataDir);
        Files.writeString(splitFile, splitJson(dataSettings), StandardCharsets.UTF_8);
        out.printf(Locale.ROOT, "  %s: %,d rows used; %,d for the clients, %,d held by the server (public distillation"
                + " set)%n", split.source(), split.rows(), split.clientRows(), split.serverRows());
        phases.put("data", done(t));

        // 2. the model family
        t = header(out, "model family");
        if (!Files.exists(familyDir.resolve(ModelFamily.FILE))) {
            throw new IllegalArgumentException("no model family in " + familyDir + " (" + ModelFamily.FILE + " missing);"
                    + " build it with `bin/understudy quickstart` or `bin/understudy pretrain --conf"
                    + " conf/pretrain/quickstart.yaml ...`, or point bench.family (or --family) at one");
        }
        ModelFamily family = ModelFamily.load(familyDir).checkSharedVocabulary(List.of(bench.small(), bench.large()));
        ModelFamily.Member small = family.member(bench.small());
        ModelFamily.Member large = family.member(bench.large());
        Path smallDir = family.memberDir(familyDir, small.name());
        Path largeDir = family.memberDir(familyDir, large.name());
        String smallUri = dirUri(smallDir);
        String largeUri = dirUri(largeDir);
        out.printf(Locale.ROOT, "  %s: %s %,d parameters (held-out ppl %.2f), %s %,d parameters (held-out ppl %.2f)%n",
                familyDir, small.name(), small.parameters(), small.heldoutPerplexity(), large.name(), large.parameters(),
                large.heldoutPerplexity());
        phases.put("family", done(t));

        Path runs = o.outDir().resolve("runs");
        List<String> common = List.of("data.path=" + dirUri(clients), "data.format=parquet", "output.overwrite=true");
        RunConfigs rc = new RunConfigs(loader, common, runs, smallUri, largeUri, dirUri(server));
        JobConfig base = rc.fedavg("fedavg-small", smallUri);
        FedPtConfig fedptParams = FedPtConfig.parse(rc.fedpt("fedpt", Double.NaN).methodParams());

        // 3. the clients' data as every run sees it, and the held-out rows every row of the table is evaluated on
        t = header(out, "data split (the same for every run) and the held-out rows of the comparison");
        sc.setJobGroup("understudy-bench", "bench fedpt: prepare the evaluation data", false);
        DataPrep.Prepared prepared = DataPrep.prepare(spark, base, Math.max(1, sc.defaultParallelism()));
        List<JavaPairRDD<String, ClientData>> cached = new ArrayList<>(List.of(prepared.clients()));
        try {
            Map<String, Long> evalSizes = new TreeMap<>(prepared.clients().mapValues(c -> (long) c.eval().size()).collectAsMap());
            long heldOut = evalSizes.values().stream().mapToLong(Long::longValue).sum();
            Map<String, Integer> quotas = evalQuotas(evalSizes, bench.evalRows());
            JavaPairRDD<String, ClientData> evalRdd = evalSubset(prepared.clients(), quotas);
            cached.add(evalRdd);
            long evalRows = quotas.values().stream().mapToLong(Integer::longValue).sum();
            int nClients = prepared.trainSizes().size();
            int perRound = clientsPerRound(nClients, base.server().clientsPerRound(), base.server().fraction(),
                    base.server().minClients());
            out.printf(Locale.ROOT, "  %d clients, %,d training rows, %,d held-out rows, %,d of them evaluated%n", nClients,
                    prepared.rows(), heldOut, evalRows);
            phases.put("split", done(t));

            Map<String, FederatedJob.JobResult> results = new LinkedHashMap<>();
            Runner runner = new Runner(spark, o, runs, results, phases);
            // 4. training runs
            if (bench.runs("fedavg_small")) {
                runner.run("fedavg-small", "FedAvg-LoRA on '" + small.name() + "'", base, UnaryOperator.identity());
            }
            JobConfig fedptCfg = rc.fedpt("fedpt", Double.NaN);
            if (bench.runs("fedpt")) {
                runner.run("fedpt", "FedPT: clients tune '" + small.name() + "', the server proxy-tunes '" + large.name()
                        + "' and distils it back", fedptCfg, UnaryOperator.identity());
            }
            JobConfig largeCfg = rc.fedavg("fedavg-large", largeUri);
            if (bench.runs("fedavg_large")) {
                runner.run("fedavg-large", "FedAvg-LoRA on '" + large.name() + "'", largeCfg, UnaryOperator.identity());
            }
            String centralBudget;
            if (largeCfg.client().localEpochs() > 0) {
                centralBudget = largeCfg.client().localEpochs() + " local epoch(s) over all client rows per round";
            } else {
                centralBudget = String.format(Locale.ROOT, "%d rounds × %d steps (= %d clients × %d local steps) × batch %d",
                        largeCfg.server().rounds(), perRound * largeCfg.client().localSteps(), perRound,
                        largeCfg.client().localSteps(), largeCfg.client().batchSize());
            }
            double centralLr = bench.centralLr() > 0 ? bench.centralLr() : largeCfg.client().lr();
            centralBudget += String.format(Locale.ROOT, ", lr %s%s", centralLr,
                    bench.centralLr() > 0 ? " (bench.central_lr)" : " (the clients')");
            if (bench.runs("central_large")) {
                JobConfig central = rc.central("central-large", largeCfg, perRound, bench.centralLr());
                runner.run("central-large", "centralised LoRA on '" + large.name() + "': " + centralBudget, central,
                        FedPtBenchmark::pooled);
            }

            // 5. evaluation: every model on the same held-out rows
            t = header(out, "evaluate every model on the same " + evalRows + " held-out rows");
            Evaluator ev = new Evaluator(spark, base, prepared, evalRdd, bench.maxNewTokens(), smallUri, largeUri, out);
            List<FedPtReport.Row> rows = new ArrayList<>();
            Map<String, List<String[]>> samples = new LinkedHashMap<>();
            ev.row(rows, samples, "large_base", large.name(), "base (pretrained only)", new Target(largeUri, null, null, 0),
                    null, false, large.name() + "/");
            ev.row(rows, samples, "small_base", small.name(), "base (pretrained only)", new Target(smallUri, null, null, 0),
                    null, false, small.name() + "/");
            FederatedJob.JobResult r;
            if ((r = results.get("fedavg-small")) != null) {
                ev.row(rows, samples, "fedavg_small", small.name(), "FedAvg-LoRA", new Target(smallUri, r.finalAdapter(), null, 0),
                        r, false, "runs/fedavg-small/adapter/");
            }
            FederatedJob.JobResult fedpt = results.get("fedpt");
            if (fedpt != null) {
                ev.row(rows, samples, "fedpt_small", small.name(), "FedPT: small after distillation",
                        new Target(smallUri, fedpt.finalAdapter(), null, 0), fedpt, false, "runs/fedpt/adapter/");
                ev.row(rows, samples, "fedpt_proxy", large.name(), proxyLabel(fedptParams),
                        new Target(smallUri, proxyExpert(fedpt), largeUri, fedptParams.alpha()), fedpt, true,
                        "runs/fedpt/method/proxy.json");
            }
            FederatedJob.JobResult fedavgSmall = results.get("fedavg-small");
            if (fedavgSmall != null) {
                // proxy-tuning alone (Liu et al. 2024), no distillation: FedPT's step 4 on FedAvg-small's adapter
                ev.row(rows, samples, "proxy_fedavg_small", large.name(), String.format(Locale.ROOT,
                        "proxy-tuned large from FedAvg-LoRA small, no KD (α=%s)", FedPtReport.fmt(fedptParams.alpha(), 2)),
                        new Target(smallUri, fedavgSmall.finalAdapter(), largeUri, fedptParams.alpha()), null, false,
                        "runs/fedavg-small/adapter/ + " + large.name() + "/");
            }
            if ((r = results.get("fedavg-large")) != null) {
                ev.row(rows, samples, "fedavg_large", large.name(), "FedAvg-LoRA", new Target(largeUri, r.finalAdapter(), null, 0),
                        r, false, "runs/fedavg-large/adapter/");
            }
            if ((r = results.get("central-large")) != null) {
                ev.row(rows, samples, "central_large", large.name(), "centralised LoRA (all client rows)",
                        new Target(largeUri, r.finalAdapter(), null, 0), r, false, "runs/central-large/adapter/");
            }
            phases.put("evaluate", done(t));

            // 6. α ablation
            List<FedPtReport.AblationRow> ablation = new ArrayList<>();
            if (fedpt != null && bench.runs("ablation")) {
                t = header(out, "α ablation " + bench.alphas() + (bench.alphaRetrain() ? " (evaluation with the final FedPT"
                        + " adapter, and FedPT retrained per α)" : " (evaluation only, final FedPT adapter)"));
                FedPtReport.Row main = rows.stream().filter(x -> x.id().equals("fedpt_proxy")).findFirst().orElseThrow();
                FedPtReport.Row mainSmall = rows.stream().filter(x -> x.id().equals("fedpt_small")).findFirst().orElseThrow();
                for (double a : bench.alphas()) {
                    boolean same = a == fedptParams.alpha();
                    FedPtReport.Score evalOnly = same ? new FedPtReport.Score(main.metric(), main.loss())
                            : ev.score(new Target(smallUri, proxyExpert(fedpt), largeUri, a));
                    FedPtReport.Row noKdRow = rows.stream().filter(x -> x.id().equals(FedPtReport.PROXY_NO_KD)).findFirst()
                            .orElse(null);
                    FedPtReport.Score noKd = fedavgSmall == null ? null : same
                            ? new FedPtReport.Score(noKdRow.metric(), noKdRow.loss())
                            : ev.score(new Target(smallUri, fedavgSmall.finalAdapter(), largeUri, a));
                    FedPtReport.Score retrained = null;
                    FedPtReport.Score retrainedSmall = null;
                    if (bench.alphaRetrain()) {
                        if (same) {
                            retrained = evalOnly;
                            retrainedSmall = new FedPtReport.Score(mainSmall.metric(), mainSmall.loss());
                        } else {
                            String name = "fedpt-alpha-" + FedPtReport.fmt(a, 2);
                            FederatedJob.JobResult ra = runner.run(name, "FedPT retrained at α=" + a, rc.fedpt(name, a),
                                    UnaryOperator.identity());
                            retrained = ev.score(new Target(smallUri, proxyExpert(ra), largeUri, a));
                            retrainedSmall = ev.score(new Target(smallUri, ra.finalAdapter(), null, 0));
                        }
                    }
                    ablation.add(new FedPtReport.AblationRow(a, evalOnly, noKd, retrained, retrainedSmall));
                    out.printf(Locale.ROOT, "  α=%s: %s %s, loss %s%n", FedPtReport.fmt(a, 2), ev.metricName(),
                            FedPtReport.fmt(evalOnly.metric(), 3), FedPtReport.fmt(evalOnly.loss(), 4));
                }
                phases.put("ablation", done(t));
            }

            // 7. resources
            List<FedPtReport.Traffic> traffic = new ArrayList<>();
            if (fedpt != null) {
                traffic.add(traffic("fedpt", small.name(), fedpt));
            }
            if ((r = results.get("fedavg-large")) != null) {
                traffic.add(traffic("fedavg_large", large.name(), r));
            }
            List<FedPtReport.Memory> memory = new ArrayList<>();
            String probeNote = null;
            if (bench.memoryProbe()) {
                t = header(out, "memory of one client's local training (fresh JVM per model)");
                String clientId = largestClient(prepared.trainSizes());
                ClientData data = prepared.clients().lookup(clientId).get(0);
                List<Example> examples = new ArrayList<>();
                for (ClientData.Tokens tk : data.train()) {
                    examples.add(new Example(tk.ids(), tk.promptLength()));
                }
                TrainSettings ts = ev.settings(smallUri);
                int steps = ts.stepsFor(examples.size());
                Path work = o.outDir().resolve("memory-probe");
                for (String[] m : new String[][] {{"fedpt", small.name(), smallDir.toString()},
                        {"fedavg_large", large.name(), largeDir.toString()}}) {
                    MemoryProbe.Result res = MemoryProbe.measure(Path.of(m[2]), ts, examples, steps, 1, work);
                    memory.add(new FedPtReport.Memory(m[0], m[1], res));
                    out.printf(Locale.ROOT, "  %s (%s, client %s: %d examples, %d steps of batch %d): peak RSS %s, native heap"
                            + " for model + training %s, tensor state %s%n", m[0], m[1], clientId, examples.size(), steps,
                            ts.batchSize(), FedPtReport.mib(res.peakRss()), FedPtReport.mib(res.nativeTraining()),
                            FedPtReport.mib(res.tensorStateBytes()));
                }
                probeNote = "client " + clientId + " (the largest), " + examples.size() + " training examples, " + steps
                        + " steps of batch " + ts.batchSize() + ", 1 torch thread, in a fresh JVM per model";
                phases.put("memory", done(t));
            }

            // 8. the report
            setup.put("data", split.source() + (bench.where() != null ? " where " + bench.where() : "")
                    + (bench.sampleRows() > 0 ? ", fixed sample of " + bench.sampleRows() + " rows" : "") + ": "
                    + split.rows() + " rows; " + split.clientRows() + " for the clients, " + split.serverRows()
                    + " held by the server (public distillation set, " + bench.serverPercent() + "% by hash of "
                    + bench.splitColumns() + ")");
            setup.put("split", nClients + " clients (" + describePartitioning(base) + "), " + prepared.rows()
                    + " training rows; " + evalRows + " of " + heldOut + " held-out rows evaluated, the same rows for every"
                    + " row of the table");
            setup.put("training", base.server().rounds() + " rounds, " + perRound + " clients per round, "
                    + (base.client().localEpochs() > 0 ? base.client().localEpochs() + " local epochs"
                            : base.client().localSteps() + " local steps") + " of batch " + base.client().batchSize()
                    + ", lr " + base.client().lr() + ", LoRA r=" + base.model().lora().rank() + " on "
                    + base.model().lora().targetModules());
            setup.put("FedPT", String.format(Locale.ROOT, "α=%s, expert=%s, T=%s, KD %d steps/round of batch %d, kd_lr %s,"
                    + " ce_weight %s, distillation set %d rows", fedptParams.alpha(), fedptParams.expert().key(),
                    fedptParams.temperature(), fedptParams.kdSteps(), fedptParams.kdBatchSize(),
                    fedptParams.kdLr() > 0 ? fedptParams.kdLr() : "client lr", fedptParams.ceWeight(), split.serverRows()));
            setup.put("centralised budget", centralBudget);
            setup.put("models", String.format(Locale.ROOT, "%s: %s (%,d parameters) and %s (%,d parameters)",
                    familyDir, small.name(), small.parameters(), large.name(), large.parameters()));
            setup.put("seed", base.seed() + " (partitioning, client sampling, training); the same for every run");
            setup.put("machine", Runtime.getRuntime().availableProcessors() + " cores, Spark " + spark.sparkContext().master()
                    + "; timings on a shared machine");
            if (probeNote != null) {
                setup.put("memory probe", probeNote);
            }
            phases.put("total", done(start));
            FedPtReport report = new FedPtReport(bench.dataset() + " (" + nClients + " clients)", ev.metricName(), setup, rows,
                    ablation, traffic, memory, bench.gapTarget(), o.command(), phases, samples);
            Path md = o.outDir().resolve("results.md");
            Path json = o.outDir().resolve("results.json");
            Files.writeString(md, report.markdown(), StandardCharsets.UTF_8);
            Files.writeString(json, report.json(), StandardCharsets.UTF_8);
            return new Result(report, md, json, results);
        } finally {
            cached.forEach(rdd -> rdd.unpersist(false));
        }
    }

    // ---- data ----

    record DataSplit(String source, long rows, long clientRows, long serverRows) {}

    static DataSplit splitData(SparkSession spark, FedPtBenchConfig bench, Options o, Path dataDir, Path clients,
            Path server) throws IOException {
        String source;
        if (bench.data() != null) {
            source = bench.data().contains("://") ? bench.data() : Path.of(bench.data()).toAbsolutePath().toUri().toString();
        } else {
            Path dir = dataDir.resolve(bench.dataset());
            if (!Files.exists(dir.resolve(DatasetImport.REPORT))) {
                DatasetImport.Result res = DatasetImport.run(spark, DatasetImporters.find(bench.dataset()),
                        new RegistryFetcher(o.datasetCache()), dir.toUri().toString(), true);
                o.out().printf(Locale.ROOT, "  imported %s: %,d rows -> %s%n", bench.dataset(), res.rows(), dir);
            } else {
                o.out().printf("  %s: already imported in %s%n", bench.dataset(), dir);
            }
            source = dir.toUri().toString();
        }
        Dataset<Row> rows;
        try {
            rows = spark.read().parquet(source);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot read the data set at " + source + " (bench.data): " + e.getMessage(),
                    e);
        }
        if (bench.where() != null) {
            try {
                rows = rows.filter(bench.where());
                rows.schema();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("Cannot set bench.where to '" + bench.where() + "': " + e.getMessage(), e);
            }
        }
        List<String> have = List.of(rows.columns());
        for (String c : bench.splitColumns()) {
            if (!have.contains(c)) {
                throw new IllegalArgumentException("Cannot set bench.split_columns to " + bench.splitColumns() + ": " + source
                        + " has no column '" + c + "' (columns: " + have + ")");
            }
        }
        rows = sample(spark, rows, bench.splitColumns(), bench.sampleRows(), dataDir.resolve(bench.dataset() + "-sample"));
        long[] counts = ServerSplit.split(rows, bench.splitColumns(), bench.serverPercent(), clients, server, source);
        return new DataSplit(source, counts[0] + counts[1], counts[0], counts[1]);
    }

    /** Salt of the sample's hash, so the sample and the server split (same columns) are independent. */
    static final String SAMPLE_SALT = "understudy-bench-sample";

    /**
     * The {@code n} rows with the smallest xxhash64 of ({@link #SAMPLE_SALT}, {@code columns}), ties
     * by every column of the rows in order: a fixed sample that depends only on the rows' content
     * (like the server split), whatever their order or partitioning (rows that tie on every column
     * are identical, so which of them is kept does not matter). Written to {@code dir} (replacing
     * it) and read back, so the sort runs once and every later use sees the same rows. All rows,
     * and nothing written, when {@code n == 0}.
     */
    static Dataset<Row> sample(SparkSession spark, Dataset<Row> rows, List<String> columns, int n, Path dir) {
        if (n <= 0) {
            return rows;
        }
        List<Column> keys = new ArrayList<>();
        keys.add(functions.lit(SAMPLE_SALT));
        columns.forEach(c -> keys.add(functions.col(c)));
        List<Column> order = new ArrayList<>();
        order.add(functions.xxhash64(keys.toArray(new Column[0])));
        for (String c : rows.columns()) {
            order.add(functions.col(c));
        }
        String uri = dirUri(dir);
        rows.orderBy(order.toArray(new Column[0])).limit(n).write().mode(SaveMode.Overwrite).parquet(uri);
        return spark.read().parquet(uri);
    }

    // ---- reuse ----

    /** File in {@code OUT/data} recording the bench settings the data split there was made with. */
    static final String SPLIT_FILE = "split.json";

    /**
     * The bench settings that decide the data every run trains on, and the models, by key (the runs'
     * configurations name only the fixed paths these are written to): what {@link #SPLIT_FILE} holds.
     */
    static Map<String, String> dataSettings(FedPtBenchConfig b, Path familyDir) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("bench.dataset", b.dataset());
        m.put("bench.data", b.data());
        m.put("bench.where", b.where());
        m.put("bench.sample_rows", String.valueOf(b.sampleRows()));
        m.put("bench.server_percent", String.valueOf(b.serverPercent()));
        m.put("bench.split_columns", String.valueOf(b.splitColumns()));
        m.put("bench.family", familyDir.toAbsolutePath().normalize().toString());
        m.put("bench.small", b.small());
        m.put("bench.large", b.large());
        return m;
    }

    static String splitJson(Map<String, String> settings) {
        return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(settings) + "\n";
    }

    /**
     * With {@code --reuse}: the runs under {@code runs} may be reused only when they were trained on
     * the data split these settings make. Refuses (naming the keys that differ) when {@code splitFile}
     * records other settings, or when runs exist but no record does.
     *
     * @throws IllegalArgumentException when reusing the runs could mix data splits
     */
    static void checkReuse(Path splitFile, Map<String, String> now, Path runs) throws IOException {
        Path out = runs.getParent();
        if (!Files.exists(splitFile)) {
            boolean anyRun = false;
            if (Files.isDirectory(runs)) {
                try (var s = Files.list(runs)) {
                    anyRun = s.findAny().isPresent();
                }
            }
            if (anyRun) {
                throw new IllegalArgumentException("--reuse: " + splitFile + " is missing, so the data settings the runs in "
                        + runs + " were trained with are unknown; drop --reuse (every run is trained again) or use another"
                        + " --out. If you know those runs used the current settings, write them to " + splitFile + ":\n"
                        + splitJson(now));
            }
            return;
        }
        Map<String, String> before;
        try {
            before = new GsonBuilder().create().fromJson(Files.readString(splitFile, StandardCharsets.UTF_8),
                    new TypeToken<LinkedHashMap<String, String>>() {}.getType());
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("--reuse: cannot read " + splitFile + " (" + e.getMessage() + "); drop"
                    + " --reuse or use another --out", e);
        }
        if (before == null) {
            before = Map.of();
        }
        List<String> keys = new ArrayList<>(now.keySet());
        before.keySet().stream().filter(k -> !now.containsKey(k)).forEach(keys::add);
        List<String> differ = new ArrayList<>();
        for (String k : keys) {
            if (!Objects.equals(before.get(k), now.get(k))) {
                differ.add(k + " " + before.get(k) + " -> " + now.get(k));
            }
        }
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException("--reuse: the runs in " + out + " were trained on a data split made with"
                    + " other settings (" + String.join("; ", differ) + ", per " + splitFile + "); reusing them would"
                    + " mix data splits. Drop --reuse (every run is trained again on the new split) or use another --out");
        }
    }

    // ---- client bookkeeping (pure) ----

    /**
     * Held-out rows per client when at most {@code cap} are evaluated in total: proportional to each
     * client's held-out rows, rounded by largest remainder (ties by client id), never more than a
     * client has; every row when {@code cap} is 0 or at least the total.
     */
    static Map<String, Integer> evalQuotas(Map<String, Long> sizes, int cap) {
        long total = sizes.values().stream().mapToLong(Long::longValue).sum();
        Map<String, Integer> out = new TreeMap<>();
        if (cap <= 0 || cap >= total) {
            sizes.forEach((k, v) -> out.put(k, Math.toIntExact(v)));
            return out;
        }
        List<String> ids = new ArrayList<>(new TreeMap<>(sizes).keySet());
        double[] rem = new double[ids.size()];
        int given = 0;
        for (int i = 0; i < ids.size(); i++) {
            double exact = (double) cap * sizes.get(ids.get(i)) / total;
            int q = (int) Math.floor(exact);
            out.put(ids.get(i), q);
            rem[i] = exact - q;
            given += q;
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.<Integer>comparingDouble(i -> -rem[i]).thenComparing(ids::get));
        for (int k = 0; given < cap; k++) {
            String id = ids.get(order.get(k % order.size()));
            if (out.get(id) < sizes.get(id)) {
                out.merge(id, 1, Integer::sum);
                given++;
            }
        }
        return out;
    }

    /** Each client's first {@code quota} held-out rows (row-key order), without its training rows. */
    static JavaPairRDD<String, ClientData> evalSubset(JavaPairRDD<String, ClientData> clients, Map<String, Integer> quotas) {
        HashMap<String, Integer> q = new HashMap<>(quotas);
        return clients.mapValues(c -> new ClientData(c.clientId(), List.of(),
                new ArrayList<>(c.eval().subList(0, Math.min(c.eval().size(), q.getOrDefault(c.clientId(), 0))))))
                .persist(StorageLevel.MEMORY_AND_DISK());
    }

    /** Clients a round samples from {@code n} (as {@link RoundEngine#sample}). */
    static int clientsPerRound(int n, int clientsPerRound, double fraction, int minClients) {
        int k = clientsPerRound > 0 ? clientsPerRound : (int) Math.ceil(fraction * n);
        return Math.min(n, Math.max(k, minClients));
    }

    /** The client with the most training rows (the smallest id among equals). */
    static String largestClient(Map<String, Long> sizes) {
        return new TreeMap<>(sizes).entrySet().stream().max(Comparator.comparingLong(Map.Entry<String, Long>::getValue)
                .thenComparing(Map.Entry::getKey, Comparator.reverseOrder())).orElseThrow().getKey();
    }

    /** Id of the pooled client of the centralised baseline. */
    static final String CENTRAL = "central";

    /**
     * Every client's training and held-out rows as one client (clients in id order, each client's rows
     * in its own order). The held-out rows are the same, so the run's evaluation figures (summed over
     * clients) equal those of the federated runs' split.
     */
    static DataPrep.Prepared pooled(DataPrep.Prepared p) {
        JavaPairRDD<String, ClientData> one = p.clients()
                .mapToPair(t -> new Tuple2<>(CENTRAL, t._2()))
                .groupByKey()
                .mapValues(all -> {
                    List<ClientData> list = new ArrayList<>();
                    all.forEach(list::add);
                    list.sort(Comparator.comparing(ClientData::clientId));
                    List<ClientData.Tokens> train = new ArrayList<>();
                    List<ClientData.Tokens> eval = new ArrayList<>();
                    for (ClientData c : list) {
                        train.addAll(c.train());
                        eval.addAll(c.eval());
                    }
                    return new ClientData(CENTRAL, train, eval);
                });
        Map<String, Long> sizes = Map.of(CENTRAL, p.rows());
        JavaPairRDD<String, ClientData> packed = one.partitionBy(ClientPacking.of(sizes, 1))
                .persist(StorageLevel.MEMORY_AND_DISK());
        packed.count();
        return new DataPrep.Prepared(packed, sizes, p.rows(), p.skipped(), p.truncated(), p.heldOut(), p.labels());
    }

    /**
     * A directory's {@code file:} URI, always with the trailing slash ({@link Path#toUri} adds it only
     * when the directory exists, which would make a rerun's resolved configuration differ).
     */
    static String dirUri(Path dir) {
        String s = dir.toAbsolutePath().normalize().toUri().toString();
        return s.endsWith("/") ? s : s + "/";
    }

    static FedPtReport.Traffic traffic(String run, String model, FederatedJob.JobResult r) {
        long up = 0;
        long down = 0;
        long succeeded = 0;
        long sampled = 0;
        for (RoundEngine.RoundMetrics m : r.rounds()) {
            up += m.bytesUp();
            down += m.bytesDown();
            succeeded += m.succeeded();
            sampled += m.sampled();
        }
        return new FedPtReport.Traffic(run, model, succeeded == 0 ? Double.NaN : (double) up / succeeded,
                sampled == 0 ? Double.NaN : (double) down / sampled, r.finalAdapter().length, r.rounds().size());
    }

    private static String describePartitioning(JobConfig cfg) {
        if (!cfg.usesPartitioner()) {
            return "data.client_column " + cfg.data().clientColumn();
        }
        var p = cfg.partitioning().partitioner();
        return p.type() + " " + new TreeMap<>(p.parameters()) + ", eval_fraction " + cfg.partitioning().evalFraction();
    }

    // ---- runs ----

    /** The configuration of each run: the shared file + overrides, then the run's own settings. */
    record RunConfigs(FedPtBenchLoader loader, List<String> common, Path runs, String smallUri, String largeUri,
            String kdData) {
        JobConfig fedavg(String name, String model) {
            return job(name, model, List.of("method=fedavg_lora", "method_params={}"));
        }

        /** FedPT; {@code alpha} NaN keeps the configured α. */
        JobConfig fedpt(String name, double alpha) {
            List<String> extra = new ArrayList<>(List.of("method=fedpt", "method_params.large=" + largeUri,
                    "method_params.kd_data=" + kdData));
            if (!Double.isNaN(alpha)) {
                extra.add("method_params.alpha=" + alpha);
            }
            return job(name, smallUri, extra);
        }

        /**
         * Centralised LoRA: one pooled client; with {@code client.local_steps} the steps of a federated
         * round's clients together in one client's round, with {@code client.local_epochs} the same
         * epochs over all rows (see the class comment).
         */
        JobConfig central(String name, JobConfig federated, int perRound, double lr) {
            List<String> extra = new ArrayList<>(List.of("method=fedavg_lora", "method_params={}",
                    "server.clients_per_round=0", "server.fraction=1.0", "server.min_clients=1"));
            if (lr > 0) {
                extra.add("client.lr=" + lr);
            }
            if (federated.client().localEpochs() == 0) {
                extra.add("client.local_steps=" + (long) perRound * federated.client().localSteps());
            }
            return job(name, largeUri, extra);
        }

        JobConfig job(String name, String model, List<String> extra) {
            List<String> sets = new ArrayList<>(common);
            sets.add("model.base=" + model);
            sets.add("output.dir=" + dirUri(runs.resolve(name)));
            sets.addAll(extra);
            return loader.job(sets);
        }
    }

    /** Runs the training jobs (resuming/reusing a complete run with the same configuration with {@code --reuse}). */
    record Runner(SparkSession spark, Options o, Path runs, Map<String, FederatedJob.JobResult> results,
            Map<String, Double> phases) {
        FederatedJob.JobResult run(String name, String what, JobConfig cfg, UnaryOperator<DataPrep.Prepared> view)
                throws IOException {
            long t = header(o.out(), "run " + name + ": " + what);
            Path saved = runs.resolve(name).resolve("config.yaml");
            boolean resume = o.reuse() && Files.exists(saved)
                    && Files.readString(saved, StandardCharsets.UTF_8).equals(ConfigLoader.toYaml(cfg));
            if (resume) {
                o.out().println("  --reuse: " + runs.resolve(name) + " holds this configuration; resuming it");
            }
            FederatedJob.JobResult r = FederatedJob.run(spark, cfg, resume, 0, view);
            results.put(name, r);
            phases.put(name, done(t));
            return r;
        }
    }

    // ---- evaluation ----

    /** Evaluates models on the comparison's held-out rows (one Spark job per model). */
    static final class Evaluator {
        private final JavaSparkContext sc;
        private final JobConfig cfg;
        private final JavaPairRDD<String, ClientData> evalRdd;
        private final int maxNewTokens;
        private final DataConfig.Kind kind;
        private final EvalFunction.Labels labels;
        private final int padId;
        private final HadoopConf hadoop;
        private final Map<String, Map<String, long[]>> layouts = new HashMap<>();
        private final PrintStream out;

        Evaluator(SparkSession spark, JobConfig cfg, DataPrep.Prepared prepared, JavaPairRDD<String, ClientData> evalRdd,
                int maxNewTokens, String smallUri, String largeUri, PrintStream out) throws IOException {
            this.sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            this.out = out;
            this.cfg = cfg;
            this.evalRdd = evalRdd;
            this.maxNewTokens = maxNewTokens;
            this.kind = cfg.data().kind();
            this.hadoop = HadoopConf.of(spark.sparkContext().hadoopConfiguration());
            try (Tokenizer tok = Tokenizer.load(ExecutorModelCache.localDir(smallUri, spark.sparkContext()
                    .hadoopConfiguration()))) {
                this.padId = tok.padIdOrEos();
                this.labels = kind == DataConfig.Kind.CLASSIFICATION
                        ? JobSettings.labelCandidates(cfg, prepared.labels(), tok) : null;
            }
            for (String uri : List.of(smallUri, largeUri)) {
                try (NDManager m = NDManager.newBaseManager("PyTorch");
                        DecoderModel model = HfModels.load(ExecutorModelCache.localDir(uri, spark.sparkContext()
                                .hadoopConfiguration()), m, DataType.FLOAT32);
                        LoraAdapter init = LoraAdapter.create(model, cfg.model().lora(), 0, m)) {
                    layouts.put(uri, AdapterVectors.layoutOf(init.exportTensors()));
                }
            }
        }

        String metricName() {
            return switch (kind) {
                case CLASSIFICATION -> "accuracy";
                case INSTRUCTION -> "ROUGE-L";
                case TEXT -> "-";
            };
        }

        /** Evaluation settings for {@code modelUri} (the clients' batch size, LoRA, pad id). */
        TrainSettings settings(String modelUri) {
            return JobSettings.settings(cfg, modelUri, padId, 1, 0, hadoop);
        }

        FedPtReport.Score score(Target t) {
            Scores s = evaluate(t);
            return new FedPtReport.Score(s.metric(), s.loss());
        }

        /** Evaluates {@code t} and adds its row (and samples); {@code run} gives the run's own last evaluation. */
        void row(List<FedPtReport.Row> rows, Map<String, List<String[]>> samples, String id, String model, String training,
                Target t, FederatedJob.JobResult run, boolean proxy, String artifacts) {
            Scores s = evaluate(t);
            double runMetric = Double.NaN;
            double runLoss = Double.NaN;
            if (run != null) {
                RoundEngine.RoundMetrics last = run.rounds().get(run.rounds().size() - 1);
                if (proxy) {
                    runMetric = last.methodMetrics().getOrDefault("proxy_accuracy", Double.NaN);
                    runLoss = last.methodMetrics().getOrDefault("proxy_eval_loss", Double.NaN);
                } else {
                    runMetric = last.evalAccuracy();
                    runLoss = last.evalLoss();
                }
            }
            rows.add(new FedPtReport.Row(id, model, training, s.metric(), s.loss(), s.examples(), runMetric, runLoss,
                    artifacts));
            if (!s.samples().isEmpty()) {
                List<String[]> list = new ArrayList<>();
                for (GenerationEvalFunction.Sample x : s.samples().subList(0, Math.min(3, s.samples().size()))) {
                    list.add(new String[] {x.prompt(), x.reference(), x.generated()});
                }
                samples.put(id, list);
            }
            out.printf(Locale.ROOT, "  %-6s %-44s %s %s, eval loss %s%n", model, training, metricName(),
                    FedPtReport.fmt(s.metric(), 3), FedPtReport.fmt(s.loss(), 4));
        }

        Scores evaluate(Target t) {
            TrainSettings settings = settings(t.modelUri());
            Map<String, long[]> layout = layouts.get(t.modelUri());
            Broadcast<float[]> b = t.adapter() == null ? null : sc.broadcast(t.adapter());
            sc.setJobGroup("understudy-bench", "bench fedpt: evaluate " + (t.largeUri() != null ? "proxy α=" + t.alpha()
                    : t.modelUri()), false);
            try {
                if (kind == DataConfig.Kind.INSTRUCTION) {
                    List<GenerationEvalFunction.ClientGeneration> gens = new ArrayList<>(evalRdd.mapPartitions(
                            new GenerationEvalFunction(b, layout, settings, t.largeUri(), t.alpha(), maxNewTokens))
                            .collect());
                    gens.sort(Comparator.comparing(GenerationEvalFunction.ClientGeneration::clientId));
                    double rouge = 0;
                    double nll = 0;
                    long tokens = 0;
                    long n = 0;
                    List<GenerationEvalFunction.Sample> samples = new ArrayList<>();
                    for (GenerationEvalFunction.ClientGeneration g : gens) {
                        rouge += g.rougeSum();
                        nll += g.nll();
                        tokens += g.tokens();
                        n += g.examples();
                        samples.addAll(g.samples());
                    }
                    return new Scores(n == 0 ? Double.NaN : rouge / n, tokens == 0 ? Double.NaN : nll / tokens, n, samples);
                }
                List<EvalFunction.ClientEval> evals = new ArrayList<>(evalRdd.mapPartitions(t.largeUri() != null
                        ? new ProxyEvalFunction(b, layout, settings, t.largeUri(), t.alpha(), labels)
                        : new EvalFunction(b, layout, settings, labels)).collect());
                RoundEngine.Evaluation e = RoundEngine.summarise(evals);
                long n = evals.stream().mapToLong(EvalFunction.ClientEval::examples).sum();
                return new Scores(e.accuracy(), e.loss(), n, List.of());
            } finally {
                if (b != null) {
                    b.unpersist(false);
                }
            }
        }
    }

    private static long header(PrintStream out, String what) {
        out.printf("%n[bench fedpt] %s%n", what);
        return System.nanoTime();
    }

    private static double done(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
