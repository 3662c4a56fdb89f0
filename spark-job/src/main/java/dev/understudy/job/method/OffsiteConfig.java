package dev.understudy.job.method;

import static dev.understudy.job.method.FedPtConfig.bool;
import static dev.understudy.job.method.FedPtConfig.num;
import static dev.understudy.job.method.FedPtConfig.str;

import dev.understudy.ops.surgery.OffsiteEmulator;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * {@code method_params} of the Offsite-Tuning family ({@code fedot}, {@code fedbiot}; methods.md
 * §4). The emulator {@code bottom-middle_kept-top} is checked against the model in {@code
 * beforeFederation}, before any training ({@link OffsiteEmulator#validate}).
 *
 * @param bottom {@code method_params.bottom}: l, bottom adapter layers (FedBiOT: 0)
 * @param middleKept {@code method_params.middle_kept}: k, middle layers the emulator keeps (uniform stride)
 * @param top {@code method_params.top}: r, top adapter layers
 * @param distill {@code method_params.distill}: distil the emulator's middle once before round 1
 *     with {@code w_lm·CE + w_kd·ℓ_nmse(M(h), E(h))} (OT's weights 1 and 30) on {@code kd_data}
 * @param kdData {@code method_params.kd_data}: the server's public corpus (same columns as data.path);
 *     needed by {@code distill} and by {@code fedbiot}'s per-round alignment
 * @param kdSteps {@code method_params.kd_steps}: optimiser steps of the one-off distillation
 * @param kdLr {@code method_params.kd_lr}: its learning rate (AdamW, constant)
 * @param kdBatchSize {@code method_params.kd_batch_size}: micro-batch of distillation and alignment
 * @param kdMaxExamples {@code method_params.kd_max_examples}: at most this many rows of kd_data (0 = all)
 * @param alignSteps {@code method_params.align_steps}: FedBiOT's server alignment steps per round (§4(b): 10)
 * @param alignLr {@code method_params.align_lr}: its learning rate (§4(b): SGD 0.01; here AdamW, see FedBiOt)
 * @param alignKlWeight {@code method_params.align_kl_weight}: w_kl of KL(full+adapter ‖ emulator+adapter)
 *     (Dolly yaml: 0)
 */
public record OffsiteConfig(int bottom, int middleKept, int top, boolean distill, String kdData, int kdSteps,
        double kdLr, int kdBatchSize, int kdMaxExamples, int alignSteps, double alignLr, double alignKlWeight) {

    static final List<String> KEYS = List.of("bottom", "middle_kept", "top", "distill", "kd_data", "kd_steps", "kd_lr",
            "kd_batch_size", "kd_max_examples", "align_steps", "align_lr", "align_kl_weight");

    /** Config keys named in emulator errors. */
    public static final OffsiteEmulator.Keys EMULATOR_KEYS = OffsiteEmulator.Keys.of("method_params.");

    public OffsiteConfig {
        require(!distill || (kdData != null && !kdData.isBlank()), "kd_data", kdData,
                "the URI of the server's public corpus (or set method_params.distill=false)");
        require(kdSteps >= 1, "kd_steps", kdSteps, "≥ 1");
        require(kdLr > 0, "kd_lr", kdLr, "> 0");
        require(kdBatchSize >= 1, "kd_batch_size", kdBatchSize, "≥ 1");
        require(kdMaxExamples >= 0, "kd_max_examples", kdMaxExamples, "≥ 0 (0 = all)");
        require(alignSteps >= 1, "align_steps", alignSteps, "≥ 1");
        require(alignLr > 0, "align_lr", alignLr, "> 0");
        require(alignKlWeight >= 0, "align_kl_weight", alignKlWeight, "≥ 0");
    }

    public OffsiteEmulator emulator() {
        return new OffsiteEmulator(bottom, middleKept, top);
    }

    /** Parses {@code method_params} of {@code method}, rejecting unknown keys with the nearest valid one. */
    public static OffsiteConfig parse(String method, Map<String, Object> p, boolean bilevel) {
        for (String k : p.keySet()) {
            if (!KEYS.contains(k)) {
                String near = KEYS.stream().min(Comparator.comparingInt(c -> FedPtConfig.distance(k, c))).orElse("");
                throw new IllegalArgumentException("Unknown key method_params." + k + " for method " + method
                        + "; did you mean method_params." + near + "? Valid keys: " + KEYS);
            }
        }
        for (String k : List.of("bottom", "middle_kept", "top")) {
            require(p.containsKey(k) || (bilevel && k.equals("bottom")), k, null,
                    "set (the emulator is bottom-middle_kept-top, e.g. {bottom: 2, middle_kept: 8, top: 2})");
        }
        OffsiteConfig c = new OffsiteConfig((int) num(p, "bottom", 0), (int) num(p, "middle_kept", 0),
                (int) num(p, "top", 0), bool(p, "distill", false), str(p, "kd_data", null), (int) num(p, "kd_steps", 100),
                num(p, "kd_lr", 1e-4), (int) num(p, "kd_batch_size", 8), (int) num(p, "kd_max_examples", 0),
                (int) num(p, "align_steps", 10), num(p, "align_lr", 1e-3), num(p, "align_kl_weight", 0.0));
        if (bilevel) {
            require(c.kdData() != null && !c.kdData().isBlank(), "kd_data", c.kdData(),
                    "the URI of the server's public corpus: fedbiot re-aligns the emulator on it every round");
        }
        return c;
    }

    private static void require(boolean ok, String key, Object value, String what) {
        if (!ok) {
            throw new IllegalArgumentException("Cannot set method_params." + key + " to " + value + ": must be " + what);
        }
    }
}
