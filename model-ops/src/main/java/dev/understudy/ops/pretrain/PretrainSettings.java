package dev.understudy.ops.pretrain;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import dev.understudy.ops.train.LrSchedule;
import dev.understudy.ops.train.TrainConfig;

/**
 * Hyper-parameters shared by every member of a family: the token budget each member trains on, the
 * batch shape, AdamW and its schedule, evaluation and checkpoint cadence. A member may override
 * {@code seqLen} and {@code lr} ({@link MemberSpec}).
 *
 * @param tokenBudget input tokens each member trains on; a member runs {@code ceil(tokenBudget /
 *     (batchSize * gradAccumSteps * seqLen))} optimiser steps
 * @param batchSize blocks per micro-batch
 * @param gradAccumSteps micro-batches per optimiser step
 * @param seqLen tokens per block (and the members' max_position_embeddings)
 * @param lr peak learning rate
 * @param schedule decay after warm-up
 * @param warmupSteps steps of linear warm-up
 * @param minLrRatio floor of the decay as a fraction of {@code lr}
 * @param weightDecay AdamW decoupled weight decay (applied to every weight)
 * @param maxGradNorm global-norm gradient clipping, 0 to disable
 * @param beta1 AdamW β1
 * @param beta2 AdamW β2
 * @param initStd standard deviation of the random initialisation
 * @param evalEvery steps between held-out evaluations (0: only at the end)
 * @param evalTokens held-out tokens scored by each periodic evaluation
 * @param finalEvalTokens held-out tokens scored by the final evaluation (0: all)
 * @param evalBatchSize blocks per evaluation batch
 * @param checkpointEvery steps between checkpoints (0: none)
 */
public record PretrainSettings(
        long tokenBudget,
        int batchSize,
        int gradAccumSteps,
        int seqLen,
        double lr,
        LrSchedule.Kind schedule,
        long warmupSteps,
        double minLrRatio,
        double weightDecay,
        double maxGradNorm,
        double beta1,
        double beta2,
        double initStd,
        int evalEvery,
        int evalTokens,
        int finalEvalTokens,
        int evalBatchSize,
        int checkpointEvery) {

    public PretrainSettings {
        checkArgument(tokenBudget > 0, "Cannot set training.token_budget to %s, the value must be positive", tokenBudget);
        checkArgument(batchSize >= 1, "Cannot set training.batch_size to %s, the value must be ≥ 1", batchSize);
        checkArgument(gradAccumSteps >= 1, "Cannot set training.grad_accum_steps to %s, the value must be ≥ 1",
                gradAccumSteps);
        checkArgument(seqLen >= 2, "Cannot set training.seq_len to %s, the value must be ≥ 2", seqLen);
        checkArgument(lr > 0 && Double.isFinite(lr), "Cannot set training.lr to %s, the value must be positive", lr);
        checkArgument(schedule != null, "Cannot set training.schedule to null: use constant, linear or cosine");
        checkArgument(warmupSteps >= 0, "Cannot set training.warmup_steps to %s, the value must be ≥ 0", warmupSteps);
        checkArgument(minLrRatio >= 0 && minLrRatio <= 1, "Cannot set training.min_lr_ratio to %s, the value must be"
                + " in [0, 1]", minLrRatio);
        checkArgument(weightDecay >= 0, "Cannot set training.weight_decay to %s, the value must be ≥ 0", weightDecay);
        checkArgument(maxGradNorm >= 0, "Cannot set training.max_grad_norm to %s, the value must be ≥ 0 (0 disables"
                + " clipping)", maxGradNorm);
        checkArgument(beta1 >= 0 && beta1 < 1, "Cannot set training.beta1 to %s, the value must be in [0, 1)", beta1);
        checkArgument(beta2 >= 0 && beta2 < 1, "Cannot set training.beta2 to %s, the value must be in [0, 1)", beta2);
        checkArgument(initStd > 0, "Cannot set training.init_std to %s, the value must be positive", initStd);
        checkArgument(evalEvery >= 0, "Cannot set training.eval_every to %s, the value must be ≥ 0", evalEvery);
        checkArgument(evalTokens >= 0, "Cannot set training.eval_tokens to %s, the value must be ≥ 0", evalTokens);
        checkArgument(finalEvalTokens >= 0, "Cannot set training.final_eval_tokens to %s, the value must be ≥ 0 (0"
                + " scores every held-out token)", finalEvalTokens);
        checkArgument(evalBatchSize >= 1, "Cannot set training.eval_batch_size to %s, the value must be ≥ 1",
                evalBatchSize);
        checkArgument(checkpointEvery >= 0, "Cannot set training.checkpoint_every to %s, the value must be ≥ 0",
                checkpointEvery);
    }

    /**
     * Small defaults for tests and examples: no warm-up, cosine decay to 10%, AdamW (0.9, 0.95), no
     * weight decay, clipping at 1, N(0, 0.02) init, one evaluation of every held-out token at the end,
     * no checkpoints.
     */
    public static PretrainSettings of(long tokenBudget, int batchSize, int seqLen, double lr) {
        return new PretrainSettings(tokenBudget, batchSize, 1, seqLen, lr, LrSchedule.Kind.COSINE, 0, 0.1, 0.0, 1.0,
                0.9, 0.95, 0.02, 0, 0, 0, 16, 0);
    }

    public PretrainSettings withCheckpointEvery(int steps) {
        return new PretrainSettings(tokenBudget, batchSize, gradAccumSteps, seqLen, lr, schedule, warmupSteps, minLrRatio,
                weightDecay, maxGradNorm, beta1, beta2, initStd, evalEvery, evalTokens, finalEvalTokens, evalBatchSize,
                steps);
    }

    public PretrainSettings withEval(int every, int tokens, int finalTokens) {
        return new PretrainSettings(tokenBudget, batchSize, gradAccumSteps, seqLen, lr, schedule, warmupSteps, minLrRatio,
                weightDecay, maxGradNorm, beta1, beta2, initStd, every, tokens, finalTokens, evalBatchSize,
                checkpointEvery);
    }

    public PretrainSettings withWarmup(long steps) {
        return new PretrainSettings(tokenBudget, batchSize, gradAccumSteps, seqLen, lr, schedule, steps, minLrRatio,
                weightDecay, maxGradNorm, beta1, beta2, initStd, evalEvery, evalTokens, finalEvalTokens, evalBatchSize,
                checkpointEvery);
    }

    /** Input tokens one optimiser step consumes at sequence length {@code seqLen}. */
    public long tokensPerStep(int seqLen) {
        return (long) batchSize * gradAccumSteps * seqLen;
    }

    /** Optimiser steps that spend the token budget at sequence length {@code seqLen} (rounded up). */
    public long steps(int seqLen) {
        long perStep = tokensPerStep(seqLen);
        return (tokenBudget + perStep - 1) / perStep;
    }

    /** The schedule of a member with peak {@code peakLr} training {@code totalSteps} steps. */
    public LrSchedule scheduleFor(double peakLr, long totalSteps) {
        long warmup = Math.min(warmupSteps, totalSteps);
        return new LrSchedule(schedule, peakLr, warmup, totalSteps, schedule == LrSchedule.Kind.CONSTANT ? 1.0 : minLrRatio);
    }

    /** The {@link dev.understudy.ops.train.Trainer} configuration of one member. */
    public TrainConfig trainConfig(double peakLr, long totalSteps, long seed) {
        return new TrainConfig(scheduleFor(peakLr, totalSteps), weightDecay, beta1, beta2, 1e-8, maxGradNorm, batchSize,
                gradAccumSteps, seed);
    }
}
