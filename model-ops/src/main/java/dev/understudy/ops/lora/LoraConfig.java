package dev.understudy.ops.lora;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import java.util.List;

/**
 * LoRA hyper-parameters (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models",
 * arXiv:2106.09685), with Hugging Face PEFT's semantics: the update of a frozen weight {@code W} is
 * {@code (alpha / rank) * B A}, {@code A: [rank, in]}, {@code B: [out, rank]}.
 *
 * @param rank r, the inner dimension (≥ 1)
 * @param alpha scaling numerator; the effective scale is alpha / rank
 * @param dropout dropout on the adapter input during training, in [0, 1)
 * @param targetModules module names matched as in PEFT: a module is adapted when its full name
 *     equals an entry or ends with {@code "." + entry} (e.g. "q_proj", "c_attn", "mlp.c_proj")
 */
public record LoraConfig(int rank, double alpha, double dropout, List<String> targetModules) {
    public LoraConfig {
        checkArgument(rank >= 1, "Cannot set lora.rank to %s, the value must be ≥ 1", rank);
        checkArgument(alpha > 0, "Cannot set lora.alpha to %s, the value must be positive", alpha);
        checkArgument(dropout >= 0 && dropout < 1, "Cannot set lora.dropout to %s, the value must be in [0, 1)", dropout);
        checkArgument(targetModules != null && !targetModules.isEmpty(),
                "Cannot set lora.target_modules to %s: name at least one module (e.g. [q_proj, v_proj])", targetModules);
        targetModules = List.copyOf(targetModules);
    }

    /** The factor applied to {@code B A x}. */
    public double scale() {
        return alpha / rank;
    }

    /** Whether the module with this full name is targeted. */
    public boolean matches(String moduleName) {
        for (String t : targetModules) {
            if (moduleName.equals(t) || moduleName.endsWith("." + t)) {
                return true;
            }
        }
        return false;
    }
}
