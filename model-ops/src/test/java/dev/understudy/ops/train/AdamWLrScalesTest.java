package dev.understudy.ops.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.understudy.ops.model.Ops;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Per-parameter learning-rate scales: scale s on a parameter equals training it alone at lr * s. */
class AdamWLrScalesTest {

    @Test
    void aScaledParameterMovesAsIfTrainedAtTheScaledRate() {
        double lr = 0.05;
        double wd = 0.1;
        float[] grads = {0.5f, -1f, 0.25f};
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray a = param(m);
            NDArray b = param(m);
            NDArray ref = param(m);
            try (AdamW grouped = new AdamW(List.of(a, b), 0.9, 0.999, 1e-8, wd, m);
                    AdamW alone = new AdamW(List.of(ref), 0.9, 0.999, 1e-8, wd, m)) {
                grouped.setLrScales(new double[] {1.0, 3.0});
                for (float g : grads) {
                    gradient(a, g);
                    gradient(b, g);
                    gradient(ref, g);
                    grouped.step(lr);
                    alone.step(lr * 3.0);
                }
            }
            // b (scale 3) follows the reference at 3 lr exactly; a (scale 1) did not move as far.
            assertThat(b.toFloatArray()).containsExactly(ref.toFloatArray());
            assertThat(Math.abs(a.toFloatArray()[0] - 1f)).isLessThan(Math.abs(b.toFloatArray()[0] - 1f));
        }
    }

    @Test
    void rejectsScalesOfTheWrongLengthOrSign() {
        try (NDManager m = NDManager.newBaseManager("PyTorch"); AdamW opt = new AdamW(List.of(param(m)), 0.9, 0.999, 1e-8, 0, m)) {
            assertThatThrownBy(() -> opt.setLrScales(new double[] {1, 2})).hasMessageContaining("2 learning-rate scales for 1");
            assertThatThrownBy(() -> opt.setLrScales(new double[] {0})).hasMessageContaining("must be positive");
        }
    }

    private static NDArray param(NDManager m) {
        NDArray p = m.create(new float[] {1f, -2f});
        p.setRequiresGradient(true);
        return p;
    }

    private static void gradient(NDArray p, float g) {
        Ops.setGradMode(true);
        NDArray loss = Ops.mul(p, g).sum(); // d loss / d p = g
        Ops.backward(loss);
        Ops.setGradMode(false);
    }
}
