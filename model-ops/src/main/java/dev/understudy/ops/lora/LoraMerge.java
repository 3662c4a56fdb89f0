package dev.understudy.ops.lora;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.io.Checkpoints;
import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.io.ModelSource;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.io.TensorSpec;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.LinearModule;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.util.MklCpuDispatch;
import dev.understudy.ops.util.ModelFormatException;
import dev.understudy.ops.util.Preconditions;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges a LoRA adapter into its base model and writes the result as a plain Hugging Face model
 * directory, streaming: one base tensor is read, merged and written before the next is read, so the
 * whole model is never in memory (what the Spark job's {@code export} needs on the driver).
 *
 * <p>For every adapted linear module with frozen weight {@code W: [out, in]}, LoRA factors {@code
 * A: [r, in]}, {@code B: [out, r]} and scaling {@code alpha / r}:
 *
 * <pre>
 *     W' = W + (alpha / r) · B · A
 * </pre>
 *
 * (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", arXiv:2106.09685, §4.1:
 * the merged model has no extra inference latency; Hugging Face PEFT's {@code
 * LoraModel.merge_and_unload()}). GPT-2's Conv1D weights are stored {@code [in, out]}, so there
 * {@code (B·A)ᵀ} is added (PEFT's {@code fan_in_fan_out=True}). Biases are not adapted ({@code
 * bias="none"}), and every other tensor is copied through byte for byte in its on-disk dtype.
 *
 * <p><b>Numerics.</b> {@code B·A} is one libtorch float32 GEMM on the CPU, then {@code W + scale ·
 * (B·A)} is formed in float32 exactly as {@link LoraAdapter#mergeInto} does it (same operations in
 * the same order, no fused multiply-add), so for an F32 base the result is bit-identical to {@code
 * mergeInto} on a CPU model followed by {@link HfModels#save}, and for an F16/BF16 base
 * bit-identical to loading it widened to float32, {@code mergeInto} and {@code HfModels.save(model,
 * sink, F16/BF16, ...)} (a model merged on a GPU may differ in the last bit: another GEMM). A merged tensor keeps
 * its base dtype: F16/BF16 weights are widened exactly, merged in float32 and rounded once, to
 * nearest-even, back to F16/BF16 (what torch's {@code .to(torch.float16 / torch.bfloat16)} does).
 * PEFT's {@code merge_and_unload} on a model loaded in half precision instead rounds {@code
 * scale·B·A} to the half dtype first and adds in half precision, rounding twice; the results can
 * differ from ours by one unit in the last place of the half dtype, ours being the correctly
 * rounded float32 merge. F64 weights are merged in double precision ({@code W + (double)(scale·B·A)}).
 *
 * <p><b>Output.</b> The base's layout is kept: the same {@code model.safetensors}, or the same shard
 * files with the index copied byte for byte; tensors in source order, same {@code __metadata__}
 * (see {@link Checkpoints#transform}). Besides the weights, {@code config.json} and the files of
 * {@link #COPIED_FILES} that exist in the base are copied byte for byte ({@link ModelSource} cannot
 * list a directory, so other files, e.g. a README or custom code, are not). Write order: copied
 * files, weights (index last), {@code config.json} last of all, so a directory with a {@code
 * config.json} is complete. Everything is validated (config, every safetensors header, every
 * adapter tensor against its base tensor) before the first byte is written.
 *
 * <p><b>Memory.</b> The adapter factors (a small fraction of the model) are held throughout; of the
 * base, one tensor at a time: its raw bytes, its float32 values, {@code B·A} ({@code out·in}
 * floats) and the re-encoded result, i.e. about 4 × the largest adapted projection in float32 at
 * the peak. Embeddings and other tensors that pass through are held only as their raw bytes.
 *
 * <pre>{@code
 * LoraMerge.Result r = LoraMerge.export(new DirectoryModelSource(baseDir),
 *         new DirectoryModelSource(runDir.resolve("adapter")),        // PEFT adapter directory
 *         new DirectoryModelSink(outDir));
 * }</pre>
 *
 * <p>NDManager contract: each call uses a private CPU manager of its own, closed before it
 * returns; no NDArray escapes.
 */
public final class LoraMerge {
    static {
        // before this class's first GEMM: oneMKL caches its kernel choice at its first call
        MklCpuDispatch.ensureInstalled();
    }

    /**
     * Files of a Hugging Face model directory copied verbatim when present: the tokenizer (fast
     * and slow formats) and generation settings.
     */
    public static final List<String> COPIED_FILES = List.of(
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
            "vocab.json", "merges.txt", "tokenizer.model", "chat_template.jinja", "generation_config.json");

    static final String CONFIG_FILE = "config.json";

    private LoraMerge() {}

    /**
     * What {@link #export} wrote.
     *
     * @param tensorsWritten tensors in the output checkpoint (merged and copied)
     * @param mergedModules linear modules whose weight received {@code scale · B · A}
     * @param bytesWritten bytes of all files written (weights, index, config, tokenizer files)
     * @param files relative paths of the files written, in write order
     */
    public record Result(int tensorsWritten, int mergedModules, long bytesWritten, List<String> files) {
        public Result {
            files = List.copyOf(files);
        }
    }

    /**
     * Merges the PEFT adapter directory {@code peftAdapter} ({@code adapter_config.json} plus
     * {@code adapter_model.safetensors}, as {@link PeftAdapters#save} and PEFT write it) into the
     * base model {@code base} and writes the merged model to {@code out}.
     *
     * @throws ModelFormatException naming the file and tensor when the base or the adapter is
     *     malformed or they do not fit each other (unknown module, shape mismatch)
     */
    public static Result export(ModelSource base, ModelSource peftAdapter, ModelSink out) throws IOException {
        Preconditions.checkNotNull(peftAdapter, "adapter source");
        LoraConfig config = PeftAdapters.loadConfig(peftAdapter);
        Map<String, HostTensor> factors = PeftAdapters.loadFactors(peftAdapter);
        return export(base, config, factors, peftAdapter.describe(PeftAdapters.WEIGHTS_FILE), out);
    }

    /** Merges an in-memory adapter (e.g. the global adapter after the last round). */
    public static Result export(ModelSource base, LoraAdapter adapter, ModelSink out) throws IOException {
        Preconditions.checkNotNull(adapter, "adapter");
        return export(base, adapter.config(), adapter.exportTensors(), "the in-memory adapter", out);
    }

    /**
     * Merges LoRA factors given as host tensors. Keys are either PEFT's ({@code
     * base_model.model.<module>.lora_A.weight}, {@code ...lora_B.weight}) or {@link
     * LoraAdapter#exportTensors}' ({@code <module>.lora_A}, {@code <module>.lora_B}); {@code
     * <module>.weight} must be a linear projection of the base checkpoint, and the modules present
     * must be exactly those {@code config.targetModules()} selects. Scaling is {@code
     * config.alpha() / config.rank()}.
     */
    public static Result export(ModelSource base, LoraConfig config, Map<String, HostTensor> factors, ModelSink out)
            throws IOException {
        return export(base, config, factors, "the adapter tensors", out);
    }

    private static Result export(ModelSource base, LoraConfig config, Map<String, HostTensor> factors,
            String adapterSource, ModelSink out) throws IOException {
        Preconditions.checkNotNull(base, "base model source");
        Preconditions.checkNotNull(config, "LoRA config");
        Preconditions.checkNotNull(factors, "adapter tensors");
        Preconditions.checkNotNull(out, "model sink");
        Preconditions.checkArgument(!out.describe().equals(base.describe()),
                "Cannot write the merged model over its base %s; choose another output directory", base.describe());

        // 1) Validate everything from headers and the adapter, before writing anything.
        ModelConfig modelConfig = HfModels.loadConfig(base);
        Map<String, TensorSpec> specs = Checkpoints.specs(base);
        Map<String, Merge> plan = plan(modelConfig, config, factors, adapterSource, specs, base.describe());
        float scale = (float) config.scale(); // the float LoraAdapter multiplies by

        // 2) Tokenizer and generation files, verbatim.
        List<String> files = new ArrayList<>();
        long bytes = 0;
        for (String name : COPIED_FILES) {
            if (base.exists(name)) {
                bytes += copy(base, name, out);
                files.add(name);
            }
        }

        // 3) Weights: one pass over the base, merging the adapted tensors on the way.
        int[] merged = {0};
        Checkpoints.TransformResult weights;
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            weights = Checkpoints.transform(base, out, tensor -> {
                Merge m = plan.get(tensor.name());
                if (m == null) {
                    return tensor;
                }
                merged[0]++;
                return merge(tensor, m, scale, manager);
            });
        } finally {
            Ops.setGradMode(grad);
        }
        files.addAll(weights.files());
        bytes += weights.bytes();
        // The plan only names tensors the headers hold, so each was met exactly once.
        Preconditions.checkState(merged[0] == plan.size(), "merged %s of %s planned tensors", merged[0], plan.size());

        // 4) config.json last: its presence marks a complete directory.
        bytes += copy(base, CONFIG_FILE, out);
        files.add(CONFIG_FILE);
        return new Result(weights.tensors(), plan.size(), bytes, files);
    }

    /** One adapted base tensor: its module and factors, {@code a: [r, in]}, {@code b: [out, r]}. */
    private record Merge(LinearModule module, int rank, float[] a, float[] b) {}

    /**
     * Pairs every adapter tensor with the base tensor it updates and checks names and shapes:
     * base tensor name → merge.
     */
    private static Map<String, Merge> plan(ModelConfig modelConfig, LoraConfig config, Map<String, HostTensor> factors,
            String adapterSource, Map<String, TensorSpec> specs, String baseSource) throws ModelFormatException {
        // module -> {A key, B key}, in adapter order
        Map<String, String[]> keys = new LinkedHashMap<>();
        for (String key : factors.keySet()) {
            String[] parsed = parseKey(key);
            if (parsed == null) {
                throw new ModelFormatException(String.format(
                        "%s: tensor '%s' is not a LoRA factor; expected base_model.model.<module>.lora_A.weight / "
                                + ".lora_B.weight (PEFT) or <module>.lora_A / .lora_B (LoraAdapter.exportTensors())",
                        adapterSource, key));
            }
            String[] pair = keys.computeIfAbsent(parsed[0], k -> new String[2]);
            int slot = parsed[1].equals("A") ? 0 : 1;
            if (pair[slot] != null) {
                throw new ModelFormatException(String.format(
                        "%s: tensors '%s' and '%s' are both lora_%s of module %s",
                        adapterSource, pair[slot], key, parsed[1], parsed[0]));
            }
            pair[slot] = key;
        }
        if (keys.isEmpty()) {
            throw new ModelFormatException(adapterSource + " holds no LoRA tensors");
        }

        Map<String, LinearModule> linears = new LinkedHashMap<>();
        DecoderModel.linearModules(modelConfig).forEach(m -> linears.put(m.name(), m));
        Map<String, Merge> plan = new LinkedHashMap<>();
        for (Map.Entry<String, String[]> e : keys.entrySet()) {
            String module = e.getKey();
            String keyA = e.getValue()[0];
            String keyB = e.getValue()[1];
            String someKey = keyA != null ? keyA : keyB;
            String baseName = baseTensor(modelConfig, module, specs);
            if (baseName == null) {
                throw new ModelFormatException(String.format(
                        "%s: adapter tensor '%s' matches no tensor of the base model: %s has no '%s.weight' "
                                + "(its linear modules are named like '%s'); was the adapter trained on another model?",
                        adapterSource, someKey, baseSource, module, linears.keySet().iterator().next()));
            }
            LinearModule lm = linears.get(module);
            if (lm == null) {
                throw new ModelFormatException(String.format(
                        "%s: adapter tensor '%s' adapts '%s', which is not a linear projection of this %s model; "
                                + "only projections (e.g. '%s') can be merged",
                        adapterSource, someKey, baseName, modelConfig.modelType(), linears.keySet().iterator().next()));
            }
            if (keyA == null || keyB == null) {
                throw new ModelFormatException(String.format("%s: module %s has '%s' but no lora_%s",
                        adapterSource, module, someKey, keyA == null ? "A" : "B"));
            }
            if (!config.matches(module)) {
                throw new ModelFormatException(String.format(
                        "%s: adapter tensor '%s' belongs to module %s, which target_modules=%s does not select",
                        adapterSource, someKey, module, config.targetModules()));
            }
            TensorSpec w = specs.get(baseName);
            if (!w.dtype().isFloating()) {
                throw new ModelFormatException(String.format(
                        "%s: base tensor %s cannot be merged into: its dtype is not F32, F16, BF16 or F64",
                        baseSource, w));
            }
            long in = lm.inFeatures();
            long outF = lm.outFeatures();
            long r = config.rank();
            String layout = lm.conv1d() ? "GPT-2 Conv1D [in, out]" : "[out, in]";
            long[] expectedW = lm.conv1d() ? new long[] {in, outF} : new long[] {outF, in};
            if (!Arrays.equals(w.shape(), expectedW)) {
                throw new ModelFormatException(String.format(
                        "%s: base tensor '%s' has shape %s, but config.json implies %s (%s layout)",
                        baseSource, baseName, Arrays.toString(w.shape()), Arrays.toString(expectedW), layout));
            }
            HostTensor a = factors.get(keyA);
            HostTensor b = factors.get(keyB);
            checkFactor(adapterSource, keyA, a.shape(), new long[] {r, in}, "[r, in]", baseName, w, layout, r);
            checkFactor(adapterSource, keyB, b.shape(), new long[] {outF, r}, "[out, r]", baseName, w, layout, r);
            plan.put(baseName, new Merge(lm, config.rank(), a.values(), b.values()));
        }
        for (LinearModule lm : linears.values()) {
            if (config.matches(lm.name()) && !keys.containsKey(lm.name())) {
                throw new ModelFormatException(String.format(
                        "%s: adapter lacks lora_A/lora_B for module %s, which target_modules=%s selects",
                        adapterSource, lm.name(), config.targetModules()));
            }
        }
        return plan;
    }

    private static void checkFactor(String adapterSource, String key, long[] shape, long[] expected, String form,
            String baseName, TensorSpec w, String layout, long rank) throws ModelFormatException {
        if (!Arrays.equals(shape, expected)) {
            throw new ModelFormatException(String.format(
                    "%s: adapter tensor '%s' has shape %s, but base tensor '%s' has shape %s (%s layout), "
                            + "so with rank %s it must be %s = %s",
                    adapterSource, key, Arrays.toString(shape), baseName, Arrays.toString(w.shape()), layout, rank,
                    form, Arrays.toString(expected)));
        }
    }

    /**
     * {module, "A" or "B"} for a PEFT key ({@code base_model.model.<module>.lora_A.weight}) or a
     * {@link LoraAdapter#exportTensors} key ({@code <module>.lora_A}); null for anything else.
     */
    static String[] parseKey(String key) {
        String k = key;
        boolean peft = k.startsWith(PeftAdapters.PREFIX);
        if (peft) {
            if (!k.endsWith(".weight")) {
                return null;
            }
            k = k.substring(PeftAdapters.PREFIX.length(), k.length() - ".weight".length());
        }
        for (String factor : new String[] {"A", "B"}) {
            String suffix = ".lora_" + factor;
            if (k.endsWith(suffix) && k.length() > suffix.length()) {
                return new String[] {k.substring(0, k.length() - suffix.length()), factor};
            }
        }
        return null;
    }

    /**
     * The checkpoint name of {@code module}'s weight: {@code <module>.weight}, or for GPT-2
     * checkpoints saved without the {@code transformer.} prefix, that name without it.
     */
    private static String baseTensor(ModelConfig c, String module, Map<String, TensorSpec> specs) {
        String name = module + ".weight";
        if (specs.containsKey(name)) {
            return name;
        }
        String legacy = name.startsWith("transformer.") ? name.substring("transformer.".length()) : null;
        if (c.family() == ModelConfig.Family.GPT2 && legacy != null && specs.containsKey(legacy)) {
            return legacy;
        }
        return null;
    }

    /** {@code W + scale · B·A} in {@code w}'s dtype and layout. */
    private static TensorEntry merge(TensorEntry w, Merge m, float scale, NDManager manager) {
        int in = m.module().inFeatures();
        int out = m.module().outFeatures();
        float[] delta = product(m, manager); // (out, in), row-major
        boolean conv1d = m.module().conv1d(); // w is (in, out): element (i, o) takes delta (o, i)
        switch (w.dtype()) {
            case F32, F16, BF16 -> {
                float[] v = w.toFloats(); // exact for these dtypes
                // Two roundings, as mergeInto's delta.muli(scale) then w.addi(delta): no fused multiply-add.
                if (conv1d) {
                    for (int i = 0; i < in; i++) {
                        for (int o = 0; o < out; o++) {
                            float d = delta[o * in + i] * scale;
                            v[i * out + o] = v[i * out + o] + d;
                        }
                    }
                } else {
                    for (int k = 0; k < v.length; k++) {
                        float d = delta[k] * scale;
                        v[k] = v[k] + d;
                    }
                }
                return TensorEntry.ofFloats(w.name(), w.shape(), v, w.dtype()); // F16/BF16: round to nearest even
            }
            case F64 -> {
                double[] v = w.toDoubles();
                for (int i = 0; i < in; i++) {
                    for (int o = 0; o < out; o++) {
                        double d = delta[o * in + i] * scale;
                        v[conv1d ? i * out + o : o * in + i] += d;
                    }
                }
                return TensorEntry.ofDoubles(w.name(), w.shape(), v);
            }
            default -> throw new IllegalStateException("dtype " + w.dtype() + " of " + w.name() + " passed the plan check");
        }
    }

    /** {@code B·A} as one libtorch float32 GEMM, the same call {@link LoraAdapter#mergeInto} makes. */
    private static float[] product(Merge m, NDManager manager) {
        int in = m.module().inFeatures();
        int out = m.module().outFeatures();
        try (NDManager scope = manager.newSubManager()) {
            NDArray a = scope.create(m.a(), new Shape(m.rank(), in));
            NDArray b = scope.create(m.b(), new Shape(out, m.rank()));
            return b.matMul(a).toFloatArray();
        }
    }

    private static long copy(ModelSource source, String name, ModelSink sink) throws IOException {
        long[] n = {0};
        try (InputStream in = source.open(name)) {
            sink.write(name, o -> n[0] = in.transferTo(o));
        }
        return n[0];
    }
}
