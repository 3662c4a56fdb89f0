package dev.understudy.ops.train;

import static dev.understudy.ops.util.Preconditions.checkArgument;

/**
 * Learning-rate schedule as a pure function of the global optimiser step: linear warm-up from 0 to
 * {@code peakLr} over {@code warmupSteps}, then constant, linear or cosine decay to {@code peakLr *
 * minRatio} at {@code totalSteps} (and flat after). The step is global: federated rounds pass the
 * step at which the previous round stopped, so the schedule is not restarted every round.
 *
 * <p>Matches Hugging Face's {@code get_cosine_schedule_with_warmup} / {@code
 * get_linear_schedule_with_warmup} when {@code minRatio = 0} (the warm-up factor is {@code
 * step / warmup}, evaluated before the step is taken).
 *
 * @param kind decay shape
 * @param peakLr learning rate reached at the end of warm-up
 * @param warmupSteps steps of linear warm-up (0 for none)
 * @param totalSteps step at which the decay reaches its floor
 * @param minRatio floor as a fraction of the peak, in [0, 1]
 */
public record LrSchedule(Kind kind, double peakLr, long warmupSteps, long totalSteps, double minRatio) {
    /** Decay shapes after warm-up. */
    public enum Kind {
        CONSTANT,
        LINEAR,
        COSINE
    }

    public LrSchedule {
        checkArgument(kind != null, "Cannot set schedule to null: use constant, linear or cosine");
        checkArgument(peakLr > 0 && Double.isFinite(peakLr), "Cannot set lr to %s, the value must be positive", peakLr);
        checkArgument(warmupSteps >= 0, "Cannot set warmup_steps to %s, the value must be ≥ 0", warmupSteps);
        checkArgument(totalSteps >= warmupSteps, "Cannot set total_steps to %s: it must be ≥ warmup_steps=%s",
                totalSteps, warmupSteps);
        checkArgument(minRatio >= 0 && minRatio <= 1, "Cannot set min_lr_ratio to %s, the value must be in [0, 1]",
                minRatio);
    }

    /** A constant learning rate. */
    public static LrSchedule constant(double lr) {
        return new LrSchedule(Kind.CONSTANT, lr, 0, 0, 1.0);
    }

    /** Learning rate used for the update of global step {@code step} (0-based). */
    public double lr(long step) {
        checkArgument(step >= 0, "step must be ≥ 0, got %s", step);
        // 1. warm-up: linear ramp from 0
        if (step < warmupSteps) {
            return peakLr * (double) step / (double) warmupSteps;
        }
        if (kind == Kind.CONSTANT) {
            return peakLr;
        }
        // 2. decay progress in [0, 1]
        long decaySteps = totalSteps - warmupSteps;
        double progress = decaySteps == 0 ? 1.0 : Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
        // 3. shape: 1 -> 0
        double shape = kind == Kind.LINEAR ? 1.0 - progress : 0.5 * (1.0 + Math.cos(Math.PI * progress));
        return peakLr * (minRatio + (1.0 - minRatio) * shape);
    }
}
