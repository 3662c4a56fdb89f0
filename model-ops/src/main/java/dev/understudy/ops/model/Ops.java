package dev.understudy.ops.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.understudy.ops.util.MklCpuDispatch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Thin, allocation-aware wrappers over libtorch kernels that DJL's generic NDArray API does not
 * expose directly (fused linear, embedding gather) plus the composite activations and norms of the
 * supported architectures. Outputs are attached to the manager of the first input and registered
 * with the thread's {@link ai.djl.ndarray.NDScope} when one is open.
 */
public final class Ops {
    static {
        // before the first GEMM (linear): oneMKL caches its kernel choice at its first call
        MklCpuDispatch.ensureInstalled();
    }

    private Ops() {}

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    /*
     * Scalar arithmetic. DJL's NDArray.mul(Number) and friends wrap the scalar in a 0-d NDArray that
     * aliases a Java direct buffer and close it as soon as the op returns. Autograd saves that scalar
     * for backward (d(x*s)/dx = s), so once the buffer is garbage-collected the backward pass reads
     * freed memory: rare, GC-timed garbage gradients. These helpers use a torch-allocated scalar
     * (torch::full), which the graph keeps alive by reference count. Use them for every scalar op on
     * a tensor that may be part of an autograd graph.
     */

    /** {@code x * s} with a torch-owned scalar (safe under autograd). */
    public static NDArray mul(NDArray x, double s) {
        try (NDArray sc = scalar(x, s)) {
            return x.mul(sc);
        }
    }

    /** {@code x + s} with a torch-owned scalar (safe under autograd). */
    public static NDArray add(NDArray x, double s) {
        try (NDArray sc = scalar(x, s)) {
            return x.add(sc);
        }
    }

    /** {@code x / s} with a torch-owned scalar (safe under autograd). */
    public static NDArray div(NDArray x, double s) {
        try (NDArray sc = scalar(x, s)) {
            return x.div(sc);
        }
    }

    /** {@code x ^ s} with a torch-owned scalar exponent (safe under autograd). */
    public static NDArray pow(NDArray x, double s) {
        try (NDArray sc = scalar(x, s)) {
            return x.pow(sc);
        }
    }

    /** {@code max(x, s)} with a torch-owned scalar. */
    public static NDArray maximum(NDArray x, double s) {
        try (NDArray sc = scalar(x, s)) {
            return x.maximum(sc);
        }
    }

    /** {@code x != s} with a torch-owned scalar. */
    public static NDArray neq(NDArray x, double s) {
        try (NDArray sc = scalar(x, s)) {
            return x.neq(sc);
        }
    }

    /** In place {@code x *= s} with a torch-owned scalar. */
    public static void muli(NDArray x, double s) {
        try (NDArray sc = scalar(x, s)) {
            x.muli(sc);
        }
    }

    /** In place {@code x += s} with a torch-owned scalar. */
    public static void addi(NDArray x, double s) {
        try (NDArray sc = scalar(x, s)) {
            x.addi(sc);
        }
    }

    /** In place {@code x /= s} with a torch-owned scalar. */
    public static void divi(NDArray x, double s) {
        try (NDArray sc = scalar(x, s)) {
            x.divi(sc);
        }
    }

    private static NDArray scalar(NDArray like, double s) {
        return like.getManager().full(new Shape(), (float) s, like.getDataType(), like.getDevice());
    }

    /*
     * Host-to-torch transfers. DJL's create(long[]/float[]) allocates a fresh direct ByteBuffer per
     * call and the tensor aliases it; the memory returns only after a GC, so a training loop that
     * creates batches and masks every step grows RSS by hundreds of MB between collections. These
     * helpers stage the data in one reusable direct buffer per thread and copy it into torch-owned
     * memory at once.
     */
    private static final ThreadLocal<ByteBuffer> STAGING =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.LITTLE_ENDIAN));

    private static ByteBuffer staging(int bytes) {
        ByteBuffer b = STAGING.get();
        if (b.capacity() < bytes) {
            b = ByteBuffer.allocateDirect(Math.max(bytes, 2 * b.capacity())).order(ByteOrder.LITTLE_ENDIAN);
            STAGING.set(b);
        }
        return b.slice(0, bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static NDArray copyOut(NDManager m, ByteBuffer staged, Shape shape, DataType dtype) {
        try (NDArray aliased = m.create(staged, shape, dtype)) {
            return aliased.duplicate(); // torch-owned copy; the staging buffer is reused next call
        }
    }

    /** An int64 array of {@code shape} holding {@code data}, in torch-owned memory. */
    public static NDArray fromLongs(NDManager m, long[] data, Shape shape) {
        ByteBuffer b = staging(data.length * 8);
        b.asLongBuffer().put(data);
        return copyOut(m, b, shape, DataType.INT64);
    }

    /** A float32 array of {@code shape} holding {@code data}, in torch-owned memory. */
    public static NDArray fromFloats(NDManager m, float[] data, Shape shape) {
        ByteBuffer b = staging(data.length * 4);
        b.asFloatBuffer().put(data);
        return copyOut(m, b, shape, DataType.FLOAT32);
    }

    /** A uint8 array of {@code shape} from {@code fill(buffer)}, in torch-owned memory. */
    public static NDArray fromBytes(NDManager m, int n, Shape shape, java.util.function.Consumer<ByteBuffer> fill) {
        ByteBuffer b = staging(n);
        fill.accept(b);
        return copyOut(m, b, shape, DataType.UINT8);
    }

    /**
     * Runs {@code body} in its own {@link NDScope} and hands only its result to the enclosing scope.
     * Temporaries of the body are released when it returns instead of at the end of the step;
     * autograd keeps its own references to what backward needs, so this lowers peak memory without
     * changing results. The result must be created inside the body.
     */
    public static NDArray scoped(java.util.function.Supplier<NDArray> body) {
        NDArray out;
        try (ai.djl.ndarray.NDScope ignored = new ai.djl.ndarray.NDScope()) {
            out = body.get();
            ai.djl.ndarray.NDScope.unregister(out);
        }
        ai.djl.ndarray.NDScope.register(out);
        return out;
    }

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
        NDArray rms = add(x.square().mean(new int[] {-1}, true), eps).sqrt(); // [..., 1]
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
        NDArray inner = mul(mul(pow(x, 3), 0.044715).add(x), SQRT_2_OVER_PI);
        return mul(add(inner.tanh(), 1).mul(x), 0.5);
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

    /**
     * Returns a copy of {@code hostBacked} in memory that libtorch owns (cast to {@code dtype}) and
     * closes {@code hostBacked}. Arrays that DJL creates from Java arrays or buffers alias a direct
     * ByteBuffer that is freed when the NDArray is closed and collected; any array that an autograd
     * graph, a view or a cache may still read after its handle is closed must be torch-owned.
     */
    public static NDArray toTorchOwned(NDArray hostBacked, ai.djl.ndarray.types.DataType dtype) {
        NDArray owned = hostBacked.getDataType() == dtype ? hostBacked.duplicate() : hostBacked.toType(dtype, true);
        hostBacked.close();
        return owned;
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
