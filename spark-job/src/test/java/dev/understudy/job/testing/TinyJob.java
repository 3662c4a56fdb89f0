package dev.understudy.job.testing;

import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The inputs of a small end-to-end {@code FederatedJob}: a tiny random-init LLaMA with a byte-level
 * tokenizer and a generated labelled Parquet dataset (240 rows "lovely cake 3" → " good"/" bad" plus
 * one row with a null text), and the configuration that runs FedAvg on them.
 */
public final class TinyJob {
    /** Local HF model directory (config.json, safetensors, tokenizer.json). */
    public final Path model;
    /** Local Parquet directory. */
    public final Path data;

    private TinyJob(Path model, Path data) {
        this.model = model;
        this.data = data;
    }

    /** Writes the model and the dataset under {@code dir}. */
    public static TinyJob create(SparkSession spark, Path dir) throws IOException {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
        Path model = dir.resolve("model");
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
        Path data = dir.resolve("reviews.parquet");
        df.coalesce(2).write().parquet(data.toString());
        return new TinyJob(model, data);
    }

    /**
     * The job over the local model and data: 8 Dirichlet clients, 6 per round, 3 rounds of 5 local
     * steps, writing to {@code outputDir}; {@code extra} settings ({@code key=value}) override these.
     */
    public JobConfig config(String outputDir, String... extra) {
        List<String> sets = new ArrayList<>(List.of(
                "data.path=" + data.toUri(), "data.kind=classification", "data.template={text} is",
                "data.label_words={0: ' bad', 1: ' good'}", "data.max_length=48", "data.bad_rows=skip",
                "partitioning={type: dirichlet, num_clients: 8, alpha: 0.5, min_size: 5, eval_fraction: 0.2}",
                "model.base=" + model.toUri(), "model.lora.rank=4", "model.lora.target_modules=[q_proj, v_proj, down_proj]",
                "model.lora.dropout=0.0", "client.local_steps=5", "client.batch_size=4", "client.lr=0.02",
                "server.rounds=3", "server.clients_per_round=6", "output.dir=" + outputDir, "seed=5"));
        sets.addAll(List.of(extra));
        return ConfigLoader.load(null, List.of(), sets);
    }
}
