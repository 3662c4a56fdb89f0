package dev.understudy.ops.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.understudy.ops.model.Ops;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduleAndOptimizerTest {
    @Test
    void cosineWithWarmupMatchesHandValues() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.COSINE, 1.0, 4, 14, 0.0);
        assertThat(s.lr(0)).isEqualTo(0.0);
        assertThat(s.lr(2)).isEqualTo(0.5);
        assertThat(s.lr(4)).isEqualTo(1.0);
        assertThat(s.lr(9)).isCloseTo(0.5, within(1e-12)); // halfway through decay: (1 + cos(pi/2)) / 2
        assertThat(s.lr(14)).isCloseTo(0.0, within(1e-12));
        assertThat(s.lr(100)).isCloseTo(0.0, within(1e-12));
    }

    @Test
    void linearWithFloorMatchesHandValues() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.LINEAR, 2.0, 0, 10, 0.1);
        assertThat(s.lr(0)).isEqualTo(2.0);
        assertThat(s.lr(5)).isCloseTo(2.0 * (0.1 + 0.9 * 0.5), within(1e-12));
        assertThat(s.lr(10)).isCloseTo(0.2, within(1e-12));
    }

    @Test
    void invalidSchedulesNameTheKey() {
        assertThatThrownBy(() -> new LrSchedule(LrSchedule.Kind.COSINE, -1, 0, 1, 0)).hasMessageContaining("lr to -1");
        assertThatThrownBy(() -> new LrSchedule(LrSchedule.Kind.COSINE, 1, 10, 5, 0)).hasMessageContaining("total_steps");
    }

    @Test
    void adamwMatchesHandComputedTwoSteps() {
        // p0 = 1, grads g1 = 0.5, g2 = -1; lr 0.1, betas (0.9, 0.999), eps 1e-8, wd 0.1
        double p = 1, m = 0, v = 0, b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 0.1, wd = 0.1;
        double[] grads = {0.5, -1};
        try (NDManager mgr = NDManager.newBaseManager("PyTorch")) {
            NDArray param = mgr.create(new float[] {1f});
            param.setRequiresGradient(true);
            try (AdamW opt = new AdamW(List.of(param), b1, b2, eps, wd, mgr)) {
                for (int t = 1; t <= 2; t++) {
                    double g = grads[t - 1];
                    Ops.setGradMode(true);
                    NDArray loss = param.mul((float) g).sum(); // d loss / d param = g
                    Ops.backward(loss);
                    Ops.setGradMode(false);
                    opt.step(lr);
                    p -= lr * wd * p;
                    m = b1 * m + (1 - b1) * g;
                    v = b2 * v + (1 - b2) * g * g;
                    p -= lr * (m / (1 - Math.pow(b1, t))) / (Math.sqrt(v / (1 - Math.pow(b2, t))) + eps);
                    assertThat(param.toFloatArray()[0]).as("step %s", t).isCloseTo((float) p, within(1e-6f));
                }
            }
        }
    }
}
