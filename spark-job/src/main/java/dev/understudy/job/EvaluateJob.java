package dev.understudy.job;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.data.DataPrep;
import dev.understudy.job.engine.EvalFunction;
import dev.understudy.job.engine.MetricsTables;
import dev.understudy.job.engine.RoundEngine;
import dev.understudy.job.engine.ServerModel;
import dev.understudy.job.engine.ServerModels;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.job.run.CommittedRun;
import dev.understudy.job.run.JobSettings;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * {@code understudy evaluate}: evaluates a committed global adapter (a round of a run, by default
 * the last) or the bare base model on every client's held-out rows of the run's own data split, as
 * a Spark job, and writes the per-client table to {@code output.dir/evaluations/<what>/}. When the
 * method's server holds another model for the round ({@link
 * dev.understudy.job.engine.FederatedMethod#serverModel}, e.g. FedPT's proxy-tuned large model:
 * large base + α × (small with the round's expert adapter − small base)), that one is scored on the
 * same rows too ({@code evaluations/<what>-<kind>/}, e.g. {@code round-3-proxy}).
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
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        try (CommittedRun run = CommittedRun.open(hadoop, given, round, baseOnly,
                "run the job first, or pass --base to evaluate the base model")) {
            return evaluate(spark, run);
        }
    }

    private static Report evaluate(SparkSession spark, CommittedRun run) throws IOException {
        JobConfig cfg = run.config();
        String what = run.what();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        sc.setJobGroup("understudy-data", "data: read, assign clients, tokenise", false);
        DataPrep.Prepared data = DataPrep.prepare(spark, cfg, Math.max(1, sc.defaultParallelism()));
        try {
            Path localModel = run.localClientModel();
            TrainSettings settings;
            EvalFunction.Labels labels;
            try (Tokenizer tok = Tokenizer.load(localModel)) {
                settings = run.settings(tok.padIdOrEos());
                labels = JobSettings.labelCandidates(cfg, data.labels(), tok);
            }
            Map<String, long[]> layout = null;
            if (!run.base()) {
                try (NDManager m = NDManager.newBaseManager("PyTorch");
                        DecoderModel base = HfModels.load(localModel, m, DataType.FLOAT32)) {
                    layout = CommittedRun.layout(base, settings);
                }
            }
            ServerModel.Adapted client = run.clientServerModel(layout);
            String out = run.store().base() + "/evaluations/" + what;
            Report clientReport = score(spark, sc, data, client, settings, labels, what, out,
                    "evaluate " + what + " (" + data.trainSizes().size() + " clients)", null);
            ServerModel server = run.serverModel(client);
            if (server == client) {
                return clientReport;
            }
            // what the method's server holds besides (e.g. FedPT's proxy-tuned large model), scored on the same rows
            Report serverReport = score(spark, sc, data, server, settings, labels, what + " " + server.describe(),
                    out + "-" + server.kind(), "evaluate the " + server.describe() + " of " + what, null);
            return new Report(clientReport.what(), clientReport.loss(), clientReport.perplexity(), clientReport.accuracy(),
                    clientReport.examples(), clientReport.perClient(), clientReport.outputPath(), serverReport);
        } finally {
            data.clients().unpersist(false);
        }
    }

    private static Report score(SparkSession spark, JavaSparkContext sc, DataPrep.Prepared data, ServerModel model,
            TrainSettings settings, EvalFunction.Labels labels, String what, String out, String job, Report proxy) {
        List<EvalFunction.ClientEval> evals = ServerModels.evaluate(sc, data.clients(), model, settings, labels,
                "understudy-evaluate", job);
        evals.sort(Comparator.comparing(EvalFunction.ClientEval::clientId));
        RoundEngine.Evaluation e = RoundEngine.summarise(evals);
        MetricsTables.writePerClient(spark, evals, out);
        long examples = evals.stream().mapToLong(EvalFunction.ClientEval::examples).sum();
        return new Report(what, e.loss(), Math.exp(e.loss()), e.accuracy(), examples, evals, out, proxy);
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
