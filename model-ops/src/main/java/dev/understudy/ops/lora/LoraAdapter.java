package dev.understudy.ops.lora;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkState;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.AdaptableModel;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.DropoutRng;
import dev.understudy.ops.model.LinearModule;
import dev.understudy.ops.model.ModuleAdapter;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.util.MklCpuDispatch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * LoRA factors for the targeted linear modules of one {@link AdaptableModel} (a {@link DecoderModel}
 * or the BERT encoder): for module {@code m}
 * with frozen {@code W: [out, in]}, {@code y = W x + b + (alpha/r) B A dropout(x)} with {@code A:
 * [r, in]} initialised Kaiming-uniform (PEFT: {@code kaiming_uniform_(a=sqrt(5))}, i.e. U(±1/sqrt(in)))
 * and {@code B: [out, r]} zero, so a fresh adapter leaves the model unchanged (Hu et al. 2021, §4.1).
 *
 * <p>NDManager contract: the adapter owns a child manager of the one passed at creation; its
 * factors live there until {@link #close}. {@link #delta} outputs are attached to the input's
 * manager. Not thread-safe for training: one adapter per trainer.
 */
public final class LoraAdapter implements ModuleAdapter, AutoCloseable {
    static {
        // before this class's first GEMM: oneMKL caches its kernel choice at its first call
        MklCpuDispatch.ensureInstalled();
    }

    private static final ai.djl.ndarray.index.NDIndex ALL = new ai.djl.ndarray.index.NDIndex("...");

    private final LoraConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> a; // module -> (r, in)
    private final Map<String, NDArray> b; // module -> (out, r)
    private final Map<String, LinearModule> modules;
    private final float scale;

    private LoraAdapter(LoraConfig config, NDManager manager, Map<String, LinearModule> modules,
            Map<String, NDArray> a, Map<String, NDArray> b) {
        this.config = config;
        this.manager = manager;
        this.modules = Collections.unmodifiableMap(modules);
        this.a = a;
        this.b = b;
        this.scale = (float) config.scale();
    }

    /**
     * Creates a fresh adapter (A Kaiming-uniform, B zero) for every module of {@code model} that
     * the config targets. Deterministic: module {@code m}'s A is drawn from a stream seeded by
     * (seed, m).
     *
     * @throws IllegalArgumentException if no module of the model matches {@code target_modules}
     */
    public static LoraAdapter create(AdaptableModel model, LoraConfig config, long seed, NDManager parent) {
        Map<String, LinearModule> targeted = targets(model, config);
        NDManager m = parent.newSubManager(model.device());
        Map<String, NDArray> a = new LinkedHashMap<>();
        Map<String, NDArray> b = new LinkedHashMap<>();
        for (LinearModule mod : targeted.values()) {
            int in = mod.inFeatures();
            int r = config.rank();
            float bound = (float) (1.0 / Math.sqrt(in));
            SplittableRandom rng = new SplittableRandom(seed * 0xBF58476D1CE4E5B9L + mod.name().hashCode());
            float[] av = new float[r * in];
            for (int i = 0; i < av.length; i++) {
                av[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
            }
            a.put(mod.name(), param(m, av, new Shape(r, in), model.dtype(), mod.name() + ".lora_A"));
            b.put(mod.name(), param(m, new float[mod.outFeatures() * r], new Shape(mod.outFeatures(), r), model.dtype(),
                    mod.name() + ".lora_B"));
        }
        return new LoraAdapter(config, m, targeted, a, b);
    }

    /**
     * Builds an adapter from host tensors keyed by module name ({@code "<module>.lora_A"} /
     * {@code "<module>.lora_B"}), validating names and shapes against the model.
     */
    public static LoraAdapter fromTensors(
            AdaptableModel model, LoraConfig config, Map<String, HostTensor> tensors, String source, NDManager parent) {
        Map<String, LinearModule> targeted = targets(model, config);
        NDManager m = parent.newSubManager(model.device());
        Map<String, NDArray> a = new LinkedHashMap<>();
        Map<String, NDArray> b = new LinkedHashMap<>();
        try {
            for (LinearModule mod : targeted.values()) {
                HostTensor ta = tensors.get(mod.name() + ".lora_A");
                HostTensor tb = tensors.get(mod.name() + ".lora_B");
                checkArgument(ta != null && tb != null, "%s: adapter lacks lora_A/lora_B for targeted module %s",
                        source, mod.name());
                long[] sa = {config.rank(), mod.inFeatures()};
                long[] sb = {mod.outFeatures(), config.rank()};
                checkArgument(java.util.Arrays.equals(ta.shape(), sa) && java.util.Arrays.equals(tb.shape(), sb),
                        "%s: adapter tensors for %s have shapes %s / %s, expected %s / %s (rank %s)", source, mod.name(),
                        java.util.Arrays.toString(ta.shape()), java.util.Arrays.toString(tb.shape()),
                        java.util.Arrays.toString(sa), java.util.Arrays.toString(sb), config.rank());
                a.put(mod.name(), param(m, ta.values(), new Shape(sa), model.dtype(), mod.name() + ".lora_A"));
                b.put(mod.name(), param(m, tb.values(), new Shape(sb), model.dtype(), mod.name() + ".lora_B"));
            }
            for (String key : tensors.keySet()) {
                String module = key.substring(0, key.lastIndexOf('.'));
                checkArgument(targeted.containsKey(module), "%s: adapter tensor %s belongs to no targeted module of "
                        + "the model (target_modules=%s)", source, key, config.targetModules());
            }
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return new LoraAdapter(config, m, targeted, a, b);
    }

    private static Map<String, LinearModule> targets(AdaptableModel model, LoraConfig config) {
        Map<String, LinearModule> targeted = new LinkedHashMap<>();
        for (LinearModule mod : model.linearModules()) {
            if (config.matches(mod.name())) {
                targeted.put(mod.name(), mod);
            }
        }
        checkArgument(!targeted.isEmpty(), "lora.target_modules=%s matches no module of this %s model; available: %s",
                config.targetModules(), model.modelType(), shortNames(model));
        return targeted;
    }

    private static List<String> shortNames(AdaptableModel model) {
        return model.linearModules().stream().map(LinearModule::shortName).distinct().toList();
    }

    private static NDArray param(NDManager m, float[] v, Shape shape, DataType dtype, String name) {
        NDArray x = m.create(v, shape);
        if (dtype != DataType.FLOAT32) {
            NDArray c = x.toType(dtype, false);
            x.close();
            x = c;
        }
        x.setName(name);
        return x;
    }

    public LoraConfig config() {
        return config;
    }

    /** The adapted modules, in model order. */
    public Map<String, LinearModule> modules() {
        return modules;
    }

    /** A factor of module {@code module}: {@code (r, in)}. */
    public NDArray loraA(String module) {
        return a.get(module);
    }

    /** B factor of module {@code module}: {@code (out, r)}. */
    public NDArray loraB(String module) {
        return b.get(module);
    }

    /** All factors in a fixed order (A then B per module, model order): the trainable parameters. */
    public List<NDArray> parameters() {
        List<NDArray> out = new ArrayList<>(2 * a.size());
        for (String m : a.keySet()) {
            out.add(a.get(m));
            out.add(b.get(m));
        }
        return out;
    }

    /** Number of trainable scalars. */
    public long parameterCount() {
        long n = 0;
        for (NDArray x : parameters()) {
            n += x.size();
        }
        return n;
    }

    /** Marks the factors as requiring gradients (or not). */
    public void setTrainable(boolean trainable) {
        for (NDArray x : parameters()) {
            x.setRequiresGradient(trainable);
        }
    }

    @Override
    public NDArray delta(String module, NDArray x, DropoutRng dropout) {
        NDArray fa = a.get(module);
        if (fa == null) {
            return null;
        }
        NDArray in = dropout == null ? x : dropout.apply(x, config.dropout());
        NDArray low = Ops.linear(in, fa, null); // (..., r)
        return Ops.mul(Ops.linear(low, b.get(module), null), scale); // (..., out)
    }

    /**
     * Adds {@code scale * B A} into the model's frozen weights in place (PEFT {@code merge_adapter}).
     * The model must not be used concurrently while merging. GPT-2 Conv1D weights are kept
     * internally as {@code [out, in]}, so the same update applies.
     */
    public void mergeInto(AdaptableModel model) {
        applyDelta(model, +1);
    }

    /** Subtracts what {@link #mergeInto} added (PEFT {@code unmerge_adapter}). */
    public void unmergeFrom(AdaptableModel model) {
        applyDelta(model, -1);
    }

    private void applyDelta(AdaptableModel model, int sign) {
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try {
            for (String module : a.keySet()) {
                NDArray w = model.parameters().get(module + ".weight");
                checkState(w != null, "model has no weight for adapted module %s", module);
                try (NDArray delta = b.get(module).matMul(a.get(module))) { // (out, in)
                    delta.muli(sign * scale);
                    w.addi(delta);
                }
            }
        } finally {
            Ops.setGradMode(grad);
        }
    }

    /** Host copies of the factors keyed {@code "<module>.lora_A"} / {@code "<module>.lora_B"}, in model order. */
    public Map<String, HostTensor> exportTensors() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (String m : a.keySet()) {
            out.put(m + ".lora_A", host(a.get(m)));
            out.put(m + ".lora_B", host(b.get(m)));
        }
        return out;
    }

    private static HostTensor host(NDArray x) {
        NDArray f = x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
        float[] v = f.toFloatArray();
        if (f != x) {
            f.close();
        }
        return new HostTensor(x.getShape().getShape(), v);
    }

    /** Overwrites every factor with the given host values (same keys and shapes as {@link #exportTensors}). */
    public void load(Map<String, HostTensor> tensors) {
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try {
            for (String m : a.keySet()) {
                set(a.get(m), tensors.get(m + ".lora_A"), m + ".lora_A");
                set(b.get(m), tensors.get(m + ".lora_B"), m + ".lora_B");
            }
        } finally {
            Ops.setGradMode(grad);
        }
    }

    private static void set(NDArray target, HostTensor t, String name) {
        checkArgument(t != null, "missing adapter tensor %s", name);
        checkArgument(java.util.Arrays.equals(t.shape(), target.getShape().getShape()),
                "adapter tensor %s has shape %s, expected %s", name, java.util.Arrays.toString(t.shape()), target.getShape());
        try (NDArray src = target.getManager().create(t.values(), target.getShape())) {
            NDArray typed = src.getDataType() == target.getDataType() ? src : src.toType(target.getDataType(), false);
            target.set(ALL, typed);
            if (typed != src) {
                typed.close();
            }
        }
    }

    /** A deep copy with its own manager under {@code parent}. */
    public LoraAdapter copy(NDManager parent) {
        NDManager m = parent.newSubManager(manager.getDevice());
        Map<String, NDArray> a2 = new LinkedHashMap<>();
        Map<String, NDArray> b2 = new LinkedHashMap<>();
        for (String k : a.keySet()) {
            a2.put(k, dup(a.get(k), m));
            b2.put(k, dup(b.get(k), m));
        }
        return new LoraAdapter(config, m, new LinkedHashMap<>(modules), a2, b2);
    }

    private static NDArray dup(NDArray x, NDManager m) {
        NDArray c = x.duplicate();
        NDArray d = c.stopGradient();
        c.close();
        d.attach(m);
        d.setName(x.getName());
        return d;
    }

    @Override
    public void close() {
        manager.close();
    }
}
