package dev.understudy.job;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.data.DataPrep;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.engine.EvalFunction;
import dev.understudy.job.engine.ExecutorModelCache;
import dev.understudy.job.engine.FederatedMethod;
import dev.understudy.job.engine.MetricsTables;
import dev.understudy.job.engine.ProxyEvalFunction;
import dev.understudy.job.engine.RoundEngine;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.job.method.FedPt;
import dev.understudy.job.method.Methods;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * {@code understudy evaluate}: evaluates a committed global adapter (a round of a run, by default
 * the last) or the bare base model on every client's held-out rows of the run's own data split, as
 * a Spark job, and writes the per-client table to {@code output.dir/evaluations/<what>/}. For a
 * FedPT run it also evaluates the proxy-tuned large model its {@code method/proxy.json} describes
 * (large base + α × (small with the round's expert adapter − small base)) on the same rows
 * ({@code evaluations/<what>-proxy/}).
 */
public final class EvaluateJob {
    private EvaluateJob() {}

    /**
     * @param what {@code round-N} or {@code base}
     * @param accuracy label-scoring accuracy (NaN unless the data are classification rows)
     */
    public record Report(String what, double loss, double perplexity, double accuracy, long examples,
            List<EvalFunction.ClientEval> perClient, String outputPath, Report proxy) {}

    /**
     * @param round the committed round to evaluate, or null for the last one
     * @param baseOnly evaluate the base model without any adapter (needs no committed round)
     */
    public static Report run(SparkSession spark, JobConfig given, Integer round, boolean baseOnly) throws IOException {
        Report report = evaluate(spark, given, round, baseOnly);
        System.out.print(table(report));
        return report;
    }

    /** As {@link #run} without printing the per-client table. */
    public static Report evaluate(SparkSession spark, JobConfig given, Integer round, boolean baseOnly) throws IOException {
        RunStore store = new RunStore(URI.create(given.output().dir()), spark.sparkContext().hadoopConfiguration());
        JobConfig cfg = committedConfig(store, given);
        String what;
        byte[] globalBytes = null;
        Map<String, float[]> methodState = Map.of();
        if (baseOnly) {
            what = "base";
        } else {
            RunStore.CommittedRound cr = store.readRoundOrLast(round,
                    "run the job first, or pass --base to evaluate the base model");
            what = "round-" + cr.round();
            globalBytes = cr.files().get("global.safetensors");
            methodState = RoundEngine.readState(cr, "method_state.safetensors");
        }
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        sc.setJobGroup("understudy-data", "data: read, assign clients, tokenise", false);
        DataPrep.Prepared data = DataPrep.prepare(spark, cfg, Math.max(1, sc.defaultParallelism()));
        Broadcast<float[]> bcast = null;
        try {
            FederatedMethod method = Methods.create(cfg);
            Path localModel = ExecutorModelCache.localDir(method.clientModelUri(), spark.sparkContext().hadoopConfiguration());
            TrainSettings settings;
            EvalFunction.Labels labels;
            try (Tokenizer tok = Tokenizer.load(localModel)) {
                settings = FederatedJob.settings(cfg, method.clientModelUri(), tok.padIdOrEos(), 1, 0,
                        HadoopConf.of(spark.sparkContext().hadoopConfiguration()));
                labels = FederatedJob.labelCandidates(cfg, data.labels(), tok);
            }
            Map<String, long[]> layout = null;
            if (globalBytes != null) {
                try (NDManager m = NDManager.newBaseManager("PyTorch");
                        DecoderModel base = HfModels.load(localModel, m, DataType.FLOAT32);
                        LoraAdapter init = LoraAdapter.create(base, settings.lora(), 0, m)) {
                    layout = AdapterVectors.layoutOf(init.exportTensors());
                }
                bcast = sc.broadcast(RoundEngine.readVector(globalBytes, layout));
            }
            sc.setJobGroup("understudy-evaluate", "evaluate " + what + " (" + data.trainSizes().size() + " clients)", false);
            List<EvalFunction.ClientEval> evals = new ArrayList<>(
                    data.clients().mapPartitions(new EvalFunction(bcast, layout, settings, labels)).collect());
            evals.sort(Comparator.comparing(EvalFunction.ClientEval::clientId));
            RoundEngine.Evaluation e = RoundEngine.summarise(evals);
            String out = store.base() + "/evaluations/" + what;
            MetricsTables.writePerClient(spark, evals, out);
            long examples = evals.stream().mapToLong(EvalFunction.ClientEval::examples).sum();
            Report proxy = null;
            if (method instanceof FedPt fedpt && bcast != null) {
                // FedPT: also the proxy-tuned large model of method/proxy.json, large + α (small + expert − small)
                float[] expert = FedPt.expert(bcast.value(), methodState.get(FedPt.EXPERT_OFFSET));
                Broadcast<float[]> eb = sc.broadcast(expert);
                sc.setJobGroup("understudy-evaluate", "evaluate the proxy-tuned large model of " + what, false);
                List<EvalFunction.ClientEval> pe = new ArrayList<>(data.clients().mapPartitions(new ProxyEvalFunction(eb,
                        layout, settings, fedpt.params().large(), fedpt.params().alpha(), labels)).collect());
                eb.unpersist(false);
                pe.sort(Comparator.comparing(EvalFunction.ClientEval::clientId));
                RoundEngine.Evaluation pv = RoundEngine.summarise(pe);
                String pout = out + "-proxy";
                MetricsTables.writePerClient(spark, pe, pout);
                proxy = new Report(what + " proxy-tuned large (α=" + fedpt.params().alpha() + ")", pv.loss(),
                        Math.exp(pv.loss()), pv.accuracy(), pe.stream().mapToLong(EvalFunction.ClientEval::examples).sum(),
                        pe, pout, null);
            }
            return new Report(what, e.loss(), Math.exp(e.loss()), e.accuracy(), examples, evals, out, proxy);
        } finally {
            if (bcast != null) {
                bcast.unpersist(false);
            }
            data.clients().unpersist(false);
        }
    }

    /** The configuration committed with the run in {@code output.dir}, else {@code given}. */
    static JobConfig committedConfig(RunStore store, JobConfig given) throws IOException {
        if (!store.exists("config.yaml")) {
            return given;
        }
        return ConfigLoader.fromYaml(store.readString("config.yaml"), store.base() + "/config.yaml");
    }

    static String table(Report r) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%n%-24s %9s %8s %9s %9s%n", "client", "examples",
                "loss", "ppl", "accuracy"));
        for (EvalFunction.ClientEval e : r.perClient()) {
            b.append(String.format(Locale.ROOT, "%-24s %9d %8.4f %9.2f %9s%n", e.clientId(), e.examples(), e.loss(),
                    Math.exp(e.loss()), Double.isNaN(e.accuracy()) ? "-" : String.format(Locale.ROOT, "%.3f", e.accuracy())));
        }
        b.append(String.format(Locale.ROOT, "%-24s %9d %8.4f %9.2f %9s%n", "all (" + r.what() + ")", r.examples(), r.loss(),
                r.perplexity(), Double.isNaN(r.accuracy()) ? "-" : String.format(Locale.ROOT, "%.3f", r.accuracy())));
        b.append("per-client table: ").append(r.outputPath()).append('\n');
        if (r.proxy() != null) {
            b.append(table(r.proxy()));
        }
        return b.toString();
    }
}
