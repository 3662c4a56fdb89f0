package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.job.testing.TinyJob;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.PeftAdapters;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The round-engine acceptance run through the public entry point: a tiny random-init model, a
 * generated labelled Parquet dataset split over 8 clients by a Dirichlet partitioner, 3 rounds of
 * FedAvg on local[2].
 */
class FederatedJobTest extends SparkTestBase {
    @TempDir
    static Path tmp;
    static TinyJob job;

    @BeforeAll
    static void setUp() throws Exception {
        job = TinyJob.create(spark, tmp);
    }

    static JobConfig config(String out, String... extra) {
        return job.config(tmp.resolve(out).toUri().toString(), extra);
    }

    @Test
    void fedAvgOnADirichletSplitLowersEvalLossAndWritesArtifacts() throws Exception {
        FederatedJob.JobResult r = FederatedJob.run(spark, config("run1"), false);
        assertThat(r.clients()).isEqualTo(8);
        assertThat(r.skippedRows()).containsEntry("null_text", 1L);
        assertThat(r.rounds()).hasSize(3);
        assertThat(r.rounds().get(2).evalLoss()).isLessThan(r.rounds().get(0).evalLoss());
        Path out = tmp.resolve("run1");
        assertThat(out.resolve("config.yaml")).exists();
        assertThat(out.resolve("rounds/round-00003/_MANIFEST.json")).exists();
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel base = HfModels.load(job.model, m, DataType.FLOAT32);
                LoraAdapter back = PeftAdapters.load(new DirectoryModelSource(out.resolve("adapter")), base, m)) {
            assertThat(AdapterVectors.flatten(back.exportTensors())).isEqualTo(r.finalAdapter());
        }
        // classification data: label-scoring accuracy on the held-out rows, per round and per client
        assertThat(r.rounds()).allSatisfy(m -> assertThat(m.evalAccuracy()).isBetween(0.0, 1.0));
        Dataset<Row> metrics = spark.read().parquet(out.resolve("metrics.parquet").toString());
        assertThat(metrics.count()).isEqualTo(3);
        assertThat(metrics.filter("skipped_rows = 1 AND bytes_up > 0 AND eval_accuracy >= 0").count()).isEqualTo(3);
        Dataset<Row> perClient = spark.read().parquet(out.resolve("eval_per_client").toString());
        assertThat(perClient.count()).isEqualTo(3 * 8); // eval_every=1, every client has held-out rows
        assertThat(perClient.filter("round = 3").select("client_id").distinct().count()).isEqualTo(8);
        // `evaluate` rebuilds the same split: the last round's figures exactly; the base model is worse
        EvaluateJob.Report ev = EvaluateJob.run(spark, config("run1"), null, false);
        assertThat(ev.what()).isEqualTo("round-3");
        assertThat(ev.loss()).isEqualTo(r.rounds().get(2).evalLoss());
        assertThat(ev.accuracy()).isEqualTo(r.rounds().get(2).evalAccuracy());
        assertThat(spark.read().parquet(ev.outputPath()).count()).isEqualTo(8);
        EvaluateJob.Report base = EvaluateJob.run(spark, config("run1"), null, true);
        assertThat(base.loss()).isGreaterThan(ev.loss());
        assertThatThrownBy(() -> EvaluateJob.run(spark, config("run1"), 7, false)).hasMessageContaining("round 7 is not committed");
        // `export` writes a committed round as a PEFT adapter anywhere
        ExportJob.run(spark.sparkContext().hadoopConfiguration(), config("run1"), 2, tmp.resolve("exported").toUri().toString(),
                tmp.resolve("exported-merged").toUri().toString());
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel baseModel = HfModels.load(job.model, m, DataType.FLOAT32);
                LoraAdapter back = PeftAdapters.load(new DirectoryModelSource(tmp.resolve("exported")), baseModel, m)) {
            assertThat(AdapterVectors.flatten(back.exportTensors())).isNotEqualTo(r.finalAdapter()).hasSameSizeAs(r.finalAdapter());
            // the merged model: adapted projections changed, everything else identical to the base
            try (DecoderModel merged = HfModels.load(tmp.resolve("exported-merged"), m, DataType.FLOAT32)) {
                var mt = merged.exportTensors();
                var bt = baseModel.exportTensors();
                assertThat(mt.get("model.layers.0.self_attn.q_proj.weight").values())
                        .isNotEqualTo(bt.get("model.layers.0.self_attn.q_proj.weight").values());
                assertThat(mt.get("model.layers.0.self_attn.k_proj.weight").values())
                        .isEqualTo(bt.get("model.layers.0.self_attn.k_proj.weight").values());
            }
        }
        // a second `run` into the same directory refuses instead of mixing runs
        assertThatThrownBy(() -> FederatedJob.run(spark, config("run1"), false))
                .hasMessageContaining("already holds 3 committed round(s)").hasMessageContaining("resume");
    }

    @Test
    void settingsNotImplementedYetAreRejectedNotIgnored() {
        assertThatThrownBy(() -> FederatedJob.run(spark, config("run-x", "data.eval_path=" + job.data.toUri()), false))
                .hasMessageContaining("not implemented yet").hasMessageContaining("data.eval_path");
        assertThatThrownBy(() -> FederatedJob.run(spark, config("run-y", "method=fedpt_unknown"), false))
                .hasMessageContaining("method").hasMessageContaining("fedavg_lora");
    }

    /** FedProx: the proximal term changes the clients' updates, and pulls them towards the global. */
    @Test
    void fedProxClientTermShrinksTheRoundUpdate() throws Exception {
        float[] plain = FederatedJob.run(spark, config("run-fedavg1", "server.rounds=1", "output.save_merged=true"), false)
                .finalAdapter();
        assertThat(tmp.resolve("run-fedavg1/merged/config.json")).exists();
        assertThat(tmp.resolve("run-fedavg1/merged/model.safetensors")).exists();
        float[] prox = FederatedJob.run(spark, config("run-fedprox1", "server.rounds=1", "server.strategy=fedprox",
                "server.strategy_params={proximal_mu: 5.0}"), false).finalAdapter();
        assertThat(prox).isNotEqualTo(plain);
        float[] init = FederatedJob.run(spark, config("run-init", "server.rounds=1", "client.lr=1e-12"), false)
                .finalAdapter();
        assertThat(distance(prox, init)).isLessThan(distance(plain, init));
        assertThatThrownBy(() -> FederatedJob.run(spark, config("run-mu", "server.rounds=1", "server.strategy=fedprox",
                "server.strategy_params={proximal_mu: 5.0}", "client.proximal_mu=0.1"), false))
                .hasMessageContaining("disagree");
    }

    static double distance(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (double) (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    @Test
    void badRowsFailByDefaultNamingTheReason() {
        assertThatThrownBy(() -> FederatedJob.run(spark, config("run-bad", "data.bad_rows=fail"), false))
                .hasMessageContaining("null_text 1 (first at ").hasMessageContaining(".parquet:").hasMessageContaining("data.bad_rows=skip");
    }
}
