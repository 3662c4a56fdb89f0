package dev.understudy.job.method;

import dev.understudy.job.engine.FederatedMethod;
import dev.understudy.job.engine.MethodContext;

/**
 * Plain federated LoRA (McMahan et al. 2017 with LoRA, Hu et al. 2021; methods.md §0.3): the
 * clients tune a LoRA adapter of {@code model.base}, the strategy aggregates it, and the server
 * model is the same model with the global adapter. The baseline every proxy method must beat.
 */
public final class FedAvgLora implements FederatedMethod {
    public static final String NAME = "fedavg_lora";

    private final String modelUri;
    private final boolean saveMerged;

    public FedAvgLora(String modelUri) {
        this(modelUri, false);
    }

    /** @param saveMerged also write {@code merged/}: the base with the final adapter merged in ({@code output.save_merged}) */
    public FedAvgLora(String modelUri, boolean saveMerged) {
        this.modelUri = modelUri;
        this.saveMerged = saveMerged;
    }

    @Override
    public void finish(MethodContext ctx, float[] global) throws java.io.IOException {
        if (saveMerged) {
            MergedExport.write(ctx.store().modelSource(java.net.URI.create(modelUri)), ctx.store().source("adapter"),
                    ctx.store().sink("merged"));
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String clientModelUri() {
        return modelUri;
    }
}
