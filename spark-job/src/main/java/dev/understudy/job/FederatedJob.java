package dev.understudy.job;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.data.DataPrep;
import dev.understudy.job.engine.EvalFunction;
import dev.understudy.job.engine.ExecutorModelCache;
import dev.understudy.job.engine.FederatedMethod;
import dev.understudy.job.engine.RoundEngine;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.job.method.Methods;
import dev.understudy.job.run.JobSettings;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.federation.FederatedStrategy;
import dev.understudy.ops.federation.Strategies;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Entry point callable from tests, notebooks and {@link Main}: FedAvg-LoRA (and the other server
 * strategies) over the configured data, with resumable rounds committed to {@code output.dir}.
 *
 * <pre>
 * JobConfig cfg = ConfigLoader.load(Path.of("conf/defaults.yaml"), List.of(Path.of("my.yaml")), List.of("server.rounds=5"));
 * JobResult r = FederatedJob.run(spark, cfg, false);
 * </pre>
 */
public final class FederatedJob {
    private FederatedJob() {}

    /**
     * What a run produced.
     *
     * @param finalAdapter the committed global adapter of the last round run
     * @param methodState the method's round-to-round state after that round ({@link
     *     dev.understudy.job.engine.FederatedMethod#state()}; e.g. FedPT's expert offset)
     */
    public record JobResult(String outputDir, List<RoundEngine.RoundMetrics> rounds, int resumedFrom,
            Map<String, Long> skippedRows, long truncatedRows, long heldOutRows, int clients, long trainRows,
            float[] finalAdapter, Map<String, float[]> methodState) {}

    /**
     * Runs (or, with {@code resume}, continues) the job.
     *
     * @throws IllegalStateException when {@code output.dir} already has committed rounds and neither
     *     {@code resume} nor {@code output.overwrite} is set
     */
    public static JobResult run(SparkSession spark, JobConfig cfg, boolean resume) throws IOException {
        return run(spark, cfg, resume, 0);
    }

    /** As {@link #run(SparkSession, JobConfig, boolean)}, stopping after round {@code stopAfter} (0 = never; for tests). */
    public static JobResult run(SparkSession spark, JobConfig cfg, boolean resume, int stopAfter) throws IOException {
        return run(spark, cfg, resume, stopAfter, UnaryOperator.identity());
    }

    /**
     * As {@link #run(SparkSession, JobConfig, boolean, int)} over a view of the prepared client data
     * (e.g. every client's rows pooled into one client for a centralised baseline on the same split).
     */
    public static JobResult run(SparkSession spark, JobConfig cfg, boolean resume, int stopAfter,
            UnaryOperator<DataPrep.Prepared> dataView) throws IOException {
        rejectUnimplemented(cfg);
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        try (RunStart opened = RunStart.open(hadoop, cfg, resume)) { // lease, overwrite, resume overrides
            return run(spark, opened.config(), opened.store(), stopAfter, dataView);
        }
    }

    private static JobResult run(SparkSession spark, JobConfig cfg, RunStore store, int stopAfter,
            UnaryOperator<DataPrep.Prepared> dataView) throws IOException {
        String resolved = ConfigLoader.toYaml(cfg);
        store.writeString("config.yaml", resolved);

        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = Math.max(1, sc.defaultParallelism());
        sc.setJobGroup("understudy-data", "data: read, assign clients, tokenise", false);
        DataPrep.Prepared prepared = DataPrep.prepare(spark, cfg, partitions);
        if (prepared.labelMix() != null) { // for `understudy report`'s label-mix heat map
            store.writeString(dev.understudy.job.data.LabelMix.FILE, prepared.labelMix().toJson());
        }
        DataPrep.Prepared data = null;
        try {
            data = dataView.apply(prepared);
            FederatedMethod method = Methods.create(cfg);
            try (method) {
                return runWith(spark, sc, cfg, data, method, store, resolved, stopAfter);
            }
        } finally {
            if (data != null) {
                data.clients().unpersist(false);
            }
            prepared.clients().unpersist(false);
        }
    }

    private static JobResult runWith(SparkSession spark, JavaSparkContext sc, JobConfig cfg, DataPrep.Prepared data,
            FederatedMethod method, RunStore store, String resolved, int stopAfter) throws IOException {
        {
            Path localModel = ExecutorModelCache.localDir(method.clientModelUri(), spark.sparkContext().hadoopConfiguration());
            int padId;
            EvalFunction.Labels labels = null;
            try (Tokenizer tok = Tokenizer.load(localModel)) {
                padId = tok.padIdOrEos();
                labels = JobSettings.labelCandidates(cfg, data.labels(), tok);
            }
            var c = cfg.client();
            long maxClient = data.trainSizes().values().stream().mapToLong(Long::longValue).max().orElse(1);
            Map<String, Object> params = new LinkedHashMap<>(cfg.server().strategyParams());
            params.putIfAbsent("accept_failures", cfg.server().acceptFailures());
            if (cfg.server().strategy().equalsIgnoreCase("fedprox") && c.proximalMu() > 0) {
                params.putIfAbsent("proximal_mu", c.proximalMu());
            }
            FederatedStrategy strategy = Strategies.create(cfg.server().strategy(), params);
            double mu = proximalMu(c.proximalMu(), strategy.proximalMu());
            HadoopConf hadoop = HadoopConf.of(spark.sparkContext().hadoopConfiguration());
            TrainSettings probe = JobSettings.settings(cfg, method.clientModelUri(), padId, 0, mu, hadoop);
            long totalSteps = (long) cfg.server().rounds() * probe.stepsFor(maxClient);
            TrainSettings settings = JobSettings.settings(cfg, method.clientModelUri(), padId, totalSteps, mu, hadoop);
            var s = cfg.server();
            RoundEngine.Options opts = new RoundEngine.Options(s.rounds(), s.clientsPerRound(), s.fraction(), s.minClients(),
                    s.evalEvery(), s.maxFailedFraction(), cfg.seed(), stopAfter, s.collectBudgetMb() * 1024 * 1024);
            System.out.println(data.dataLine());
            store.writeString("data.json", data.reportJson());
            try (NDManager m = NDManager.newBaseManager("PyTorch");
                    DecoderModel base = HfModels.load(localModel, m, DataType.FLOAT32)) {
                String targetWarning = dev.understudy.ops.lora.TargetModuleCheck.partialMatchWarning(
                        cfg.model().lora().targetModules(), base.linearModules().stream().map(l -> l.name()).toList());
                if (targetWarning != null) {
                    System.out.println(targetWarning);
                }
                RoundEngine engine = new RoundEngine(sc, data.clients(), List.copyOf(data.trainSizes().keySet()), settings,
                        strategy, method, store, opts, resolved, base, labels, data.skippedTotal())
                        .withPrivacy(PrivacyOptions.of(cfg, labels));
                RoundEngine.Result r = engine.run();
                return new JobResult(store.base(), r.rounds(), r.resumedFrom(), data.skipped(), data.truncated(),
                        data.heldOut(), data.trainSizes().size(), data.rows(), r.finalAdapter(), r.methodState());
            }
        }
    }

    /**
     * Keys the schema accepts but this engine does not act on yet fail loudly instead of being
     * ignored.
     */
    static void rejectUnimplemented(JobConfig cfg) {
        List<String> bad = new java.util.ArrayList<>();
        if (cfg.client().threads() > 0) {
            bad.add("client.threads=" + cfg.client().threads() + " (set -Dai.djl.pytorch.num_threads on the executors)");
        }
        if (cfg.data().evalPath() != null) {
            bad.add("data.eval_path (evaluation uses the per-client hold-out)");
        }
        if (cfg.model().dtype() != dev.understudy.job.config.ModelConfig.Dtype.FLOAT32) {
            bad.add("model.dtype=" + cfg.model().dtype());
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException("not implemented yet: " + bad + "; remove these settings");
        }
    }

    /**
     * The FedProx μ the clients use: {@code client.proximal_mu} (with any strategy, e.g. FedAdam +
     * proximal term) or the fedprox strategy's {@code proximal_mu}; both set to different values is
     * an error.
     */
    static double proximalMu(double clientMu, double strategyMu) {
        if (clientMu > 0 && strategyMu > 0 && clientMu != strategyMu) {
            throw new IllegalArgumentException("client.proximal_mu=" + clientMu + " and server.strategy_params.proximal_mu="
                    + strategyMu + " disagree; set only one of them");
        }
        return Math.max(clientMu, strategyMu);
    }
}
