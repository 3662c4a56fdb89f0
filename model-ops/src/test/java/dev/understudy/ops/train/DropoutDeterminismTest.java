package dev.understudy.ops.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.testing.TinyModels;
import java.util.List;
import org.junit.jupiter.api.Test;

/** With every dropout on, the same seed must give the same losses and adapter, run after run. */
class DropoutDeterminismTest {
    static double[] run(NDManager root, ModelConfig c, List<Example> data, int steps) {
        try (NDManager m = root.newSubManager();
                DecoderModel model = TinyModels.create(c, 1, m);
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(4, 8, 0.1, List.of("q_proj", "v_proj", "up_proj")), 1, m);
                Trainer t = new Trainer(model, lora, TrainConfig.simple(1e-3, 4, 1).withClipping(1.0), 0, m)) {
            return t.train(data, steps).losses();
        }
    }

    @Test
    void repeatedRunsAreIdentical() {
        ModelConfig c = TinyModels.llamaGqa().withDropout(0.1, 0.1, 0.1);
        List<Example> data = TrainerTest.sequences(16, 24, c.vocabSize(), 3);
        try (NDManager root = NDManager.newBaseManager("PyTorch")) {
            double[] a = run(root, c, data, 120);
            for (int rep = 0; rep < 3; rep++) {
                System.gc();
                double[] b = run(root, c, data, 120);
                assertThat(b).as("repeat %s", rep).containsExactly(a);
            }
            for (double x : a) {
                assertThat(x).isFinite();
            }
        }
    }
}
