package dev.understudy.job;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.data.DataPrep;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.engine.ExecutorModelCache;
import dev.understudy.job.engine.FederatedMethod;
import dev.understudy.job.engine.MembershipAuditFunction;
import dev.understudy.job.engine.RoundCheckpoint;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.job.method.Methods;
import dev.understudy.job.run.CommittedRun;
import dev.understudy.job.run.JobSettings;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * {@code understudy audit}: the membership-inference audit of a finished run (privacy.md). The
 * run's committed configuration and round (the last, or {@code --round}) are read back, every
 * client's training rows (members) and held-out rows (non-members, {@code partitioning.eval_fraction})
 * are scored on the executors with the client model plus the round's adapter, and only histogram
 * counts reach the driver. Reports the ROC AUC of the loss attack and of the likelihood ratio
 * against the base model; 0.5 means the attack cannot tell members from non-members.
 */
public final class AuditJob {
    private AuditJob() {}

    /**
     * @param round the audited round
     * @param lossAuc AUC of the loss score
     * @param ratioAuc AUC of the base-model likelihood ratio
     * @param members scored training rows
     * @param nonMembers scored held-out rows
     * @param epsilon the run's cumulative ε at that round (NaN without DP, ∞ with noise off)
     */
    public record Result(int round, double lossAuc, double ratioAuc, long members, long nonMembers, double epsilon) {}

    public static Result run(SparkSession spark, JobConfig given, Integer round) throws IOException {
        RunStore store = new RunStore(URI.create(given.output().dir()), spark.sparkContext().hadoopConfiguration());
        JobConfig cfg = CommittedRun.committedConfig(store, given);
        RunStore.CommittedRound cr = store.readRoundOrLast(round, "run the job first");
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        DataPrep.Prepared data = DataPrep.prepare(spark, cfg, Math.max(1, sc.defaultParallelism()));
        Broadcast<float[]> bcast = null;
        try (FederatedMethod method = Methods.create(cfg)) {
            Path localModel = ExecutorModelCache.localDir(method.clientModelUri(), spark.sparkContext().hadoopConfiguration());
            TrainSettings settings;
            try (Tokenizer tok = Tokenizer.load(localModel)) {
                settings = JobSettings.settings(cfg, method.clientModelUri(), tok.padIdOrEos(), 1, 0,
                        HadoopConf.of(spark.sparkContext().hadoopConfiguration()));
            }
            Map<String, long[]> layout;
            try (NDManager m = NDManager.newBaseManager("PyTorch");
                    DecoderModel base = HfModels.load(localModel, m, DataType.FLOAT32);
                    LoraAdapter init = LoraAdapter.create(base, settings.lora(), 0, m)) {
                layout = AdapterVectors.layoutOf(init.exportTensors());
            }
            bcast = sc.broadcast(RoundCheckpoint.readVector(cr.files().get("global.safetensors"), layout));
            sc.setJobGroup("understudy-audit", "membership audit of round " + cr.round(), false);
            MembershipAuditFunction.Partial p = data.clients().mapPartitions(
                    new MembershipAuditFunction(bcast, layout, settings)).reduce(MembershipAuditFunction.Partial::merge);
            double eps = Double.NaN;
            var metrics = cr.metadata().has("metrics") ? cr.metadata().getAsJsonObject("metrics") : null;
            if (metrics != null && metrics.has("methodMetrics")
                    && metrics.getAsJsonObject("methodMetrics").has("dp_epsilon")) {
                eps = metrics.getAsJsonObject("methodMetrics").get("dp_epsilon").getAsDouble();
            }
            Result r = new Result(cr.round(), p.loss().auc(), p.ratio().auc(), p.loss().memberCount(),
                    p.loss().nonMemberCount(), eps);
            store.writeString("audit-round-" + cr.round() + ".json", new com.google.gson.GsonBuilder().serializeSpecialFloatingPointValues().setPrettyPrinting().create().toJson(r));
            return r;
        } catch (Exception e) {
            if (e instanceof IOException io) {
                throw io;
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(e);
        } finally {
            if (bcast != null) {
                bcast.unpersist(false);
            }
            data.clients().unpersist(false);
        }
    }

    static String text(Result r) {
        return String.format(Locale.ROOT, "membership audit of round %d: loss AUC %.4f, likelihood-ratio AUC %.4f"
                + " (%d training rows vs %d held-out rows; 0.5 = no leak), epsilon %s%n", r.round(), r.lossAuc(),
                r.ratioAuc(), r.members(), r.nonMembers(), Double.isNaN(r.epsilon()) ? "- (no DP)" : r.epsilon());
    }
}
