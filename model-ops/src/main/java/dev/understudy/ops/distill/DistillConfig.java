package dev.understudy.ops.distill;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import dev.understudy.ops.train.TrainConfig;

/**
 * Server-side distillation hyper-parameters (FedPT step 5; the loss, temperature, data and budget
 * are not published, so these are project defaults, methods.md §1(f)).
 *
 * @param alpha proxy strength α of the teacher {@code z_large + α (z_expert − z_anti)}, ≥ 0
 * @param temperature softening temperature {@code T > 0} of the KL term (scaled by {@code T²})
 * @param ceWeight weight λ in [0, 1] of the cross-entropy on the reference responses: loss =
 *     {@code (1 − λ) KL + λ CE}
 * @param steps optimiser steps per call of {@link Distiller#distill} (the per-round budget), ≥ 1
 * @param evalExamples how many leading examples of the distillation set to measure the KL on
 *     before and after (0 to skip)
 * @param train optimiser, schedule, batch, accumulation, clipping and seed of the student's LoRA
 */
public record DistillConfig(
        double alpha, double temperature, double ceWeight, int steps, int evalExamples, TrainConfig train) {
    public DistillConfig {
        checkArgument(Double.isFinite(alpha) && alpha >= 0,
                "Cannot set distill alpha to %s, the value must be finite and ≥ 0 (1 is proxy-tuning's default)", alpha);
        checkArgument(Double.isFinite(temperature) && temperature > 0,
                "Cannot set distill temperature to %s, the value must be positive", temperature);
        checkArgument(ceWeight >= 0 && ceWeight <= 1, "Cannot set distill ce_weight to %s, the value must be in [0, 1]",
                ceWeight);
        checkArgument(steps >= 1, "Cannot set distill steps to %s, the value must be ≥ 1 (skip distillation instead)",
                steps);
        checkArgument(evalExamples >= 0, "Cannot set distill eval_examples to %s, the value must be ≥ 0", evalExamples);
        checkArgument(train != null, "Cannot distil without a training configuration");
    }

    /** α = 1, T = 1, pure KL, {@code steps} steps of AdamW at a constant {@code lr}, KL measured on 32 examples. */
    public static DistillConfig simple(double lr, int batchSize, int steps, long seed) {
        return new DistillConfig(1.0, 1.0, 0.0, steps, 32, TrainConfig.simple(lr, batchSize, seed));
    }

    public DistillConfig withAlpha(double a) {
        return new DistillConfig(a, temperature, ceWeight, steps, evalExamples, train);
    }

    public DistillConfig withTemperature(double t) {
        return new DistillConfig(alpha, t, ceWeight, steps, evalExamples, train);
    }

    public DistillConfig withCeWeight(double w) {
        return new DistillConfig(alpha, temperature, w, steps, evalExamples, train);
    }

    public DistillConfig withSteps(int s) {
        return new DistillConfig(alpha, temperature, ceWeight, s, evalExamples, train);
    }

    public DistillConfig withEvalExamples(int n) {
        return new DistillConfig(alpha, temperature, ceWeight, steps, n, train);
    }

    public DistillConfig withTrain(TrainConfig t) {
        return new DistillConfig(alpha, temperature, ceWeight, steps, evalExamples, t);
    }
}
