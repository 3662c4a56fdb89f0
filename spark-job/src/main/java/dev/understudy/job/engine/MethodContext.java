package dev.understudy.job.engine;

import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.model.DecoderModel;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * What a {@link FederatedMethod} hook may use: what the server may hold. Spark (to run server work
 * as stages, e.g. over public data), the run's store (artifacts under {@code method/}), the client
 * model in force on the driver (frozen; adapters are created per use) and its version, the layout
 * of the global state, the client training settings, the seed. Not the clients' datasets: a method
 * reaches client data only through its {@link ClientTask} and {@link #evaluateOnClients}, which
 * run on the executors and return per-client figures.
 *
 * @param clientModelVersion the client model in force ({@code settings.modelUri()} is its URI)
 * @param labels label candidates for accuracy on classification data, or null
 * @param resumed true when the run continues from a committed round (so {@code beforeFederation}'s
 *     products are already in the store)
 * @param evaluator the engine's evaluation of a server model on the clients' held-out rows
 */
public record MethodContext(JavaSparkContext spark, RunStore store, DecoderModel clientModel,
        ClientModel clientModelVersion, Map<String, long[]> layout, TrainSettings settings, long seed, boolean resumed,
        EvalFunction.Labels labels, ServerModels.Evaluator evaluator) {

    /** The Spark SQL session of {@link #spark()}. */
    public SparkSession session() {
        return SparkSession.builder().sparkContext(spark.sc()).getOrCreate();
    }

    /**
     * Scores {@code model} on every client's held-out rows as one Spark job (per-client figures in
     * partition order; {@link RoundEngine#summarise} for the totals).
     *
     * @param round the round it belongs to (its Spark job group), or 0 outside rounds
     * @param what the Spark job description, e.g. {@code round 3: proxy-tuned large model evaluation}
     */
    public List<EvalFunction.ClientEval> evaluateOnClients(ServerModel model, int round, String what) {
        return evaluator.evaluate(model, round > 0 ? "understudy-round-" + round : "understudy-method", what);
    }
}
