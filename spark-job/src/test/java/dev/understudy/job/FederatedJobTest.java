package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.PeftAdapters;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
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
    static Path model;
    static Path data;

    @BeforeAll
    static void setUp() throws Exception {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
        model = tmp.resolve("model");
        HfModels.createRandom(ModelConfig.llama(spec.vocabSize(), 32, 2, 4, 2, 64, 128), 3, spec, model);
        String[] good = {"lovely cake", "warm sun", "great song", "kind gift", "bright smile"};
        String[] bad = {"cold mud", "grey rain", "nasty bug", "thick dust", "damp fog"};
        SplittableRandom r = new SplittableRandom(9);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 240; i++) {
            boolean g = r.nextBoolean();
            String text = (g ? good : bad)[r.nextInt(5)] + " " + i % 7;
            rows.add(RowFactory.create(text, g ? 1 : 0));
        }
        rows.add(RowFactory.create(null, 1)); // a bad row
        StructType schema = new StructType().add("text", DataTypes.StringType).add("label", DataTypes.IntegerType);
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        data = tmp.resolve("reviews.parquet");
        df.coalesce(2).write().parquet(data.toString());
    }

    static JobConfig config(String out, String... extra) {
        List<String> sets = new ArrayList<>(List.of(
                "data.path=" + data.toUri(), "data.kind=classification", "data.template={text} is",
                "data.label_words={0: ' bad', 1: ' good'}", "data.max_length=48", "data.bad_rows=skip",
                "partitioning={type: dirichlet, num_clients: 8, alpha: 0.5, min_size: 5, eval_fraction: 0.2}",
                "model.base=" + model.toUri(), "model.lora.rank=4", "model.lora.target_modules=[q_proj, v_proj, down_proj]",
                "model.lora.dropout=0.0", "client.local_steps=5", "client.batch_size=4", "client.lr=0.02",
                "server.rounds=3", "server.clients_per_round=6", "output.dir=" + tmp.resolve(out).toUri(), "seed=5"));
        sets.addAll(List.of(extra));
        return ConfigLoader.load(null, List.of(), sets);
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
                DecoderModel base = HfModels.load(model, m, DataType.FLOAT32);
                LoraAdapter back = PeftAdapters.load(new DirectoryModelSource(out.resolve("adapter")), base, m)) {
            assertThat(AdapterVectors.flatten(back.exportTensors())).isEqualTo(r.finalAdapter());
        }
        // a second `run` into the same directory refuses instead of mixing runs
        assertThatThrownBy(() -> FederatedJob.run(spark, config("run1"), false))
                .hasMessageContaining("already holds 3 committed round(s)").hasMessageContaining("resume");
    }

    @Test
    void settingsNotImplementedYetAreRejectedNotIgnored() {
        assertThatThrownBy(() -> FederatedJob.run(spark, config("run-x", "client.proximal_mu=0.1"), false))
                .hasMessageContaining("not implemented yet").hasMessageContaining("client.proximal_mu");
    }

    @Test
    void badRowsFailByDefaultNamingTheReason() {
        assertThatThrownBy(() -> FederatedJob.run(spark, config("run-bad", "data.bad_rows=fail"), false))
                .hasMessageContaining("null_text=1").hasMessageContaining("data.bad_rows=skip");
    }
}
