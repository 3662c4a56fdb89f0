package dev.understudy.job.config;

import dev.understudy.ops.train.LrSchedule;

/**
 * The {@code client} section: local training on each selected client in a round.
 *
 * @param localSteps {@code client.local_steps}: optimiser steps per round (0 when local_epochs is used)
 * @param localEpochs {@code client.local_epochs}: passes over the client's data per round (0 when
 *     local_steps is used); exactly one of the two is positive
 * @param batchSize {@code client.batch_size}: examples per micro-batch
 * @param gradAccumSteps {@code client.grad_accum_steps}: micro-batches per optimiser step
 * @param lr {@code client.lr}: peak learning rate
 * @param schedule {@code client.schedule}: decay after warm-up
 * @param warmupSteps {@code client.warmup_steps}: global steps of linear warm-up
 * @param minLrRatio {@code client.min_lr_ratio}: floor of the decay as a fraction of {@code lr}
 * @param weightDecay {@code client.weight_decay}: AdamW decoupled weight decay
 * @param maxGradNorm {@code client.max_grad_norm}: gradient clipping norm (0 = no clipping)
 * @param proximalMu {@code client.proximal_mu}: FedProx proximal term weight (0 = plain FedAvg)
 * @param threads {@code client.threads}: torch intra-op threads per Spark task (0 = auto)
 * @param maxUpdateRms {@code client.max_update_rms}: largest root-mean-square element of a client's
 *     adapter update; a larger (or non-finite) update is a client failure (0 = no bound)
 * @param maxTrainLoss {@code client.max_train_loss}: largest mean local training loss; 0 = twice the
 *     loss of a uniform prediction, 2 ln(vocabulary size)
 */
public record ClientConfig(int localSteps, int localEpochs, int batchSize, int gradAccumSteps, double lr,
        LrSchedule.Kind schedule, long warmupSteps, double minLrRatio, double weightDecay, double maxGradNorm,
        double proximalMu, int threads, double maxUpdateRms, double maxTrainLoss) {

    public ClientConfig {
        Checks.nonNegative("client.local_steps", localSteps);
        Checks.nonNegative("client.local_epochs", localEpochs);
        if (localSteps > 0 && localEpochs > 0) {
            throw new IllegalArgumentException("Cannot set client.local_epochs to " + localEpochs
                    + ": client.local_steps is also set (" + localSteps + "); set exactly one of them > 0 and the other to 0");
        }
        Checks.check(localSteps > 0 || localEpochs > 0, "client.local_steps", localSteps,
                "positive when client.local_epochs is 0; set exactly one of them > 0");
        Checks.positive("client.batch_size", batchSize);
        Checks.positive("client.grad_accum_steps", gradAccumSteps);
        Checks.positive("client.lr", lr);
        Checks.notNull("client.schedule", schedule, "one of constant, linear, cosine");
        Checks.nonNegative("client.warmup_steps", warmupSteps);
        Checks.unitInterval("client.min_lr_ratio", minLrRatio);
        Checks.nonNegative("client.weight_decay", weightDecay);
        Checks.nonNegative("client.max_grad_norm", maxGradNorm);
        Checks.nonNegative("client.proximal_mu", proximalMu);
        Checks.nonNegative("client.threads", threads);
        Checks.nonNegative("client.max_update_rms", maxUpdateRms);
        Checks.nonNegative("client.max_train_loss", maxTrainLoss);
    }

    /** The learning-rate schedule for a run of {@code totalSteps} global optimiser steps. */
    public LrSchedule lrSchedule(long totalSteps) {
        return new LrSchedule(schedule, lr, warmupSteps, totalSteps, minLrRatio);
    }
}
