package dev.understudy.job.engine;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/** Evaluates a {@link ServerModel} on every client's held-out rows, as one Spark job per model. */
public final class ServerModels {
    private ServerModels() {}

    /** The engine's evaluation service handed to methods ({@link MethodContext#evaluateOnClients}). */
    @FunctionalInterface
    public interface Evaluator {
        List<EvalFunction.ClientEval> evaluate(ServerModel model, String group, String what);
    }

    /**
     * Per-client figures of {@code model} on {@code clients}' held-out rows, in partition order.
     *
     * @param settings the run's client settings (batch size, pad id, LoRA shape, Hadoop settings);
     *     the model URIs come from {@code model}
     * @param labels label candidates for accuracy, or null
     */
    public static List<EvalFunction.ClientEval> evaluate(JavaSparkContext sc, JavaPairRDD<String, ClientData> clients,
            ServerModel model, TrainSettings settings, EvalFunction.Labels labels, String group, String what) {
        sc.setJobGroup(group, what, false);
        // the kinds are a sealed set: a new kind adds its executor function here
        ServerModel.Adapted adapted = model instanceof ServerModel.Adapted a ? a : null;
        ServerModel.ProxyTuned proxy = model instanceof ServerModel.ProxyTuned p ? p : null;
        float[] vector = adapted != null ? adapted.adapter() : proxy.expert();
        Broadcast<float[]> b = vector == null ? null : sc.broadcast(vector);
        try {
            if (adapted != null) {
                return new ArrayList<>(clients.mapPartitions(new EvalFunction(b, adapted.layout(),
                        settings.withModelUri(adapted.modelUri()), labels)).collect());
            }
            return new ArrayList<>(clients.mapPartitions(new ProxyEvalFunction(b, proxy.layout(),
                    settings.withModelUri(proxy.smallUri()), proxy.largeUri(), proxy.alpha(), labels)).collect());
        } finally {
            if (b != null) {
                b.unpersist(false);
            }
        }
    }
}
