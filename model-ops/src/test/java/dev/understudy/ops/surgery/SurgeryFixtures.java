package dev.understudy.ops.surgery;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small models of every supported decoder kind for surgery tests. */
final class SurgeryFixtures {
    private SurgeryFixtures() {}

    /** LLaMA with GQA (4 heads, 2 KV heads), MLP biases, untied head. */
    static ModelConfig llamaGqa() {
        ModelConfig c = ModelConfig.llama(32, 16, 3, 4, 2, 12, 16);
        return new ModelConfig(c.family(), "llama", c.vocabSize(), c.hiddenSize(), c.numLayers(), c.numHeads(),
                c.numKvHeads(), c.headDim(), c.intermediateSize(), c.maxPositions(), c.normEps(), c.ropeTheta(),
                c.activation(), false, false, false, true, 0, 0, 0, 0, -1, -1, -1, List.of());
    }

    /** Qwen2-style LLaMA (q/k/v biases, tied head). */
    static ModelConfig qwen2() {
        return ModelConfig.llama(32, 16, 3, 4, 1, 10, 16).withQkvBias(true, "qwen2").withTiedEmbeddings(true);
    }

    static ModelConfig gpt2() {
        return ModelConfig.gpt2(32, 16, 3, 2, 16).withIntermediateSizes(List.of(12, 12, 12));
    }

    static List<ModelConfig> all() {
        return List.of(llamaGqa(), qwen2(), gpt2());
    }

    /** Random weights with every bias and norm perturbed too (random init leaves them 0 / 1). */
    static Map<String, HostTensor> randomTensors(ModelConfig c, long seed, NDManager m) {
        try (DecoderModel model = DecoderModel.randomInit(c, seed, m, DataType.FLOAT32, 0.3)) {
            Map<String, HostTensor> t = new LinkedHashMap<>(model.exportTensors());
            java.util.SplittableRandom r = new java.util.SplittableRandom(seed + 1);
            for (Map.Entry<String, HostTensor> e : t.entrySet()) {
                if (e.getKey().endsWith(".bias") || e.getKey().contains("norm") || e.getKey().contains("ln_")) {
                    float[] v = e.getValue().values().clone();
                    for (int i = 0; i < v.length; i++) {
                        v[i] += (float) (r.nextGaussian() * 0.1);
                    }
                    e.setValue(new HostTensor(e.getValue().shape(), v));
                }
            }
            return t;
        }
    }

    static NDArray ids(NDManager m, int b, int t, int vocab, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        long[] v = new long[b * t];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(vocab);
        }
        return m.create(v, new Shape(b, t));
    }

    static float[] logits(ModelConfig c, Map<String, HostTensor> t, NDArray ids, NDArray mask, NDManager m) {
        try (NDManager sub = m.newSubManager();
                DecoderModel model = DecoderModel.fromTensors(c, t, "test", sub, DataType.FLOAT64)) {
            return model.forward(ids, mask, null, null, null, null).toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    /** A copy of {@code t} with tensor {@code name} replaced. */
    static Map<String, HostTensor> with(Map<String, HostTensor> t, String name, HostTensor v) {
        Map<String, HostTensor> out = new LinkedHashMap<>(t);
        out.put(name, v);
        return out;
    }

    static HostTensor zerosLike(HostTensor t) {
        return new HostTensor(t.shape().clone(), new float[t.values().length]);
    }
}
