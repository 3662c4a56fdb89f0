package dev.understudy.ops.train;

import static dev.understudy.ops.util.Preconditions.checkArgument;

/**
 * Local-training hyper-parameters.
 *
 * @param schedule learning-rate schedule over the global step
 * @param weightDecay AdamW decoupled weight decay λ
 * @param beta1 AdamW β1
 * @param beta2 AdamW β2
 * @param eps AdamW ε
 * @param maxGradNorm global-norm clipping threshold, or 0 to disable
 * @param batchSize examples per micro-batch
 * @param gradAccumSteps micro-batches per optimiser step
 * @param seed seeds data order and dropout masks
 */
public record TrainConfig(
        LrSchedule schedule,
        double weightDecay,
        double beta1,
        double beta2,
        double eps,
        double maxGradNorm,
        int batchSize,
        int gradAccumSteps,
        long seed) {
    public TrainConfig {
        checkArgument(schedule != null, "Cannot train without a learning-rate schedule");
        checkArgument(maxGradNorm >= 0, "Cannot set max_grad_norm to %s, must be ≥ 0 (0 disables clipping)", maxGradNorm);
        checkArgument(batchSize >= 1, "Cannot set batch_size to %s, must be ≥ 1", batchSize);
        checkArgument(gradAccumSteps >= 1, "Cannot set grad_accum_steps to %s, must be ≥ 1", gradAccumSteps);
    }

    /** AdamW defaults of torch (β 0.9/0.999, ε 1e-8), no decay, no clipping, constant lr. */
    public static TrainConfig simple(double lr, int batchSize, long seed) {
        return new TrainConfig(LrSchedule.constant(lr), 0.0, 0.9, 0.999, 1e-8, 0.0, batchSize, 1, seed);
    }

    /** Examples consumed by one optimiser step. */
    public int examplesPerStep() {
        return batchSize * gradAccumSteps;
    }

    public TrainConfig withSchedule(LrSchedule s) {
        return new TrainConfig(s, weightDecay, beta1, beta2, eps, maxGradNorm, batchSize, gradAccumSteps, seed);
    }

    public TrainConfig withClipping(double maxNorm) {
        return new TrainConfig(schedule, weightDecay, beta1, beta2, eps, maxNorm, batchSize, gradAccumSteps, seed);
    }

    public TrainConfig withAccumulation(int microBatchSize, int steps) {
        return new TrainConfig(schedule, weightDecay, beta1, beta2, eps, maxGradNorm, microBatchSize, steps, seed);
    }

    public TrainConfig withWeightDecay(double wd) {
        return new TrainConfig(schedule, wd, beta1, beta2, eps, maxGradNorm, batchSize, gradAccumSteps, seed);
    }
}
