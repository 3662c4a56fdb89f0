package dev.understudy.ops.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.Ops;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link Losses#forwardKlSum} against hand-computed values and gradients. */
class DistillLossTest {
    static final long I = TokenBatch.IGNORE;
    static NDManager root;

    @BeforeAll
    static void setUp() {
        root = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        root.close();
    }

    static float[] logs(double scale, double... p) {
        float[] out = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = (float) (scale * Math.log(p[i]));
        }
        return out;
    }

    static float[] cat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** Loss value and the gradient with respect to the student logits. */
    static double[] lossAndGrad(NDManager m, float[] student, float[] teacher, long[] labels, Shape ss, Shape ts, double temp,
            float[][] gradOut) {
        NDArray s = m.create(student, ss);
        s.setRequiresGradient(true);
        Ops.setGradMode(true);
        NDArray loss;
        try {
            loss = Losses.forwardKlSum(s, m.create(teacher, ts), m.create(labels, new Shape(ss.get(0), ss.get(1))), temp);
            Ops.backward(loss);
        } finally {
            Ops.setGradMode(false);
        }
        gradOut[0] = s.getGradient().toFloatArray();
        return new double[] {loss.getFloat()};
    }

    @Test
    void handComputedKlAtTemperatureTwoIncludesTheTSquaredFactor() {
        // position 0: p = softmax(z_t / 2) = [0.5, 0.3, 0.2], q = softmax(z_s / 2) = [0.2, 0.3, 0.5]
        // position 1: different distributions but masked (its shifted label is IGNORE); position 2 is last
        float[] teacher = cat(logs(2, 0.5, 0.3, 0.2), new float[] {0, 0, 0}, new float[] {5, 0, 0});
        float[] student = cat(logs(2, 0.2, 0.3, 0.5), new float[] {1, 2, 3}, new float[] {0, 0, 5});
        long[] labels = {7, 1, I};
        float[][] grad = new float[1][];
        try (NDManager m = root.newSubManager()) {
            double loss = lossAndGrad(m, student, teacher, labels, new Shape(1, 3, 3), new Shape(1, 3, 3), 2.0, grad)[0];
            // KL = 0.5 ln(0.5/0.2) + 0.3 ln 1 + 0.2 ln(0.2/0.5) = 0.3 ln 2.5 ; times T² = 4
            assertThat(loss).isCloseTo(4 * 0.3 * Math.log(2.5), within(1e-6));
            // d(T² KL)/dz_s = T² · (q − p) / T = T (q − p) = 2 · [−0.3, 0, 0.3]; masked and last positions: 0
            float[] want = {-0.6f, 0f, 0.6f, 0, 0, 0, 0, 0, 0};
            for (int i = 0; i < want.length; i++) {
                assertThat(grad[0][i]).as("grad %s", i).isCloseTo(want[i], within(1e-6f));
            }
            // at T = 1 the same logits give KL(softmax(z_t) ‖ softmax(z_s)) without scaling
            double t1 = Losses.forwardKlSum(m.create(student, new Shape(1, 3, 3)), m.create(teacher, new Shape(1, 3, 3)),
                    m.create(labels, new Shape(1, 3)), 1.0).getFloat();
            double[] p = {0.25, 0.09, 0.04};
            double[] q = {0.04, 0.09, 0.25};
            double want1 = 0;
            for (int i = 0; i < 3; i++) {
                want1 += p[i] / 0.38 * Math.log((p[i] / 0.38) / (q[i] / 0.38));
            }
            assertThat(t1).isCloseTo(want1, within(1e-6));
        }
    }

    @Test
    void klOfADistributionWithItselfIsZero() {
        SplittableRandom r = new SplittableRandom(3);
        float[] z = new float[2 * 5 * 7];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (r.nextGaussian() * 4);
        }
        long[] labels = {1, 2, 3, 4, 5, 1, 2, 3, I, I};
        try (NDManager m = root.newSubManager()) {
            for (double temp : new double[] {1.0, 3.0}) {
                NDArray x = m.create(z, new Shape(2, 5, 7));
                float kl = Losses.forwardKlSum(x, x.duplicate(), m.create(labels, new Shape(2, 5)), temp).getFloat();
                assertThat(kl).as("T=%s", temp).isZero();
            }
        }
    }

    @Test
    void extraStudentIdsGetProbabilityZeroUnderTheTeacher() {
        // teacher over 2 ids [0.5, 0.5]; student over 3 ids [0.25, 0.25, 0.5]: KL = 2 · 0.5 ln(0.5/0.25) = ln 2
        float[] teacher = cat(logs(1, 0.5, 0.5), new float[] {0, 0});
        float[] student = cat(logs(1, 0.25, 0.25, 0.5), new float[] {0, 0, 0});
        float[][] grad = new float[1][];
        try (NDManager m = root.newSubManager()) {
            double loss = lossAndGrad(m, student, teacher, new long[] {0, 1}, new Shape(1, 2, 3), new Shape(1, 2, 2), 1.0,
                    grad)[0];
            assertThat(loss).isCloseTo(Math.log(2), within(1e-6));
            // gradient q − p with p = [0.5, 0.5, 0]: [−0.25, −0.25, 0.5]
            assertThat(grad[0][0]).isCloseTo(-0.25f, within(1e-6f));
            assertThat(grad[0][1]).isCloseTo(-0.25f, within(1e-6f));
            assertThat(grad[0][2]).isCloseTo(0.5f, within(1e-6f));
            assertThatThrownBy(() -> Losses.forwardKlSum(m.create(teacher, new Shape(1, 2, 2)),
                    m.create(student, new Shape(1, 2, 3)), m.create(new long[] {0, 1}, new Shape(1, 2)), 1.0))
                    .hasMessageContaining("the teacher has 3 token ids but the student only 2");
        }
    }

    @Test
    void teacherZeroProbabilitiesContributeNothingAndKeepGradientsFinite() {
        float[] teacher = {0, Float.NEGATIVE_INFINITY, 0, 0, 0, 0};
        float[] student = cat(logs(1, 0.25, 0.5, 0.25), new float[] {0, 0, 0});
        float[][] grad = new float[1][];
        try (NDManager m = root.newSubManager()) {
            double loss = lossAndGrad(m, student, teacher, new long[] {0, 1}, new Shape(1, 2, 3), new Shape(1, 2, 3), 1.0,
                    grad)[0];
            // p = [0.5, 0, 0.5]: KL = 2 · 0.5 ln(0.5/0.25) = ln 2
            assertThat(loss).isCloseTo(Math.log(2), within(1e-6));
            assertThat(grad[0]).containsExactly(-0.25f, 0.5f, -0.25f, 0, 0, 0);
        }
    }

    @Test
    void matchesAFloat64ReferenceOnRandomLogitsWithPromptMasks() {
        int b = 2;
        int t = 4;
        int vt = 5;
        int vs = 6;
        double temp = 1.5;
        SplittableRandom r = new SplittableRandom(9);
        float[] teacher = new float[b * t * vt];
        float[] student = new float[b * t * vs];
        for (int i = 0; i < teacher.length; i++) {
            teacher[i] = (float) (r.nextGaussian() * 2);
        }
        for (int i = 0; i < student.length; i++) {
            student[i] = (float) (r.nextGaussian() * 2);
        }
        long[] labels = {I, I, 3, 4, I, 1, 2, I}; // row 0: prompt of 2; row 1: right padding at the end
        double want = 0;
        for (int row = 0; row < b; row++) {
            for (int pos = 0; pos < t - 1; pos++) {
                if (labels[row * t + pos + 1] == I) {
                    continue;
                }
                double[] lp = logSoftmax(teacher, (row * t + pos) * vt, vt, temp);
                double[] lq = logSoftmax(student, (row * t + pos) * vs, vs, temp);
                for (int v = 0; v < vt; v++) {
                    want += Math.exp(lp[v]) * (lp[v] - lq[v]);
                }
            }
        }
        want *= temp * temp;
        try (NDManager m = root.newSubManager()) {
            double got = Losses.forwardKlSum(m.create(student, new Shape(b, t, vs)), m.create(teacher, new Shape(b, t, vt)),
                    m.create(labels, new Shape(b, t)), temp).getFloat();
            assertThat(got).isCloseTo(want, within(1e-5));
            assertThatThrownBy(() -> Losses.forwardKlSum(m.create(student, new Shape(b, t, vs)),
                    m.create(teacher, new Shape(b, t, vt)), m.create(labels, new Shape(b, t)), 0))
                    .hasMessageContaining("Cannot set distillation temperature to 0.0");
        }
    }

    static double[] logSoftmax(float[] z, int from, int n, double temp) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, z[from + i] / temp);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(z[from + i] / temp - max);
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = z[from + i] / temp - max - Math.log(sum);
        }
        return out;
    }
}
