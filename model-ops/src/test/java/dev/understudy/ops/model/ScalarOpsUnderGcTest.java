package dev.understudy.ops.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Regression test for scalar operands that autograd saves for backward: they must stay valid when
 * the Java side collects garbage between forward and backward (DJL's mul(Number) breaks this).
 */
class ScalarOpsUnderGcTest {
    @Test
    void savedScalarsSurviveGarbageCollection() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            for (int trial = 0; trial < 20; trial++) {
                NDArray x = m.create(new float[] {1f, 2f, 3f});
                x.setRequiresGradient(true);
                Ops.setGradMode(true);
                NDArray y = Ops.mul(Ops.div(x, 4.0), 3.0).sum(); // dy/dx = 0.75
                Ops.setGradMode(false);
                // Churn direct memory and collect, so freed scalar buffers would be reused.
                List<ByteBuffer> junk = new ArrayList<>();
                for (int i = 0; i < 2000; i++) {
                    ByteBuffer b = ByteBuffer.allocateDirect(4);
                    b.putFloat(0, Float.NaN);
                    junk.add(b);
                }
                junk.clear();
                System.gc();
                Ops.backward(y);
                assertThat(x.getGradient().toFloatArray()).containsExactly(0.75f, 0.75f, 0.75f);
                x.close();
                y.close();
            }
        }
    }
}
