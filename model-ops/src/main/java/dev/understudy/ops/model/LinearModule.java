package dev.understudy.ops.model;

/**
 * A linear projection of the model that adapters can target.
 *
 * @param name the Hugging Face module path, e.g. {@code model.layers.0.self_attn.q_proj}
 * @param inFeatures input width
 * @param outFeatures output width
 * @param conv1d whether the checkpoint stores the weight in GPT-2's Conv1D {@code [in, out]} layout
 */
public record LinearModule(String name, int inFeatures, int outFeatures, boolean conv1d) {
    /** The last path component (e.g. {@code q_proj}), which PEFT's {@code target_modules} match. */
    public String shortName() {
        return name.substring(name.lastIndexOf('.') + 1);
    }
}
