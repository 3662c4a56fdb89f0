package dev.understudy.ops.testing;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.ModelConfig;

/** Tiny model configs and factories shared by tests (published in the model-ops test-jar). */
public final class TinyModels {
    private TinyModels() {}

    /** LLaMA with GQA (4 query heads over 2 kv heads), untied head. */
    public static ModelConfig llamaGqa() {
        return ModelConfig.llama(64, 32, 2, 4, 2, 48, 64);
    }

    /** Qwen2 style: q/k/v biases, a single kv head, tied embeddings, large rope theta. */
    public static ModelConfig qwen2Tied() {
        return ModelConfig.llama(64, 32, 2, 4, 1, 40, 64).withTiedEmbeddings(true).withQkvBias(true, "qwen2")
                .withRopeTheta(1e6);
    }

    /** GPT-2 without dropout. */
    public static ModelConfig gpt2() {
        return ModelConfig.gpt2(64, 32, 2, 4, 64).withDropout(0, 0, 0);
    }

    public static DecoderModel create(ModelConfig c, long seed, NDManager m) {
        return DecoderModel.randomInit(c, seed, m, DataType.FLOAT32);
    }

    /** A random-init model whose biases and norm gains are perturbed too, so bugs in them show. */
    public static DecoderModel createPerturbed(ModelConfig c, long seed, NDManager m, DataType dtype) {
        DecoderModel model = DecoderModel.randomInit(c, seed, m, dtype);
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed + 17);
        for (var e : model.parameters().entrySet()) {
            if (e.getKey().endsWith(".bias") || e.getKey().contains("norm") || e.getKey().contains("ln_")) {
                float[] noise = new float[(int) e.getValue().size()];
                for (int i = 0; i < noise.length; i++) {
                    noise[i] = (float) (r.nextGaussian() * 0.1);
                }
                try (var n = e.getValue().getManager().create(noise, e.getValue().getShape())) {
                    var typed = n.toType(dtype, false);
                    e.getValue().addi(typed);
                    typed.close();
                }
            }
        }
        return model;
    }
}
