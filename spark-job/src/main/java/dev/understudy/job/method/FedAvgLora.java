package dev.understudy.job.method;

/**
 * Plain federated LoRA (McMahan et al. 2017 with LoRA, Hu et al. 2021; methods.md §0.3): the
 * clients tune a LoRA adapter of {@code model.base}, the strategy aggregates it, and the server
 * model is the same model with the global adapter. The baseline every proxy method must beat.
 */
public final class FedAvgLora implements FederatedMethod {
    public static final String NAME = "fedavg_lora";

    private final String modelUri;

    public FedAvgLora(String modelUri) {
        this.modelUri = modelUri;
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
