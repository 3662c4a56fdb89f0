package dev.understudy.ops.distill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.Ops;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** ℓ_nmse (methods.md §0.2) against hand values and its gradient against finite differences. */
class NmseTest {
    @Test
    void matchesHandComputedValue() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            // T = [[1, 2], [3, 0]], S = [[1, 0], [2, 1]]: ‖T−S‖² = 0+4+1+1 = 6, ‖T‖² = 1+4+9 = 14
            NDArray t = m.create(new double[] {1, 2, 3, 0}, new Shape(1, 2, 2));
            NDArray s = m.create(new double[] {1, 0, 2, 1}, new Shape(1, 2, 2));
            assertThat(Nmse.loss(t, s, null).getDouble()).isCloseTo(6.0 / 14, within(1e-15));
            // masking the second token: 4 / 5
            NDArray mask = m.create(new long[] {1, 0}, new Shape(1, 2));
            assertThat(Nmse.loss(t, s, mask).getDouble()).isCloseTo(4.0 / 5, within(1e-15));
            // equals mean((T−S)²)/mean(T²) as the reference code writes it
            assertThat(Nmse.loss(t, t, null).getDouble()).isZero();
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            SplittableRandom r = new SplittableRandom(4);
            int n = 2 * 3 * 4;
            double[] tv = new double[n];
            double[] sv = new double[n];
            for (int i = 0; i < n; i++) {
                tv[i] = r.nextGaussian();
                sv[i] = r.nextGaussian();
            }
            Shape shape = new Shape(2, 3, 4);
            NDArray mask = m.create(new long[] {1, 1, 0, 1, 1, 1}, new Shape(2, 3));
            NDArray t = m.create(tv, shape);
            NDArray s = m.create(sv, shape);
            s.setRequiresGradient(true);
            Ops.setGradMode(true);
            NDArray loss;
            try {
                loss = Nmse.loss(t, s, mask);
                Ops.backward(loss);
            } finally {
                Ops.setGradMode(false);
            }
            double[] grad = s.getGradient().toType(DataType.FLOAT64, false).toDoubleArray();
            double h = 1e-6;
            for (int i = 0; i < n; i++) {
                double[] plus = sv.clone();
                double[] minus = sv.clone();
                plus[i] += h;
                minus[i] -= h;
                double fd = (value(m, tv, plus, shape, mask) - value(m, tv, minus, shape, mask)) / (2 * h);
                assertThat(grad[i]).as("element %s", i).isCloseTo(fd, within(1e-7));
            }
            // a padded token gets no gradient; the closed form −2 (T − S) / ‖T‖² elsewhere
            double ref = 0;
            for (int i = 0; i < n; i++) {
                if (i / 4 != 2) {
                    ref += tv[i] * tv[i];
                }
            }
            for (int i = 0; i < n; i++) {
                double want = i / 4 == 2 ? 0 : -2 * (tv[i] - sv[i]) / ref;
                assertThat(grad[i]).isCloseTo(want, within(1e-12));
            }
        }
    }

    private static double value(NDManager m, double[] t, double[] s, Shape shape, NDArray mask) {
        return Nmse.loss(m.create(t, shape), m.create(s, shape), mask).getDouble();
    }
}
