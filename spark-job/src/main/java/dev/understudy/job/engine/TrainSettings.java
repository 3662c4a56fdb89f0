package dev.understudy.job.engine;

import dev.understudy.job.storage.HadoopConf;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.train.LrSchedule;
import dev.understudy.ops.train.TrainConfig;
import java.io.Serializable;
import java.util.List;

/**
 * Everything an executor needs to train a client, shipped with the task closure (small; the base
 * model is loaded from {@code modelUri} by {@link ExecutorModelCache}, with the driver's Hadoop
 * settings {@code hadoop} when it is remote). {@code proximalMu} is the FedProx client term's μ (0 =
 * none).
 */
public record TrainSettings(
        String modelUri,
        int loraRank,
        double loraAlpha,
        double loraDropout,
        List<String> loraTargets,
        int localSteps,
        int batchSize,
        int gradAccumSteps,
        double lr,
        LrSchedule.Kind schedule,
        long warmupSteps,
        long totalSteps,
        double minLrRatio,
        double weightDecay,
        double maxGradNorm,
        long seed,
        int padId,
        int localEpochs,
        double proximalMu,
        HadoopConf hadoop,
        UpdateGuard guard) implements Serializable {

    /** Settings with the default divergence bounds ({@link UpdateGuard#DEFAULT}). */
    public TrainSettings(String modelUri, int loraRank, double loraAlpha, double loraDropout, List<String> loraTargets,
            int localSteps, int batchSize, int gradAccumSteps, double lr, LrSchedule.Kind schedule, long warmupSteps,
            long totalSteps, double minLrRatio, double weightDecay, double maxGradNorm, long seed, int padId,
            int localEpochs, double proximalMu, HadoopConf hadoop) {
        this(modelUri, loraRank, loraAlpha, loraDropout, loraTargets, localSteps, batchSize, gradAccumSteps, lr, schedule,
                warmupSteps, totalSteps, minLrRatio, weightDecay, maxGradNorm, seed, padId, localEpochs, proximalMu, hadoop,
                UpdateGuard.DEFAULT);
    }

    /** Settings without the FedProx proximal term, for a model that needs no Hadoop settings (local). */
    public TrainSettings(String modelUri, int loraRank, double loraAlpha, double loraDropout, List<String> loraTargets,
            int localSteps, int batchSize, int gradAccumSteps, double lr, LrSchedule.Kind schedule, long warmupSteps,
            long totalSteps, double minLrRatio, double weightDecay, double maxGradNorm, long seed, int padId,
            int localEpochs) {
        this(modelUri, loraRank, loraAlpha, loraDropout, loraTargets, localSteps, batchSize, gradAccumSteps, lr, schedule,
                warmupSteps, totalSteps, minLrRatio, weightDecay, maxGradNorm, seed, padId, localEpochs, 0.0,
                HadoopConf.empty());
    }

    /** These settings for the client model at {@code uri} (a method's client-model version). */
    public TrainSettings withModelUri(String uri) {
        return uri.equals(modelUri) ? this : new TrainSettings(uri, loraRank, loraAlpha, loraDropout, loraTargets,
                localSteps, batchSize, gradAccumSteps, lr, schedule, warmupSteps, totalSteps, minLrRatio, weightDecay,
                maxGradNorm, seed, padId, localEpochs, proximalMu, hadoop, guard); // keep the configured update guard
    }

    /**
     * These settings with LoRA on {@code targets} only (e.g. an Offsite-Tuning emulator's adapter
     * layers, by full module name); everything else, the update guard included, unchanged.
     */
    public TrainSettings withLoraTargets(List<String> targets) {
        return new TrainSettings(modelUri, loraRank, loraAlpha, loraDropout, List.copyOf(targets), localSteps, batchSize,
                gradAccumSteps, lr, schedule, warmupSteps, totalSteps, minLrRatio, weightDecay, maxGradNorm, seed, padId,
                localEpochs, proximalMu, hadoop, guard);
    }

    /** Optimiser steps a client with {@code n} training examples takes per round. */
    public int stepsFor(long n) {
        if (localEpochs <= 0) {
            return localSteps;
        }
        long perStep = (long) batchSize * gradAccumSteps;
        return (int) Math.max(1, (localEpochs * n + perStep - 1) / perStep);
    }

    public LoraConfig lora() {
        return new LoraConfig(loraRank, loraAlpha, loraDropout, loraTargets);
    }

    /** Local training configuration of one client in one round (seed derived from round and client). */
    public TrainConfig trainConfig(long clientSeed) {
        LrSchedule s = schedule == LrSchedule.Kind.CONSTANT
                ? LrSchedule.constant(lr)
                : new LrSchedule(schedule, lr, warmupSteps, Math.max(warmupSteps, totalSteps), minLrRatio);
        return new TrainConfig(s, weightDecay, 0.9, 0.999, 1e-8, maxGradNorm, batchSize, gradAccumSteps, clientSeed);
    }
}
