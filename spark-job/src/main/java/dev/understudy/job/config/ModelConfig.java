package dev.understudy.job.config;

import dev.understudy.ops.lora.LoraConfig;

/**
 * The {@code model} section.
 *
 * @param base {@code model.base}: URI of a Hugging Face model directory (config.json, safetensors,
 *     tokenizer.json); required
 * @param dtype {@code model.dtype}: element type the frozen base weights are held in
 * @param lora {@code model.lora.*}: the adapter trained by the clients
 */
public record ModelConfig(String base, Dtype dtype, LoraConfig lora) {

    /** Element types for the frozen base weights. */
    public enum Dtype {
        FLOAT32,
        FLOAT16,
        BFLOAT16
    }

    public ModelConfig {
        Checks.required("model.base", base, "file:///models/my-model");
        Checks.notNull("model.dtype", dtype, "one of float32, float16, bfloat16");
        Checks.notNull("model.lora", lora, "a section");
    }
}
