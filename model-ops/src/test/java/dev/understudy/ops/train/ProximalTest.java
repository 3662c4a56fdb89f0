package dev.understudy.ops.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.testing.TinyModels;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProximalTest {

    /** grad of Σ c·w is c; the proximal term adds μ(w − w₀): hand-computed. */
    @Test
    void addsMuTimesDistanceToTheGradient() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray w = m.create(new float[] {1f, 2f, -1f});
            w.setRequiresGradient(true);
            NDArray anchor = m.create(new float[] {0.5f, 0.5f, 0.5f});
            NDArray c = m.create(new float[] {0.1f, 0.1f, 0.1f});
            Ops.setGradMode(true);
            try {
                NDArray loss = w.mul(c).sum();
                Ops.backward(loss);
            } finally {
                Ops.setGradMode(false);
            }
            Proximal.addGradient(List.of(w), List.of(anchor), 0.2);
            // 0.1 + 0.2·(1 − 0.5), 0.1 + 0.2·(2 − 0.5), 0.1 + 0.2·(−1 − 0.5)
            assertThat(w.getGradient().toFloatArray()).containsExactly(new float[] {0.2f, 0.4f, -0.2f}, within(1e-6f));
            // μ/2·(0.25 + 2.25 + 2.25)
            assertThat(Proximal.value(List.of(w), List.of(anchor), 0.2)).isCloseTo(0.475, within(1e-9));
        }
    }

    @Test
    void zeroMuIsExactlyPlainTrainingAndLargeMuStaysCloserToTheAnchor() {
        ModelConfig c = TinyModels.llamaGqa();
        List<Example> data = TrainerTest.sequences(8, 12, c.vocabSize(), 3);
        TrainConfig cfg = TrainConfig.simple(2e-2, 4, 9);
        float[] start;
        float[] plain;
        float[] zero;
        float[] prox;
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel model = TinyModels.create(c, 1, m)) {
            start = run(model, cfg, data, -1, m);
            plain = run(model, cfg, data, Double.NaN, m);
            zero = run(model, cfg, data, 0.0, m);
            prox = run(model, cfg, data, 50.0, m);
        }
        assertThat(zero).isEqualTo(plain);
        assertThat(distance(prox, start)).isLessThan(0.5 * distance(plain, start));
    }

    /** LoRA B starts at zero, so the first steps move it off the anchor; mu pulls it back. */
    private static float[] run(DecoderModel model, TrainConfig cfg, List<Example> data, double mu, NDManager m) {
        try (NDManager s = m.newSubManager();
                LoraAdapter lora = LoraAdapter.create(model, TrainerTest.ALL_LINEAR, 3, s)) {
            // start from a non-trivial point so the anchor is not the origin
            try (Trainer warm = new Trainer(model, lora, cfg, 0, s)) {
                warm.train(data, 2);
            }
            if (mu < 0) {
                return TrainerTest.flatten(lora);
            }
            try (Trainer t = new Trainer(model, lora, cfg, 0, s)) {
                if (!Double.isNaN(mu)) {
                    t.setProximal(mu);
                }
                t.train(data, 6);
            }
            return TrainerTest.flatten(lora);
        }
    }

    private static double distance(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (double) (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }
}
