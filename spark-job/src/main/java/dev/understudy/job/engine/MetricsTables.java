package dev.understudy.job.engine;

import dev.understudy.job.storage.RunStore;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The run's Parquet tables, for notebooks and SQL: {@code metrics.parquet} (one row per round,
 * rewritten from the full metrics list at the end of every run or resume; {@code metrics.jsonl} is
 * the per-round source of truth) and {@code eval_per_client/round=N/} (one row per client and
 * evaluation round, written when the round is evaluated, so {@code spark.read.parquet(dir +
 * "/eval_per_client")} gives every round with {@code round} as a partition column).
 */
public final class MetricsTables {
    private MetricsTables() {}

    static final StructType ROUNDS = new StructType(new StructField[] {
        field("round", DataTypes.IntegerType), field("sampled", DataTypes.IntegerType),
        field("succeeded", DataTypes.IntegerType), field("failed", DataTypes.IntegerType),
        field("train_loss", DataTypes.DoubleType), field("eval_loss", DataTypes.DoubleType),
        field("eval_perplexity", DataTypes.DoubleType), field("eval_accuracy", DataTypes.DoubleType),
        field("bytes_up", DataTypes.LongType), field("bytes_down", DataTypes.LongType),
        field("train_seconds", DataTypes.DoubleType), field("client_seconds", DataTypes.DoubleType),
        field("train_critical_seconds", DataTypes.DoubleType), field("aggregate_seconds", DataTypes.DoubleType),
        field("server_seconds", DataTypes.DoubleType), field("eval_seconds", DataTypes.DoubleType),
        field("commit_seconds", DataTypes.DoubleType), field("round_seconds", DataTypes.DoubleType),
        field("skipped_rows", DataTypes.LongType), field("updated", DataTypes.BooleanType),
        field("method_metrics", DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType))});

    static final StructType PER_CLIENT = new StructType(new StructField[] {
        field("client_id", DataTypes.StringType), field("examples", DataTypes.LongType), field("tokens", DataTypes.LongType),
        field("loss", DataTypes.DoubleType), field("perplexity", DataTypes.DoubleType),
        field("accuracy", DataTypes.DoubleType)});

    private static StructField field(String name, org.apache.spark.sql.types.DataType type) {
        return DataTypes.createStructField(name, type, true);
    }

    /** Rewrites {@code metrics.parquet} from {@code metrics}. */
    static void writeRounds(JavaSparkContext sc, RunStore store, List<RoundEngine.RoundMetrics> metrics) {
        if (metrics.isEmpty()) {
            return;
        }
        List<Row> rows = new ArrayList<>();
        for (RoundEngine.RoundMetrics m : metrics) {
            rows.add(RowFactory.create(m.round(), m.sampled(), m.succeeded(), m.failed(), m.trainLoss(), m.evalLoss(),
                    m.evalPerplexity(), m.evalAccuracy(), m.bytesUp(), m.bytesDown(), m.trainSeconds(),
                    m.clientSeconds(), m.trainCriticalSeconds(), m.aggregateSeconds(), m.serverSeconds(), m.evalSeconds(), m.commitSeconds(), m.roundSeconds(),
                    m.skippedRows(), m.updated(), scala.jdk.javaapi.CollectionConverters.asScala(m.methodMetrics())));
        }
        write(sc, "metrics summary", rows, ROUNDS, store.base() + "/metrics.parquet");
    }

    /** Writes one evaluation round's per-client rows to {@code eval_per_client/round=N/} (replacing a rerun's). */
    static void writePerClient(JavaSparkContext sc, RunStore store, int round, List<EvalFunction.ClientEval> evals) {
        List<Row> rows = new ArrayList<>();
        for (EvalFunction.ClientEval e : evals) {
            rows.add(RowFactory.create(e.clientId(), e.examples(), e.tokens(), e.loss(), Math.exp(e.loss()), e.accuracy()));
        }
        write(sc, "round " + round + ": per-client evaluation table", rows, PER_CLIENT,
                store.base() + "/eval_per_client/round=" + round);
    }

    /** Writes a per-client evaluation table (no round column) to {@code path}. */
    public static void writePerClient(SparkSession spark, List<EvalFunction.ClientEval> evals, String path) {
        List<Row> rows = new ArrayList<>();
        for (EvalFunction.ClientEval e : evals) {
            rows.add(RowFactory.create(e.clientId(), e.examples(), e.tokens(), e.loss(), Math.exp(e.loss()), e.accuracy()));
        }
        spark.createDataFrame(rows, PER_CLIENT).coalesce(1).write().mode(SaveMode.Overwrite).parquet(path);
    }

    private static void write(JavaSparkContext sc, String what, List<Row> rows, StructType schema, String path) {
        sc.setJobGroup("understudy-metrics", what, false);
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        spark.createDataFrame(rows, schema).coalesce(1).write().mode(SaveMode.Overwrite).parquet(path);
    }
}
