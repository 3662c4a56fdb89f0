package dev.understudy.ops.distill;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import dev.understudy.ops.train.TrainConfig;

/**
 * Weights of representation distillation's loss and the optimiser that minimises it:
 *
 * <pre>
 *   L = w_kd · ℓ_nmse(alignment) + w_lm · CE(student) + w_kl · T² · KL(p_teacher,T ‖ p_student,T)
 * </pre>
 *
 * where {@code ℓ_nmse} is the mean over the alignment's pairs (methods.md §0.2). Published
 * settings: Offsite-Tuning's emulator distillation {@code w_lm = 1, w_kd = 30}; FedPFT's layer
 * distillation {@code w_kd = 1} only; FedBiOT's server alignment {@code w_kd = 1, w_kl = 0.9}.
 *
 * @param kdWeight {@code w_kd ≥ 0}
 * @param lmWeight {@code w_lm ≥ 0} (causal-LM cross-entropy of the student on the same text)
 * @param klWeight {@code w_kl ≥ 0} (needs the teacher's logits: one more LM-head product)
 * @param temperature {@code T > 0} of the KL term
 * @param train optimiser, schedule, batch, accumulation, clipping and seed
 */
public record RepDistillConfig(double kdWeight, double lmWeight, double klWeight, double temperature,
        TrainConfig train) {
    public RepDistillConfig {
        checkArgument(Double.isFinite(kdWeight) && kdWeight >= 0, "Cannot set distill kd_weight to %s, must be ≥ 0",
                kdWeight);
        checkArgument(Double.isFinite(lmWeight) && lmWeight >= 0, "Cannot set distill lm_weight to %s, must be ≥ 0",
                lmWeight);
        checkArgument(Double.isFinite(klWeight) && klWeight >= 0, "Cannot set distill kl_weight to %s, must be ≥ 0",
                klWeight);
        checkArgument(kdWeight + lmWeight + klWeight > 0,
                "Cannot distil with kd_weight, lm_weight and kl_weight all 0: set at least one");
        checkArgument(Double.isFinite(temperature) && temperature > 0,
                "Cannot set distill temperature to %s, the value must be positive", temperature);
        checkArgument(train != null, "Cannot distil without a training configuration");
    }

    /** Offsite-Tuning's emulator distillation weights: {@code w_lm = 1, w_kd = 30}. */
    public static RepDistillConfig offsiteTuning(TrainConfig train) {
        return new RepDistillConfig(30, 1, 0, 1, train);
    }

    /**
     * FedBiOT's server alignment (methods.md §4(b)): {@code ℓ_nmse(M(h), E(h)) + w_kl·KL(p_full+adapter ‖
     * p_emulator+adapter)}, no LM term.
     */
    public static RepDistillConfig fedBiOt(TrainConfig train, double klWeight) {
        return new RepDistillConfig(1, 0, klWeight, 1, train);
    }

    /** FedPFT's layer-level distillation: hidden-state term only. */
    public static RepDistillConfig fedPft(TrainConfig train) {
        return new RepDistillConfig(1, 0, 0, 1, train);
    }
}
