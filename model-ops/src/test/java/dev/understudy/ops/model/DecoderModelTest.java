package dev.understudy.ops.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.testing.TinyModels;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class DecoderModelTest {
    static NDManager root;

    @BeforeAll
    static void setUp() {
        root = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        root.close();
    }

    static Stream<ModelConfig> configs() {
        return Stream.of(TinyModels.llamaGqa(), TinyModels.qwen2Tied(), TinyModels.gpt2());
    }

    static long[] randomIds(int n, int vocab, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(vocab);
        }
        return ids;
    }

    @ParameterizedTest
    @MethodSource("configs")
    void kvCacheDecodingEqualsFullForwardAtEveryPosition(ModelConfig config) {
        try (NDManager m = root.newSubManager();
                DecoderModel model = TinyModels.createPerturbed(config, 7, m, DataType.FLOAT32)) {
            int t = 12;
            NDArray ids = m.create(randomIds(2 * t, config.vocabSize(), 3), new Shape(2, t));
            float[] full = model.forward(ids).toFloatArray(); // (2, T, V)
            int v = config.vocabSize();
            try (KvCache cache = new KvCache(m, config.numLayers())) {
                // prefill 5 tokens, then one token at a time
                NDArray first = ids.get(":, 0:5");
                float[] pre = model.forward(first, null, null, cache, null, null).toFloatArray();
                for (int bi = 0; bi < 2; bi++) {
                    for (int p = 0; p < 5; p++) {
                        for (int k = 0; k < v; k++) {
                            assertThat(pre[(bi * 5 + p) * v + k]).isCloseTo(full[(bi * t + p) * v + k],
                                    org.assertj.core.data.Offset.offset(1e-5f));
                        }
                    }
                }
                for (int p = 5; p < t; p++) {
                    try (NDScope ignored = new NDScope()) {
                        NDArray step = ids.get(":, " + p + ":" + (p + 1));
                        float[] got = model.forward(step, null, null, cache, null, null).toFloatArray();
                        for (int bi = 0; bi < 2; bi++) {
                            for (int k = 0; k < v; k++) {
                                assertThat(got[bi * v + k]).as("batch %s pos %s", bi, p)
                                        .isCloseTo(full[(bi * t + p) * v + k], org.assertj.core.data.Offset.offset(1e-5f));
                            }
                        }
                    }
                }
                assertThat(cache.length()).isEqualTo(t);
            }
        }
    }
}
