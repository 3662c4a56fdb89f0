package dev.understudy.job.engine;

import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.model.DecoderModel;
import java.util.Map;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * What a {@link FederatedMethod} hook may use: Spark (to run server work as stages), the run's
 * store (artifacts under {@code method/}), the client model on the driver (frozen; adapters are
 * created per use), the adapter layout of the global state, the client training settings and the
 * cached client datasets.
 *
 * @param labels label candidates for accuracy on classification data, or null
 * @param resumed true when the run continues from a committed round (so {@code beforeFederation}'s
 *     products are already in the store)
 */
public record MethodContext(JavaSparkContext spark, RunStore store, DecoderModel clientModel,
        Map<String, long[]> layout, TrainSettings settings, JavaPairRDD<String, ClientData> clients, long seed,
        boolean resumed, EvalFunction.Labels labels) {

    /** The Spark SQL session of {@link #spark()}. */
    public SparkSession session() {
        return SparkSession.builder().sparkContext(spark.sc()).getOrCreate();
    }
}
