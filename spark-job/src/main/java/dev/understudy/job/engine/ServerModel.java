package dev.understudy.job.engine;

import java.io.Serializable;
import java.util.Locale;
import java.util.Map;

/**
 * What the server scores or emits, described by the method as a value, so that the engine's
 * evaluation, {@code evaluate}, {@code generate} and {@code export} work for any method without
 * knowing it ({@link ServerModels} evaluates every kind on the clients' held-out rows).
 */
public sealed interface ServerModel extends Serializable permits ServerModel.Adapted, ServerModel.ProxyTuned {
    /** A short description for reports, e.g. {@code adapter on file:/models/small}. */
    String describe();

    /** A short name of the kind, e.g. {@code proxy}; {@code evaluate} writes a server model that is not the client model to {@code evaluations/<round>-<kind>/}. */
    String kind();

    /**
     * A LoRA adapter on a model: FedAvg-LoRA's server model, FedPT's small model.
     *
     * @param modelUri the base model directory
     * @param layout name → shape of the adapter tensors
     * @param adapter the flattened adapter, or null for the bare model
     */
    record Adapted(String modelUri, Map<String, long[]> layout, float[] adapter) implements ServerModel {
        @Override
        public String describe() {
            return (adapter == null ? "base model on " : "adapter on ") + modelUri;
        }

        @Override
        public String kind() {
            return "adapter";
        }
    }

    /**
     * Proxy-tuning (Liu et al. 2024, arXiv 2401.08565): logits {@code z_large + α (z_small+expert −
     * z_small)}, the anti-expert being the small base.
     *
     * @param largeUri the large base model
     * @param smallUri the small model the expert adapter belongs to
     * @param layout the expert adapter's tensors
     * @param expert the flattened expert adapter, or null to score the large base alone
     * @param alpha the proxy strength α
     */
    record ProxyTuned(String largeUri, String smallUri, Map<String, long[]> layout, float[] expert, double alpha)
            implements ServerModel {
        @Override
        public String describe() {
            return String.format(Locale.ROOT, "proxy-tuned large (α=%s)", alpha);
        }

        @Override
        public String kind() {
            return "proxy";
        }
    }
}
