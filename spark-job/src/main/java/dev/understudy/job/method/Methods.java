package dev.understudy.job.method;

import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.FederatedMethod;
import java.util.List;

/** The {@code method} key → a {@link FederatedMethod}. */
public final class Methods {
    private Methods() {}

    /** Methods this build implements. */
    public static final List<String> NAMES = List.of(FedAvgLora.NAME, FedPt.NAME, OffsiteTuning.FEDOT, FedBiOt.NAME);

    public static FederatedMethod create(JobConfig cfg) {
        String name = cfg.method();
        if (name.equals(FedAvgLora.NAME)) {
            if (!cfg.methodParams().isEmpty()) {
                throw new IllegalArgumentException("method_params " + cfg.methodParams().keySet() + " are not used by "
                        + FedAvgLora.NAME + "; remove them");
            }
            return new FedAvgLora(cfg.model().base(), cfg.output().saveMerged());
        }
        if (name.equals(FedPt.NAME)) {
            return new FedPt(cfg.model().base(), FedPtConfig.parse(cfg.methodParams()), cfg.data(), cfg.client().lr(),
                    cfg.client().maxGradNorm());
        }
        if (name.equals(OffsiteTuning.FEDOT)) {
            return new OffsiteTuning(cfg.model().base(), OffsiteConfig.parse(name, cfg.methodParams(), false), cfg.data());
        }
        if (name.equals(FedBiOt.NAME)) {
            return new FedBiOt(cfg.model().base(), OffsiteConfig.parse(name, cfg.methodParams(), true), cfg.data());
        }
        throw new IllegalArgumentException("Cannot set method to '" + name + "': this build implements " + NAMES);
    }
}
