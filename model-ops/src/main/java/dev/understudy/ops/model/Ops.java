package dev.understudy.ops.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Thin, allocation-aware wrappers over libtorch kernels that DJL's generic NDArray API does not
 * expose directly (fused linear, embedding gather) plus the composite activations and norms of the
 * supported architectures. Outputs are attached to the manager of the first input and registered
 * with the thread's {@link ai.djl.ndarray.NDScope} when one is open.
 */
public final class Ops {
    private Ops() {}

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    /** {@code y = x W^T + b} (torch.nn.functional.linear); {@code x: [..., in]}, {@code w: [out, in]}, {@code b: [out]} or null. */
    public static NDArray linear(NDArray x, NDArray w, NDArray b) {
        return JniUtils.linear((PtNDArray) x, (PtNDArray) w, (PtNDArray) b);
    }

    /** Rows of {@code table} ({@code [N, d]}) selected by the int64 {@code ids} ({@code [...]}) → {@code [..., d]}; differentiable. */
    public static NDArray embedding(NDArray ids, NDArray table) {
        return JniUtils.embedding((PtNDArray) ids, (PtNDArray) table, false);
    }

    /**
     * RMSNorm as in LLaMA (Zhang &amp; Sennrich 2019): {@code x / sqrt(mean(x^2) + eps) * g}, computed
     * in the input's dtype.
     */
    public static NDArray rmsNorm(NDArray x, NDArray gain, double eps) {
        NDArray rms = x.square().mean(new int[] {-1}, true).add(eps).sqrt(); // [..., 1]
        return x.div(rms).mul(gain);
    }

    /** LayerNorm over the last axis with affine gain and bias (GPT-2). */
    public static NDArray layerNorm(NDArray x, NDArray gain, NDArray bias, double eps) {
        Shape normalized = new Shape(x.getShape().get(x.getShape().dimension() - 1));
        return JniUtils.layerNorm((PtNDArray) x, normalized, (PtNDArray) gain, (PtNDArray) bias, eps);
    }

    /** SiLU / swish with beta 1: {@code x * sigmoid(x)}. */
    public static NDArray silu(NDArray x) {
        return x.mul(x.getNDArrayInternal().sigmoid());
    }

    /** GPT-2's "gelu_new": {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    public static NDArray geluTanh(NDArray x) {
        NDArray inner = x.pow(3).mul(0.044715).add(x).mul(SQRT_2_OVER_PI);
        return inner.tanh().add(1).mul(x).mul(0.5);
    }

    /** Exact erf GELU. */
    public static NDArray gelu(NDArray x) {
        return JniUtils.gelu((PtNDArray) x);
    }

    /** Applies the configured MLP activation. */
    public static NDArray activate(NDArray x, ModelConfig.Activation act) {
        return switch (act) {
            case SILU -> silu(x);
            case GELU -> gelu(x);
            case GELU_TANH -> geluTanh(x);
            case RELU -> x.getNDArrayInternal().relu();
        };
    }

    /** Turns libtorch's thread-local autograd recording on or off for the calling thread only. */
    public static void setGradMode(boolean enabled) {
        JniUtils.setGradMode(enabled);
    }

    /** Whether autograd recording is on for the calling thread. */
    public static boolean isGradMode() {
        return JniUtils.isGradMode();
    }

    /**
     * Back-propagates a scalar loss through the graph recorded on this thread, accumulating into the
     * {@code .grad} of leaf tensors that require gradients. Bypasses DJL's JVM-global
     * GradientCollector so that several trainers can run concurrently (stack.md §1, pitfall 1).
     */
    public static void backward(NDArray scalarLoss) {
        try (NDArray seed = scalarLoss.onesLike()) {
            JniUtils.backward((PtNDArray) scalarLoss, (PtNDArray) seed, false, false);
        }
    }

    /** Sets the accumulated gradient of a leaf tensor to zero in place. */
    public static void zeroGrad(NDArray param) {
        JniUtils.zeroGrad((PtNDArray) param);
    }
}
