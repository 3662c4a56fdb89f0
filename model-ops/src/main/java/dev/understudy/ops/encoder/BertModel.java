package dev.understudy.ops.encoder;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.io.Checkpoints;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.JsonFiles;
import dev.understudy.ops.io.ModelSource;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.model.AdaptableModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.DropoutRng;
import dev.understudy.ops.model.LinearModule;
import dev.understudy.ops.model.ModuleAdapter;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.util.MklCpuDispatch;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A BERT encoder (Devlin et al. 2019) on raw libtorch kernels through DJL, numerically as
 * transformers' {@code BertModel} (+ {@code BertOnlyMLMHead}): embeddings (word + absolute position
 * + token type, LayerNorm), {@code L} post-LayerNorm blocks {@code h = LN(x + Attn(x)); y = LN(h +
 * W2 gelu(W1 h))} (erf or tanh GELU as configured), the tanh pooler over {@code [CLS]}, and optionally the MLM head tied to the word
 * embeddings.
 *
 * <p>Weights keep transformers' names with the {@code bert.} prefix of the pre-training checkpoints
 * ({@code bert.encoder.layer.0.attention.self.query.weight}, ..., {@code cls.predictions.bias}), so
 * LoRA modules carry PEFT's names for {@code BertForSequenceClassification}. Linear weights are
 * {@code [out, in]}. Like {@link dev.understudy.ops.model.DecoderModel}, the model is immutable after
 * construction and safe for concurrent {@link #forward} calls; its manager owns the weights.
 */
public final class BertModel implements AdaptableModel, AutoCloseable {
    static {
        MklCpuDispatch.ensureInstalled();
    }

    /** Prefix of the encoder's tensors in pre-training / classification checkpoints. */
    public static final String PREFIX = "bert.";

    private final BertConfig config;
    private final NDManager manager;
    private final DataType dtype;
    private final Map<String, NDArray> params;
    private final List<LinearModule> linears;

    private BertModel(BertConfig config, NDManager manager, DataType dtype, Map<String, NDArray> params) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        this.params = Collections.unmodifiableMap(params);
        this.linears = List.copyOf(linearModules(config));
    }

    // ---------------------------------------------------------------------------------------------
    // Layout

    /** Expected tensors with their (HF, {@code [out, in]}) shapes, in transformers' order. */
    public static Map<String, long[]> parameterShapes(BertConfig c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        long d = c.hiddenSize();
        s.put("bert.embeddings.word_embeddings.weight", new long[] {c.vocabSize(), d});
        s.put("bert.embeddings.position_embeddings.weight", new long[] {c.maxPositions(), d});
        s.put("bert.embeddings.token_type_embeddings.weight", new long[] {c.typeVocabSize(), d});
        norm(s, "bert.embeddings.LayerNorm", d);
        List<LinearModule> mods = linearModules(c);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = layer(i);
            for (LinearModule m : mods.subList(6 * i, 6 * i + 6)) {
                s.put(m.name() + ".weight", new long[] {m.outFeatures(), m.inFeatures()});
                s.put(m.name() + ".bias", new long[] {m.outFeatures()});
                if (m.name().endsWith("attention.output.dense")) {
                    norm(s, p + "attention.output.LayerNorm", d);
                } else if (m.name().equals(p + "output.dense")) {
                    norm(s, p + "output.LayerNorm", d);
                }
            }
        }
        s.put("bert.pooler.dense.weight", new long[] {d, d});
        s.put("bert.pooler.dense.bias", new long[] {d});
        if (c.mlmHead()) {
            s.put("cls.predictions.bias", new long[] {c.vocabSize()});
            s.put("cls.predictions.transform.dense.weight", new long[] {d, d});
            s.put("cls.predictions.transform.dense.bias", new long[] {d});
            norm(s, "cls.predictions.transform.LayerNorm", d);
        }
        return s;
    }

    private static void norm(Map<String, long[]> s, String name, long d) {
        s.put(name + ".weight", new long[] {d});
        s.put(name + ".bias", new long[] {d});
    }

    private static String layer(int i) {
        return "bert.encoder.layer." + i + ".";
    }

    /**
     * The projections of each block, in order: {@code attention.self.query/key/value}, {@code
     * attention.output.dense}, {@code intermediate.dense}, {@code output.dense} (the FFN is the last
     * two).
     */
    public static List<LinearModule> linearModules(BertConfig c) {
        List<LinearModule> out = new ArrayList<>();
        int d = c.hiddenSize();
        for (int i = 0; i < c.numLayers(); i++) {
            String p = layer(i);
            out.add(new LinearModule(p + "attention.self.query", d, d, false));
            out.add(new LinearModule(p + "attention.self.key", d, d, false));
            out.add(new LinearModule(p + "attention.self.value", d, d, false));
            out.add(new LinearModule(p + "attention.output.dense", d, d, false));
            out.add(new LinearModule(p + "intermediate.dense", d, c.intermediateSize(), false));
            out.add(new LinearModule(p + "output.dense", c.intermediateSize(), d, false));
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------
    // Construction

    /**
     * Loads a Hugging Face BERT directory ({@code config.json} + safetensors). Keys may carry the
     * {@code bert.} prefix (pre-training / task checkpoints) or not ({@code BertModel.save_pretrained});
     * an MLM head ({@code cls.predictions.*}) is kept when present; NSP and task heads ({@code
     * cls.seq_relationship.*}, {@code classifier.*}) and the tied {@code cls.predictions.decoder.*}
     * are ignored; any other unknown tensor is an error.
     */
    public static BertModel load(ModelSource source, NDManager parent, DataType dtype) throws IOException {
        Map<String, TensorEntry> tensors = Checkpoints.load(source);
        Map<String, HostTensor> host = new LinkedHashMap<>();
        boolean mlm = false;
        for (Map.Entry<String, TensorEntry> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name.startsWith("cls.seq_relationship.") || name.startsWith("classifier.")
                    || name.startsWith("cls.predictions.decoder.") || name.endsWith("position_ids")) {
                continue;
            }
            if (!name.startsWith("cls.") && !name.startsWith(PREFIX)) {
                name = PREFIX + name;
            }
            mlm |= name.startsWith("cls.predictions.");
            TensorEntry t = e.getValue();
            if (!t.dtype().isFloating()) {
                throw new ModelFormatException(source.describe() + ": tensor " + e.getKey() + " has dtype " + t.dtype()
                        + "; BERT weights must be F32, F16, BF16 or F64");
            }
            host.put(name, new HostTensor(t.shape(), t.toFloats()));
        }
        BertConfig config = BertConfig.fromJson(JsonFiles.read(source, "config.json"), mlm, source.describe("config.json"));
        try {
            return fromTensors(config, host, source.describe(), parent, dtype);
        } catch (IllegalArgumentException ex) {
            throw new ModelFormatException(ex.getMessage(), ex);
        }
    }

    public static BertModel load(Path dir, NDManager parent, DataType dtype) throws IOException {
        return load(new DirectoryModelSource(dir), parent, dtype);
    }

    /** Builds a model from host tensors named as {@link #parameterShapes}; all must be present. */
    public static BertModel fromTensors(
            BertConfig config, Map<String, HostTensor> tensors, String source, NDManager parent, DataType dtype) {
        checkArgument(dtype == DataType.FLOAT32 || dtype == DataType.FLOAT64,
                "Cannot compute in %s: use FLOAT32 (or FLOAT64 for tests)", dtype);
        Map<String, long[]> expected = parameterShapes(config);
        List<String> missing = expected.keySet().stream().filter(n -> !tensors.containsKey(n)).toList();
        checkArgument(missing.isEmpty(), "%s: checkpoint lacks %s BERT tensor(s), e.g. %s", source, missing.size(),
                missing.subList(0, Math.min(5, missing.size())));
        TreeSet<String> unexpected = new TreeSet<>(tensors.keySet());
        unexpected.removeAll(expected.keySet());
        checkArgument(unexpected.isEmpty(), "%s: checkpoint has %s tensor(s) the BERT config does not describe, e.g. %s",
                source, unexpected.size(), new ArrayList<>(unexpected).subList(0, Math.min(5, unexpected.size())));
        NDManager m = parent.newSubManager();
        Map<String, NDArray> params = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, long[]> e : expected.entrySet()) {
                HostTensor t = tensors.get(e.getKey());
                checkArgument(Arrays.equals(t.shape(), e.getValue()), "%s: tensor %s has shape %s but the config implies %s",
                        source, e.getKey(), Arrays.toString(t.shape()), Arrays.toString(e.getValue()));
                NDArray a = m.create(t.values(), new Shape(t.shape()));
                if (dtype != DataType.FLOAT32) {
                    NDArray c = a.toType(dtype, false);
                    a.close();
                    a = c;
                }
                a.setName(e.getKey());
                params.put(e.getKey(), a);
            }
        } catch (RuntimeException ex) {
            m.close();
            throw ex;
        }
        return new BertModel(config, m, dtype, params);
    }

    // ---------------------------------------------------------------------------------------------
    // Accessors

    public BertConfig config() {
        return config;
    }

    @Override
    public DataType dtype() {
        return dtype;
    }

    @Override
    public Device device() {
        return manager.getDevice();
    }

    @Override
    public String modelType() {
        return "bert";
    }

    public NDManager manager() {
        return manager;
    }

    @Override
    public Map<String, NDArray> parameters() {
        return params;
    }

    @Override
    public List<LinearModule> linearModules() {
        return linears;
    }

    public long parameterCount() {
        long n = 0;
        for (NDArray a : params.values()) {
            n += a.size();
        }
        return n;
    }

    // ---------------------------------------------------------------------------------------------
    // Forward

    /**
     * The last layer's hidden states ({@code BertModel(...).last_hidden_state}).
     *
     * @param inputIds int64 {@code [B, T]}
     * @param tokenTypes int64 {@code [B, T]}, or null for all zeros (single segment)
     * @param attentionMask {@code [B, T]} 1 for tokens, 0 for padding (any numeric type), or null
     * @param adapter LoRA on the block projections, or null
     * @param dropout training dropout masks (embeddings, attention probabilities, block outputs), or
     *     null in evaluation
     * @return {@code [B, T, d]}
     */
    public NDArray forward(NDArray inputIds, NDArray tokenTypes, NDArray attentionMask, ModuleAdapter adapter,
            DropoutRng dropout) {
        Shape shape = inputIds.getShape();
        checkArgument(shape.dimension() == 2, "inputIds must be [batch, seq], got %s", shape);
        long b = shape.get(0);
        long t = shape.get(1);
        checkArgument(t <= config.maxPositions(), "Sequence of %s tokens exceeds max_position_embeddings=%s", t,
                config.maxPositions());
        NDManager m = inputIds.getManager();
        NDArray ids = inputIds.getDataType() == DataType.INT64 ? inputIds : inputIds.toType(DataType.INT64, false);
        NDArray types = tokenTypes == null ? m.zeros(shape, DataType.INT64)
                : tokenTypes.getDataType() == DataType.INT64 ? tokenTypes : tokenTypes.toType(DataType.INT64, false);
        NDArray pos = m.arange(0, (int) t, 1, DataType.INT64).reshape(1, t);

        // additive key mask (B, 1, 1, T): 0 for tokens, a large negative for padding
        NDArray mask = null;
        if (attentionMask != null) {
            checkArgument(attentionMask.getShape().equals(shape), "attentionMask must be %s, got %s", shape,
                    attentionMask.getShape());
            NDArray keep = Ops.neq(attentionMask.toType(DataType.INT64, false), 0).toType(dtype, false);
            mask = Ops.mul(Ops.add(keep, -1), 1e9).reshape(b, 1, 1, t);
        }
        NDArray x = Ops.embedding(ids, params.get("bert.embeddings.word_embeddings.weight"))
                .add(Ops.embedding(pos, params.get("bert.embeddings.position_embeddings.weight")))
                .add(Ops.embedding(types, params.get("bert.embeddings.token_type_embeddings.weight")));
        x = Ops.layerNorm(x, params.get("bert.embeddings.LayerNorm.weight"), params.get("bert.embeddings.LayerNorm.bias"),
                config.layerNormEps());
        if (dropout != null) {
            x = dropout.apply(x, config.hiddenDropout());
        }
        for (int layer = 0; layer < config.numLayers(); layer++) {
            final int l = layer;
            final NDArray in = x;
            final NDArray msk = mask;
            x = Ops.scoped(() -> block(l, in, msk, adapter, dropout));
        }
        return x;
    }

    private NDArray block(int layer, NDArray x, NDArray mask, ModuleAdapter adapter, DropoutRng dropout) {
        String p = layer(layer);
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        int h = config.numHeads();
        int hd = config.headDim();
        NDArray q = proj(p + "attention.self.query", x, adapter, dropout).reshape(b, t, h, hd).transpose(0, 2, 1, 3);
        NDArray k = proj(p + "attention.self.key", x, adapter, dropout).reshape(b, t, h, hd).transpose(0, 2, 1, 3);
        NDArray v = proj(p + "attention.self.value", x, adapter, dropout).reshape(b, t, h, hd).transpose(0, 2, 1, 3);
        NDArray scores = Ops.mul(q, 1.0 / Math.sqrt(hd)).matMul(k.transpose(0, 1, 3, 2)); // (B, H, T, T)
        if (mask != null) {
            scores = scores.add(mask);
        }
        NDArray probs = scores.softmax(-1);
        if (dropout != null) {
            probs = dropout.apply(probs, config.attentionDropout());
        }
        NDArray ctx = probs.matMul(v).transpose(0, 2, 1, 3).reshape(b, t, (long) h * hd); // (B, T, d)
        NDArray o = proj(p + "attention.output.dense", ctx, adapter, dropout);
        if (dropout != null) {
            o = dropout.apply(o, config.hiddenDropout());
        }
        NDArray h1 = norm(p + "attention.output.LayerNorm", x.add(o));
        NDArray ffn = Ops.activate(proj(p + "intermediate.dense", h1, adapter, dropout), config.activation());
        NDArray out = proj(p + "output.dense", ffn, adapter, dropout);
        if (dropout != null) {
            out = dropout.apply(out, config.hiddenDropout());
        }
        return norm(p + "output.LayerNorm", h1.add(out));
    }

    private NDArray norm(String name, NDArray x) {
        return Ops.layerNorm(x, params.get(name + ".weight"), params.get(name + ".bias"), config.layerNormEps());
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

    /** The pooler: {@code tanh(W h[:, 0] + b)}, {@code [B, T, d] -> [B, d]} ({@code pooler_output}). */
    public NDArray pooled(NDArray sequence) {
        NDArray first = sequence.get(":, 0, :");
        return Ops.linear(first, params.get("bert.pooler.dense.weight"), params.get("bert.pooler.dense.bias")).tanh();
    }

    /** Masked-LM logits {@code [B, T, V]} ({@code BertForMaskedLM}); needs the MLM head. */
    public NDArray mlmLogits(NDArray sequence) {
        checkArgument(config.mlmHead(), "this BERT checkpoint has no MLM head (cls.predictions.*)");
        NDArray h = Ops.activate(Ops.linear(sequence, params.get("cls.predictions.transform.dense.weight"),
                params.get("cls.predictions.transform.dense.bias")), config.activation());
        h = norm("cls.predictions.transform.LayerNorm", h);
        return Ops.linear(h, params.get("bert.embeddings.word_embeddings.weight"), params.get("cls.predictions.bias"));
    }

    @Override
    public void close() {
        manager.close();
    }
}
