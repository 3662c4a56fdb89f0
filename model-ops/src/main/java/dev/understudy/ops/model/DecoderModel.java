package dev.understudy.ops.model;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.ModelConfig.Family;
import dev.understudy.ops.util.MklCpuDispatch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A decoder-only causal language model (LLaMA family or GPT-2) evaluated with raw libtorch
 * kernels through DJL.
 *
 * <p>Weights are kept under their Hugging Face names. GPT-2's Conv1D weights ({@code [in, out]}
 * on disk) are stored transposed ({@code [out, in]}) so that every projection is one {@code
 * torch.nn.functional.linear} call; {@link #exportTensors} transposes them back.
 *
 * <p>Thread safety: the model is immutable after construction and {@link #forward} may be called
 * from several threads at once (Spark runs several tasks per executor); all per-call state lives in
 * the arguments. Parameters do not require gradients unless {@link #setTrainable} is called.
 *
 * <p>NDManager contract: the model owns one manager (a child of the manager passed at creation)
 * holding its weights and RoPE tables; {@link #close} releases them. Arrays returned by {@link
 * #forward} are attached to the manager of {@code inputIds}.
 */
public final class DecoderModel implements AdaptableModel, AutoCloseable {
    static {
        // before this class's first GEMM: oneMKL caches its kernel choice at its first call
        MklCpuDispatch.ensureInstalled();
    }

    private final ModelConfig config;
    private final NDManager manager;
    private final DataType dtype;
    private final Map<String, NDArray> params; // HF name -> tensor (Conv1D stored as [out, in])
    private final List<LinearModule> linears;
    private final NDArray ropeCos; // (max_positions, head_dim), LLaMA only
    private final NDArray ropeSin; // (max_positions, head_dim), LLaMA only

    private DecoderModel(ModelConfig config, NDManager manager, DataType dtype, Map<String, NDArray> params) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        this.params = Collections.unmodifiableMap(params);
        this.linears = List.copyOf(linearModules(config));
        if (config.family() == Family.LLAMA) {
            NDArray[] tables = ropeTables(manager, config, dtype);
            this.ropeCos = tables[0];
            this.ropeSin = tables[1];
        } else {
            this.ropeCos = null;
            this.ropeSin = null;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Construction

    /**
     * Creates a randomly initialised model, deterministically from {@code seed}: linear weights and
     * embeddings ~ N(0, 0.02) (GPT-2 residual projections scaled by 1/sqrt(2 L), as in the GPT-2
     * paper), norm gains 1, biases 0. Each tensor's stream is seeded from (seed, name), so the
     * result does not depend on creation order.
     */
    public static DecoderModel randomInit(ModelConfig config, long seed, NDManager parent, DataType dtype) {
        return randomInit(config, seed, parent, dtype, 0.02);
    }

    /**
     * As {@link #randomInit(ModelConfig, long, NDManager, DataType)} with weights ~ N(0, {@code
     * initStd}) (Hugging Face's {@code initializer_range}; 0.02 by default).
     */
    public static DecoderModel randomInit(
            ModelConfig config, long seed, NDManager parent, DataType dtype, double initStd) {
        checkArgument(initStd > 0, "Cannot set initializer_range to %s, the value must be positive", initStd);
        checkArgument(dtype == DataType.FLOAT32 || dtype == DataType.FLOAT64,
                "Cannot compute in %s: use FLOAT32 (or FLOAT64 for tests)", dtype);
        NDManager m = parent.newSubManager();
        Map<String, NDArray> params = new LinkedHashMap<>();
        double residStd = initStd / Math.sqrt(2.0 * config.numLayers());
        for (Map.Entry<String, long[]> e : parameterShapes(config).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            int n = Math.toIntExact(numel(shape));
            float[] data = new float[n];
            if (name.endsWith(".bias")) {
                // zeros
            } else if (isNormGain(name)) {
                java.util.Arrays.fill(data, 1f);
            } else {
                double std = config.family() == Family.GPT2 && name.endsWith("c_proj.weight") ? residStd : initStd;
                SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
                for (int i = 0; i < n; i++) {
                    data[i] = (float) (r.nextGaussian() * std);
                }
            }
            params.put(name, toInternal(m, name, shape, data, dtype, isConv1dWeight(config, name)));
        }
        return new DecoderModel(config, m, dtype, params);
    }

    /**
     * Builds a model from tensors in the on-disk (Hugging Face) layout. Every expected tensor must
     * be present with the expected shape; buffers that HF checkpoints may carry ({@code
     * rotary_emb.inv_freq}, GPT-2's {@code attn.bias}/{@code attn.masked_bias}) and a tied {@code
     * lm_head.weight} are ignored, and anything else unexpected is an error.
     *
     * @param tensors name → (shape, float values), consumed in any order
     * @param source where the tensors came from, for error messages
     */
    public static DecoderModel fromTensors(
            ModelConfig config, Map<String, HostTensor> tensors, String source, NDManager parent, DataType dtype) {
        checkArgument(dtype == DataType.FLOAT32 || dtype == DataType.FLOAT64,
                "Cannot compute in %s: use FLOAT32 (or FLOAT64 for tests)", dtype);
        Map<String, HostTensor> byName = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            byName.put(canonicalName(config, e.getKey()), e.getValue());
        }
        Map<String, long[]> expected = parameterShapes(config);
        List<String> missing = new ArrayList<>();
        for (String name : expected.keySet()) {
            if (!byName.containsKey(name)) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(source + ": checkpoint lacks " + missing.size() + " tensor(s) the "
                    + config.modelType() + " config requires, e.g. " + missing.subList(0, Math.min(5, missing.size()))
                    + (missing.contains("lm_head.weight") ? " (set tie_word_embeddings=true if the head is tied)" : ""));
        }
        TreeSet<String> unexpected = new TreeSet<>();
        for (String name : byName.keySet()) {
            if (!expected.containsKey(name) && !isIgnorableBuffer(config, name)) {
                unexpected.add(name);
            }
        }
        if (!unexpected.isEmpty()) {
            throw new IllegalArgumentException(source + ": checkpoint has " + unexpected.size()
                    + " tensor(s) the config does not describe, e.g. " + new ArrayList<>(unexpected).subList(0,
                    Math.min(5, unexpected.size())) + "; check num_hidden_layers, biases and tie_word_embeddings");
        }
        NDManager m = parent.newSubManager();
        Map<String, NDArray> params = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, long[]> e : expected.entrySet()) {
                HostTensor t = byName.get(e.getKey());
                if (!java.util.Arrays.equals(t.shape(), e.getValue())) {
                    throw new IllegalArgumentException(source + ": tensor " + e.getKey() + " has shape "
                            + java.util.Arrays.toString(t.shape()) + " but the config implies "
                            + java.util.Arrays.toString(e.getValue()));
                }
                params.put(e.getKey(), toInternal(m, e.getKey(), t.shape(), t.values(), dtype,
                        isConv1dWeight(config, e.getKey())));
            }
        } catch (RuntimeException ex) {
            m.close();
            throw ex;
        }
        return new DecoderModel(config, m, dtype, params);
    }

    /** A tensor in host memory: shape plus row-major float values. */
    public record HostTensor(long[] shape, float[] values) {
        public HostTensor {
            checkArgument(numel(shape) == values.length, "HostTensor shape %s does not match %s values",
                    java.util.Arrays.toString(shape), values.length);
        }
    }

    /**
     * Returns the weights in the on-disk Hugging Face layout (Conv1D weights transposed back to
     * {@code [in, out]}), in checkpoint order, as host float arrays. The tied LM head is not included,
     * as in HF's {@code save_pretrained}.
     */
    public Map<String, HostTensor> exportTensors() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            out.put(e.getKey(), toHost(e.getValue(), isConv1dWeight(config, e.getKey())));
        }
        return out;
    }

    static HostTensor toHost(NDArray internal, boolean conv1d) {
        NDArray a = conv1d ? internal.transpose() : internal;
        try {
            NDArray f = a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
            float[] v = f.toDevice(Device.cpu(), false).toFloatArray();
            if (f != a) {
                f.close();
            }
            return new HostTensor(a.getShape().getShape(), v);
        } finally {
            if (a != internal) {
                a.close();
            }
        }
    }

    private static NDArray toInternal(
            NDManager m, String name, long[] shape, float[] data, DataType dtype, boolean conv1d) {
        NDArray a = m.create(data, new Shape(shape));
        if (dtype != DataType.FLOAT32) {
            NDArray c = a.toType(dtype, false);
            a.close();
            a = c;
        }
        if (conv1d) {
            // [in, out] -> [out, in], made contiguous so linear() sees a plain row-major weight.
            NDArray t = a.transpose().duplicate();
            a.close();
            a = t;
        }
        a.setName(name);
        return a;
    }

    // ---------------------------------------------------------------------------------------------
    // Parameter layout of the supported architectures

    /** Expected checkpoint tensors, in Hugging Face state-dict order, with their on-disk shapes. */
    public static Map<String, long[]> parameterShapes(ModelConfig c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        long d = c.hiddenSize();
        long v = c.vocabSize();
        boolean llama = c.family() == Family.LLAMA;
        if (llama) {
            s.put("model.embed_tokens.weight", new long[] {v, d});
        } else {
            s.put("transformer.wte.weight", new long[] {v, d});
            s.put("transformer.wpe.weight", new long[] {c.maxPositions(), d});
        }
        List<LinearModule> modules = linearModules(c);
        int perLayer = modules.size() / c.numLayers();
        for (int i = 0; i < c.numLayers(); i++) {
            String p = llama ? "model.layers." + i + "." : "transformer.h." + i + ".";
            if (!llama) {
                norm(s, p + "ln_1", d, true);
            }
            for (LinearModule m : modules.subList(i * perLayer, (i + 1) * perLayer)) {
                if (!llama && m.name().equals(p + "mlp.c_fc")) {
                    norm(s, p + "ln_2", d, true); // GPT-2 registers ln_2 between attn and mlp
                }
                linear(s, m, hasBias(c, m));
            }
            if (llama) {
                norm(s, p + "input_layernorm", d, false);
                norm(s, p + "post_attention_layernorm", d, false);
            }
        }
        norm(s, llama ? "model.norm" : "transformer.ln_f", d, !llama);
        if (!c.tieWordEmbeddings()) {
            s.put("lm_head.weight", new long[] {v, d});
        }
        return s;
    }

    private static void norm(Map<String, long[]> s, String name, long d, boolean bias) {
        s.put(name + ".weight", new long[] {d});
        if (bias) {
            s.put(name + ".bias", new long[] {d});
        }
    }

    /** A projection's weight ({@code [out, in]}, or Conv1D's {@code [in, out]}) and optional bias. */
    private static void linear(Map<String, long[]> s, LinearModule m, boolean bias) {
        long in = m.inFeatures();
        long out = m.outFeatures();
        s.put(m.name() + ".weight", m.conv1d() ? new long[] {in, out} : new long[] {out, in});
        if (bias) {
            s.put(m.name() + ".bias", new long[] {out});
        }
    }

    private static boolean hasBias(ModelConfig c, LinearModule m) {
        if (c.family() == Family.GPT2) {
            return true;
        }
        return switch (m.shortName()) {
            case "q_proj", "k_proj", "v_proj" -> c.qkvBias();
            case "o_proj" -> c.outputBias();
            default -> c.mlpBias();
        };
    }

    /** The projections adapters may target, in layer order. */
    public static List<LinearModule> linearModules(ModelConfig c) {
        List<LinearModule> out = new ArrayList<>();
        int d = c.hiddenSize();
        for (int i = 0; i < c.numLayers(); i++) {
            int inter = c.intermediateSize(i);
            if (c.family() == Family.LLAMA) {
                int q = c.numHeads() * c.headDim();
                int kv = c.numKvHeads() * c.headDim();
                String p = "model.layers." + i + ".";
                out.add(new LinearModule(p + "self_attn.q_proj", d, q, false));
                out.add(new LinearModule(p + "self_attn.k_proj", d, kv, false));
                out.add(new LinearModule(p + "self_attn.v_proj", d, kv, false));
                out.add(new LinearModule(p + "self_attn.o_proj", q, d, false));
                out.add(new LinearModule(p + "mlp.gate_proj", d, inter, false));
                out.add(new LinearModule(p + "mlp.up_proj", d, inter, false));
                out.add(new LinearModule(p + "mlp.down_proj", inter, d, false));
            } else {
                String p = "transformer.h." + i + ".";
                out.add(new LinearModule(p + "attn.c_attn", d, 3 * d, true));
                out.add(new LinearModule(p + "attn.c_proj", d, d, true));
                out.add(new LinearModule(p + "mlp.c_fc", d, inter, true));
                out.add(new LinearModule(p + "mlp.c_proj", inter, d, true));
            }
        }
        return out;
    }

    static boolean isConv1dWeight(ModelConfig c, String name) {
        return c.family() == Family.GPT2
                && name.startsWith("transformer.h.")
                && (name.endsWith("c_attn.weight") || name.endsWith("c_proj.weight") || name.endsWith("c_fc.weight"));
    }

    private static boolean isNormGain(String name) {
        return name.endsWith("norm.weight") || name.endsWith("layernorm.weight") || name.contains(".ln_")
                || name.startsWith("transformer.ln_f");
    }

    /** Older GPT-2 checkpoints omit the {@code transformer.} prefix; normalise to the modern names. */
    private static String canonicalName(ModelConfig c, String name) {
        if (c.family() == Family.GPT2 && !name.startsWith("transformer.") && !name.startsWith("lm_head.")) {
            return "transformer." + name;
        }
        return name;
    }

    private static boolean isIgnorableBuffer(ModelConfig c, String name) {
        if (name.endsWith("rotary_emb.inv_freq")) {
            return true;
        }
        if (c.family() == Family.GPT2 && (name.endsWith("attn.bias") || name.endsWith("attn.masked_bias"))) {
            return true;
        }
        return name.equals("lm_head.weight") && c.tieWordEmbeddings();
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    /**
     * RoPE tables as in Hugging Face LLaMA: {@code inv_freq_i = theta^(-2i/hd)}, {@code freqs = pos ⊗
     * inv_freq}, {@code emb = cat(freqs, freqs)}; returns cos(emb) and sin(emb), each {@code
     * [max_positions, head_dim]}. Computed in double precision, then cast.
     */
    static NDArray[] ropeTables(NDManager m, ModelConfig c, DataType dtype) {
        int hd = c.headDim();
        int half = hd / 2;
        int p = c.maxPositions();
        float[] cos = new float[p * hd];
        float[] sin = new float[p * hd];
        for (int pos = 0; pos < p; pos++) {
            for (int i = 0; i < half; i++) {
                double invFreq = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / hd);
                double angle = pos * invFreq;
                float cv = (float) Math.cos(angle);
                float sv = (float) Math.sin(angle);
                cos[pos * hd + i] = cv;
                cos[pos * hd + i + half] = cv;
                sin[pos * hd + i] = sv;
                sin[pos * hd + i + half] = sv;
            }
        }
        NDArray c1 = m.create(cos, new Shape(p, hd));
        NDArray s1 = m.create(sin, new Shape(p, hd));
        if (dtype != DataType.FLOAT32) {
            NDArray c2 = c1.toType(dtype, false);
            NDArray s2 = s1.toType(dtype, false);
            c1.close();
            s1.close();
            return new NDArray[] {c2, s2};
        }
        return new NDArray[] {c1, s1};
    }

    // ---------------------------------------------------------------------------------------------
    // Accessors

    public ModelConfig config() {
        return config;
    }

    @Override
    public DataType dtype() {
        return dtype;
    }

    @Override
    public String modelType() {
        return config.modelType();
    }

    public Device device() {
        return manager.getDevice();
    }

    /** The manager owning the weights; create per-call managers with {@code manager().newSubManager()}. */
    public NDManager manager() {
        return manager;
    }

    /** All weights by Hugging Face name (Conv1D weights in the internal {@code [out, in]} layout). */
    public Map<String, NDArray> parameters() {
        return params;
    }

    public List<LinearModule> linearModules() {
        return linears;
    }

    /**
     * Whether weight {@code name} is held transposed relative to the checkpoint (GPT-2 Conv1D
     * weights: {@code [in, out]} on disk, {@code [out, in]} in {@link #parameters}).
     */
    public boolean storedTransposed(String name) {
        return isConv1dWeight(config, name);
    }

    /** Number of scalar parameters (the tied head counted once). */
    public long parameterCount() {
        long n = 0;
        for (NDArray a : params.values()) {
            n += a.size();
        }
        return n;
    }

    /** Marks every weight as requiring (or not) gradients, for full fine-tuning. */
    public void setTrainable(boolean trainable) {
        for (NDArray a : params.values()) {
            a.setRequiresGradient(trainable);
        }
    }

    /** A deep copy on the same device (for full fine-tuning without touching the shared base). */
    public DecoderModel copy(NDManager parent) {
        NDManager m = parent.newSubManager();
        Map<String, NDArray> copies = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray c = e.getValue().duplicate();
            c.attach(m);
            c.setName(e.getKey());
            copies.put(e.getKey(), c);
        }
        return new DecoderModel(config, m, dtype, copies);
    }

    // ---------------------------------------------------------------------------------------------
    // Forward

    /** Full-sequence logits without padding, adapter or dropout: {@code [B, T] -> [B, T, V]}. */
    public NDArray forward(NDArray inputIds) {
        return forward(inputIds, null, null, null, null, null);
    }

    /**
     * Computes next-token logits.
     *
     * @param inputIds int64 {@code [B, T]} token ids of the new positions
     * @param attentionMask {@code [B, T_past + T]} with 1 for real tokens and 0 for padding (any
     *     numeric type), or null for no padding. Left and right padding are both supported.
     * @param positionIds int64 {@code [B, T]}, or null to derive them: {@code cumsum(mask) - 1}
     *     (clamped at 0) when a mask is given, else {@code T_past .. T_past + T - 1}
     * @param cache key/value cache to read and extend, or null
     * @param adapter trainable adapter (LoRA), or null
     * @param dropout training dropout masks, or null for evaluation (no dropout)
     * @return logits {@code [B, T, V]} in the model dtype
     */
    public NDArray forward(
            NDArray inputIds,
            NDArray attentionMask,
            NDArray positionIds,
            KvCache cache,
            ModuleAdapter adapter,
            DropoutRng dropout) {
        return Ops.scoped(() -> logits(
                hiddenStates(inputIds, attentionMask, positionIds, cache, adapter, dropout, null))); // [B, T, V]
    }

    /** The token embedding matrix {@code [V, d]}. */
    public NDArray embeddingMatrix() {
        return config.family() == Family.LLAMA ? params.get("model.embed_tokens.weight") : params.get("transformer.wte.weight");
    }

    /** Final-norm hidden states {@code [B, T, d]} (see {@link #forward} for the arguments). */
    public NDArray hiddenStates(
            NDArray inputIds,
            NDArray attentionMask,
            NDArray positionIds,
            KvCache cache,
            ModuleAdapter adapter,
            DropoutRng dropout) {
        return hiddenStates(inputIds, attentionMask, positionIds, cache, adapter, dropout, null);
    }

    /**
     * The hidden states in transformers' {@code output_hidden_states} convention (checked against
     * transformers 5.18 for LLaMA, Qwen2, Mistral and GPT-2): {@code L + 1} arrays {@code [B, T, d]};
     * index 0 is the embedding output (GPT-2: token + position embeddings), index {@code i} for
     * {@code 1 <= i < L} the output of block {@code i - 1} (0-based), and index {@code L} the output of
     * the final norm (so the last block's un-normed output is not among them). No cache or dropout.
     */
    public List<NDArray> hiddenStatesPerLayer(
            NDArray inputIds, NDArray attentionMask, NDArray positionIds, ModuleAdapter adapter) {
        int layers = config.numLayers();
        List<NDArray> states = new ArrayList<>(Collections.nCopies(layers + 1, (NDArray) null));
        NDArray last = hiddenStates(inputIds, attentionMask, positionIds, null, adapter, null, new ForwardTap() {
            @Override
            public void embeddings(NDArray x) {
                states.set(0, x);
            }

            @Override
            public void blockOutput(int layer, NDArray x) {
                if (layer + 1 < layers) {
                    states.set(layer + 1, x);
                }
            }
        });
        states.set(layers, last);
        return states;
    }

    /**
     * Final-norm hidden states {@code [B, T, d]}, reporting the embeddings, every block's output and
     * FFN activations, and the final-norm states to {@code tap} (null for none; see {@link
     * ForwardTap}).
     */
    public NDArray hiddenStates(
            NDArray inputIds,
            NDArray attentionMask,
            NDArray positionIds,
            KvCache cache,
            ModuleAdapter adapter,
            DropoutRng dropout,
            ForwardTap tap) {
        Shape inShape = inputIds.getShape();
        checkArgument(inShape.dimension() == 2, "inputIds must be [batch, seq], got %s", inShape);
        long b = inShape.get(0);
        long t = inShape.get(1);
        int past = cache == null ? 0 : cache.length();
        Context ctx = context(inputIds.getManager(), b, t, past, attentionMask, positionIds);
        NDArray ids = inputIds.getDataType() == DataType.INT64 ? inputIds : inputIds.toType(DataType.INT64, false);

        // embeddings (B, T, d)
        NDArray x;
        if (config.family() == Family.LLAMA) {
            x = Ops.embedding(ids, params.get("model.embed_tokens.weight"));
        } else {
            x = Ops.embedding(ids, params.get("transformer.wte.weight"))
                    .add(Ops.embedding(ctx.pos, params.get("transformer.wpe.weight")));
        }
        if (dropout != null) {
            x = dropout.apply(x, config.embdDropout());
        }
        if (tap != null) {
            tap.embeddings(x);
        }
        x = blocks(0, config.numLayers(), x, ctx, cache, adapter, dropout, tap);
        if (cache != null) {
            cache.advance((int) t);
        }
        NDArray out = finalNorm(x);
        if (tap != null) {
            tap.finalHidden(out);
        }
        return out;
    }

    /**
     * Full-sequence logits {@code [B, T, V]}, reporting intermediate tensors to {@code tap} (may be
     * null). With a tap the forward's intermediates are not released early: the tensors the tap
     * received stay valid until the caller's {@link ai.djl.ndarray.NDScope} ends.
     */
    public NDArray forward(NDArray inputIds, NDArray attentionMask, ModuleAdapter adapter, DropoutRng dropout,
            ForwardTap tap) {
        if (tap != null) {
            return logits(hiddenStates(inputIds, attentionMask, null, null, adapter, dropout, tap));
        }
        return Ops.scoped(() -> logits(hiddenStates(inputIds, attentionMask, null, null, adapter, dropout, null)));
    }

    /** LM-head logits {@code [..., V]} of final-norm hidden states {@code [..., d]}. */
    public NDArray logits(NDArray finalHidden) {
        NDArray head = config.tieWordEmbeddings() ? embeddingMatrix() : params.get("lm_head.weight");
        return Ops.linear(finalHidden, head, null);
    }

    /** The final norm (RMSNorm or LayerNorm) applied to a residual stream {@code [B, T, d]}. */
    public NDArray finalNorm(NDArray x) {
        return config.family() == Family.LLAMA
                ? Ops.rmsNorm(x, params.get("model.norm.weight"), config.normEps())
                : Ops.layerNorm(x, params.get("transformer.ln_f.weight"), params.get("transformer.ln_f.bias"),
                        config.normEps());
    }

    /**
     * Per-layer hidden states in the Hugging Face {@code output_hidden_states} convention: {@code
     * num_layers + 1} tensors {@code [B, T, d]}, index 0 the embeddings, index {@code i} the output
     * of block {@code i} (1-based), and the last entry the output of the last block <em>after</em>
     * the final norm (as transformers returns it). No KV cache; the mask as in {@link #forward}.
     */
    public List<NDArray> outputHiddenStates(NDArray inputIds, NDArray attentionMask, ModuleAdapter adapter) {
        List<NDArray> out = new ArrayList<>();
        ForwardTap collect = new ForwardTap() {
            @Override
            public void embeddings(NDArray x) {
                out.add(x);
            }

            @Override
            public void blockOutput(int layer, NDArray x) {
                if (layer < config.numLayers() - 1) {
                    out.add(x);
                }
            }

            @Override
            public void finalHidden(NDArray x) {
                out.add(x);
            }
        };
        hiddenStates(inputIds, attentionMask, null, null, adapter, null, collect);
        return out;
    }

    /**
     * Runs blocks {@code [from, to)} on a given residual-stream input {@code hidden} ({@code [B, T,
     * d]}, e.g. the output of block {@code from - 1} of this or another model) and returns the
     * output of block {@code to - 1}, without the final norm: Offsite-Tuning's {@code M(h)} and
     * {@code E(h)}. No KV cache; positions {@code 0..T-1} (or from the mask, as in {@link #forward}).
     */
    public NDArray runBlocks(int from, int to, NDArray hidden, NDArray attentionMask, ModuleAdapter adapter,
            DropoutRng dropout, ForwardTap tap) {
        checkArgument(0 <= from && from <= to && to <= config.numLayers(), "block range [%s, %s) outside [0, %s)",
                from, to, config.numLayers());
        Shape hs = hidden.getShape();
        checkArgument(hs.dimension() == 3 && hs.get(2) == config.hiddenSize(),
                "hidden input must be [batch, seq, %s], got %s", config.hiddenSize(), hs);
        Context ctx = context(hidden.getManager(), hs.get(0), hs.get(1), 0, attentionMask, null);
        return blocks(from, to, hidden, ctx, null, adapter, dropout, tap);
    }

    /** Per-call tensors shared by every block: positions, additive mask and RoPE tables. */
    private record Context(NDArray pos, NDArray mask, NDArray cos, NDArray sin) {}

    private Context context(NDManager m, long b, long t, int past, NDArray attentionMask, NDArray positionIds) {
        long total = past + t;
        checkArgument(total <= config.maxPositions(),
                "Sequence of %s positions exceeds max_position_embeddings=%s", total, config.maxPositions());
        checkArgument(config.slidingWindow() == 0 || total <= config.slidingWindow(),
                "Sequence of %s positions exceeds sliding_window=%s; windowed attention is not implemented",
                total, config.slidingWindow());
        if (attentionMask != null) {
            checkArgument(attentionMask.getShape().equals(new Shape(b, total)),
                    "attentionMask must be [batch, past+seq] = [%s, %s], got %s", b, total, attentionMask.getShape());
        }
        // 1. position ids (B, T)
        NDArray pos = positionIds;
        if (pos == null) {
            if (attentionMask != null) {
                NDArray cum = Ops.maximum(Ops.add(attentionMask.toType(DataType.INT64, false).cumSum(1), -1), 0); // (B, total)
                pos = cum.get(":, " + past + ":");
            } else {
                pos = m.arange(past, (int) total, 1, DataType.INT64).reshape(1, t).repeat(0, b);
            }
        }
        // 2. additive attention mask (B, 1, T, total): causal by cache slot, plus key padding
        NDArray mask = attentionMask(m, b, t, past, attentionMask);
        NDArray cos = null;
        NDArray sin = null;
        if (config.family() == Family.LLAMA) {
            cos = Ops.embedding(pos, ropeCos).expandDims(1); // (B, 1, T, hd)
            sin = Ops.embedding(pos, ropeSin).expandDims(1); // (B, 1, T, hd)
        }
        return new Context(pos, mask, cos, sin);
    }

    private NDArray blocks(int from, int to, NDArray x, Context ctx, KvCache cache, ModuleAdapter adapter,
            DropoutRng dropout, ForwardTap tap) {
        for (int layer = from; layer < to; layer++) {
            final int l = layer;
            final NDArray in = x;
            // each block's temporaries are freed when the block ends (autograd keeps what it needs)
            x = Ops.scoped(() -> config.family() == Family.LLAMA
                    ? llamaBlock(l, in, ctx.mask, ctx.cos, ctx.sin, cache, adapter, dropout, tap)
                    : gpt2Block(l, in, ctx.mask, cache, adapter, dropout, tap));
            if (tap != null) {
                tap.blockOutput(layer, x);
            }
        }
        return x;
    }

    private NDArray attentionMask(NDManager m, long b, long t, int past, NDArray padMask) {
        long total = past + t;
        NDArray q = m.arange(past, (int) total, 1, DataType.INT64).reshape(t, 1); // (T, 1) absolute slot
        NDArray k = m.arange(0, (int) total, 1, DataType.INT64).reshape(1, total); // (1, total)
        NDArray allowed = k.lte(q).reshape(1, 1, t, total); // (1, 1, T, total)
        if (padMask != null) {
            NDArray keyOk = Ops.neq(padMask.toType(DataType.INT64, false), 0).reshape(b, 1, 1, total);
            allowed = allowed.logicalAnd(keyOk); // (B, 1, T, total)
        }
        // A large finite negative (not -inf) keeps fully padded query rows finite.
        return Ops.mul(Ops.add(allowed.toType(dtype, false), -1), 1e9); // 0 where allowed, -1e9 elsewhere
    }

    private NDArray proj(String module, NDArray x, ModuleAdapter adapter, DropoutRng dropout) {
        NDArray y = Ops.linear(x, params.get(module + ".weight"), params.get(module + ".bias"));
        if (adapter != null) {
            NDArray delta = adapter.delta(module, x, dropout);
            if (delta != null) {
                y = y.add(delta);
            }
        }
        return y;
    }

    private NDArray llamaBlock(
            int layer, NDArray x, NDArray mask, NDArray cos, NDArray sin, KvCache cache, ModuleAdapter adapter,
            DropoutRng dropout, ForwardTap tap) {
        String p = "model.layers." + layer + ".";
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        int h = config.numHeads();
        int kvh = config.numKvHeads();
        int hd = config.headDim();

        NDArray n1 = Ops.rmsNorm(x, params.get(p + "input_layernorm.weight"), config.normEps());
        NDArray q = proj(p + "self_attn.q_proj", n1, adapter, dropout).reshape(b, t, h, hd).transpose(0, 2, 1, 3); // (B, H, T, hd)
        NDArray k = proj(p + "self_attn.k_proj", n1, adapter, dropout).reshape(b, t, kvh, hd).transpose(0, 2, 1, 3); // (B, KV, T, hd)
        NDArray v = proj(p + "self_attn.v_proj", n1, adapter, dropout).reshape(b, t, kvh, hd).transpose(0, 2, 1, 3); // (B, KV, T, hd)
        q = rope(q, cos, sin);
        k = rope(k, cos, sin);
        NDArray attn = attention(layer, q, k, v, mask, cache, dropout); // (B, T, H*hd)
        NDArray o = proj(p + "self_attn.o_proj", attn, adapter, dropout);
        if (dropout != null) {
            o = dropout.apply(o, config.residDropout());
        }
        x = x.add(o);

        NDArray n2 = Ops.rmsNorm(x, params.get(p + "post_attention_layernorm.weight"), config.normEps());
        NDArray gate = proj(p + "mlp.gate_proj", n2, adapter, dropout);
        NDArray up = proj(p + "mlp.up_proj", n2, adapter, dropout);
        NDArray act = Ops.silu(gate).mul(up); // (B, T, N_layer), the gated product
        if (tap != null && tap.wantsFfnActivation(layer)) {
            tap.ffnActivation(layer, act);
        }
        NDArray mlp = proj(p + "mlp.down_proj", act, adapter, dropout);
        if (dropout != null) {
            mlp = dropout.apply(mlp, config.residDropout());
        }
        return x.add(mlp);
    }

    private NDArray gpt2Block(
            int layer, NDArray x, NDArray mask, KvCache cache, ModuleAdapter adapter, DropoutRng dropout,
            ForwardTap tap) {
        String p = "transformer.h." + layer + ".";
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        int h = config.numHeads();
        int hd = config.headDim();
        long d = config.hiddenSize();

        NDArray n1 = Ops.layerNorm(x, params.get(p + "ln_1.weight"), params.get(p + "ln_1.bias"), config.normEps());
        NDArray qkv = proj(p + "attn.c_attn", n1, adapter, dropout); // (B, T, 3d)
        NDList parts = qkv.split(new long[] {d, 2 * d}, 2);
        NDArray q = parts.get(0).reshape(b, t, h, hd).transpose(0, 2, 1, 3); // (B, H, T, hd)
        NDArray k = parts.get(1).reshape(b, t, h, hd).transpose(0, 2, 1, 3);
        NDArray v = parts.get(2).reshape(b, t, h, hd).transpose(0, 2, 1, 3);
        NDArray attn = attention(layer, q, k, v, mask, cache, dropout); // (B, T, d)
        NDArray o = proj(p + "attn.c_proj", attn, adapter, dropout);
        if (dropout != null) {
            o = dropout.apply(o, config.residDropout());
        }
        x = x.add(o);

        NDArray n2 = Ops.layerNorm(x, params.get(p + "ln_2.weight"), params.get(p + "ln_2.bias"), config.normEps());
        NDArray fc = Ops.activate(proj(p + "mlp.c_fc", n2, adapter, dropout), config.activation()); // (B, T, N_layer)
        if (tap != null && tap.wantsFfnActivation(layer)) {
            tap.ffnActivation(layer, fc);
        }
        NDArray mlp = proj(p + "mlp.c_proj", fc, adapter, dropout);
        if (dropout != null) {
            mlp = dropout.apply(mlp, config.residDropout());
        }
        return x.add(mlp);
    }

    /** HF LLaMA rotary embedding: {@code x * cos + rotate_half(x) * sin}, {@code rotate_half(x) = cat(-x2, x1)}. */
    static NDArray rope(NDArray x, NDArray cos, NDArray sin) {
        long half = x.getShape().get(3) / 2;
        NDList halves = x.split(new long[] {half}, 3); // x1 = (.., :half), x2 = (.., half:)
        NDArray rotated = halves.get(1).neg().concat(halves.get(0), 3);
        return x.mul(cos).add(rotated.mul(sin));
    }

    /** Attention of one layer, reading and extending the KV cache when one is given. */
    private NDArray attention(
            int layer, NDArray q, NDArray k, NDArray v, NDArray mask, KvCache cache, DropoutRng dropout) {
        if (cache != null) {
            if (cache.keys(layer) != null) {
                k = cache.keys(layer).concat(k, 2);
                v = cache.values(layer).concat(v, 2);
            }
            cache.put(layer, k, v);
        }
        return groupedAttention(q, k, v, mask, config.numKvHeads(), dropout, config.attnDropout());
    }

    /**
     * Scaled dot-product attention with grouped-query heads. Query head {@code h} reads key/value
     * head {@code h / (H / KV)}, as in HF's {@code repeat_kv}; instead of materialising repeated
     * keys, the queries of one group are folded into the sequence axis.
     *
     * @param q {@code (B, H, T, hd)} queries
     * @param k {@code (B, KV, S, hd)} keys
     * @param v {@code (B, KV, S, hd)} values
     * @param mask additive {@code (B|1, 1, T, S)}
     * @return {@code (B, T, H * hd)}
     */
    static NDArray groupedAttention(
            NDArray q, NDArray k, NDArray v, NDArray mask, int kvHeads, DropoutRng dropout, double attnDropout) {
        long b = q.getShape().get(0);
        long h = q.getShape().get(1);
        long t = q.getShape().get(2);
        long hd = q.getShape().get(3);
        long s = k.getShape().get(2);
        long group = h / kvHeads;
        NDArray qs = Ops.mul(q, 1.0 / Math.sqrt(hd)).reshape(b, kvHeads, group * t, hd); // (B, KV, G*T, hd)
        NDArray scores = qs.matMul(k.transpose(0, 1, 3, 2)).reshape(b, h, t, s); // (B, H, T, S)
        NDArray probs = scores.add(mask).softmax(-1);
        if (dropout != null) {
            probs = dropout.apply(probs, attnDropout);
        }
        NDArray ctx = probs.reshape(b, kvHeads, group * t, s).matMul(v); // (B, KV, G*T, hd)
        return ctx.reshape(b, h, t, hd).transpose(0, 2, 1, 3).reshape(b, t, h * hd); // (B, T, H*hd)
    }

    @Override
    public void close() {
        manager.close();
    }
}
