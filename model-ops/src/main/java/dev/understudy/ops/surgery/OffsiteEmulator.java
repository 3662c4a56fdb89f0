package dev.understudy.ops.surgery;

import dev.understudy.ops.distill.Alignment;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.LinearModule;
import dev.understudy.ops.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Offsite-Tuning's emulator (Xiao, Lin, Han 2023, arXiv 2302.04870; methods.md §4(a), §0.5) as
 * pure functions: the {@code l-k-r} split of a model's {@code L} blocks into a bottom adapter
 * {@code [0, l)}, a middle {@code [l, L−r)} and a top adapter {@code [L−r, L)}; the middle
 * compressed to {@code k} blocks by uniform stride ({@link LayerMaps#emulator}); the adapter blocks
 * in the emulator's numbering (what the data owners train) and in the full model's (where the
 * plug-in puts them); the {@code ℓ_nmse(M(h), E(h))} alignment for the optional distillation
 * ({@link dev.understudy.ops.distill.RepresentationDistiller} with {@link
 * dev.understudy.ops.distill.RepDistillConfig#offsiteTuning}). The emulator is written with its
 * {@link Derivation} (method {@code layer_drop_uniform}, parameters bottom / middle_kept / top, the
 * parent's content hash), so {@link PlugIn} can check the parent and map the adapters back.
 *
 * <p>FedBiOT (methods.md §4(b)) is the case {@code l = 0}: a top adapter only.
 *
 * @param bottom {@code l}, adapter blocks at the bottom (≥ 0)
 * @param middleKept {@code k}, middle blocks the emulator keeps (≥ 1, at most the middle's size)
 * @param top {@code r}, adapter blocks at the top (≥ 0)
 */
public record OffsiteEmulator(int bottom, int middleKept, int top) {
    /** Config keys the messages name (e.g. {@code method_params.bottom}); see {@link #validate}. */
    public record Keys(String bottom, String middleKept, String top, String targetModules) {
        public static Keys of(String prefix) {
            return new Keys(prefix + "bottom", prefix + "middle_kept", prefix + "top", "lora.target_modules");
        }
    }

    /**
     * Checks the split against a model of {@code numLayers} blocks before anything is built or
     * trained: {@code l + r < L} (a non-empty middle), {@code 1 ≤ k ≤ L − l − r}, {@code l + r ≥ 1}
     * (something to train).
     *
     * @throws IllegalArgumentException naming the keys of {@code keys} and what to do
     */
    public void validate(int numLayers, Keys keys) {
        if (bottom < 0 || top < 0) {
            throw bad(keys.bottom() + "=" + bottom + ", " + keys.top() + "=" + top
                    + ": adapter sizes cannot be negative");
        }
        if (bottom + top == 0) {
            throw bad(keys.bottom() + " and " + keys.top() + " are both 0: the emulator would have no adapter layer "
                    + "to train; set at least one of them to 1 or more");
        }
        if (bottom + top >= numLayers) {
            throw bad(keys.bottom() + "=" + bottom + " + " + keys.top() + "=" + top + " = " + (bottom + top)
                    + " leaves no middle in a model of " + numLayers + " layers (l + r must be < L = " + numLayers
                    + "); lower them");
        }
        int middle = numLayers - bottom - top;
        if (middleKept < 1 || middleKept > middle) {
            throw bad(keys.middleKept() + "=" + middleKept + " must be in [1, " + middle + "]: the middle of "
                    + bottom + "-?-" + top + " in a model of " + numLayers + " layers has " + middle + " layers ("
                    + keys.middleKept() + "=" + middle + " keeps it whole)");
        }
    }

    /**
     * As {@link #validate(int, Keys)}, and that {@code lora} (when given) targets a module in every
     * adapter layer of the emulator, so no adapter layer stays untrained.
     */
    public void validate(ModelConfig parent, LoraConfig lora, Keys keys) {
        validate(parent.numLayers(), keys);
        if (lora == null) {
            return;
        }
        ModelConfig emu = emulatorConfigShape(parent);
        List<String> modules = adapterModules(emu, lora);
        TreeSet<Integer> covered = new TreeSet<>();
        BlockLayout layout = DecoderLayouts.of(emu);
        for (String m : modules) {
            covered.add(SubModels.layerOf(layout, m + ".weight"));
        }
        for (int j : adapterLayers()) {
            if (!covered.contains(j)) {
                throw bad(keys.targetModules() + "=" + lora.targetModules() + " matches no module of adapter layer "
                        + j + " (parent layer " + parentLayers(parent.numLayers())[j] + "; modules there: "
                        + moduleNames(emu, j) + "); name modules that exist in the adapter layers");
            }
        }
    }

    private static List<String> moduleNames(ModelConfig c, int layer) {
        BlockLayout layout = DecoderLayouts.of(c);
        List<String> out = new ArrayList<>();
        for (LinearModule m : DecoderModel.linearModules(c)) {
            if (SubModels.layerOf(layout, m.name() + ".weight") == layer) {
                out.add(m.shortName());
            }
        }
        return out;
    }

    /** Blocks of the emulator: {@code l + k + r}. */
    public int emulatorLayers() {
        return bottom + middleKept + top;
    }

    /** The parent block of every emulator block (§0.5 uniform stride over the middle). */
    public int[] parentLayers(int numLayers) {
        return LayerMaps.emulator(numLayers, bottom, middleKept, top);
    }

    /** The adapter blocks in the emulator's numbering: {@code [0, l)} and {@code [l + k, l + k + r)}. */
    public int[] adapterLayers() {
        int[] out = new int[bottom + top];
        for (int i = 0; i < bottom; i++) {
            out[i] = i;
        }
        for (int i = 0; i < top; i++) {
            out[bottom + i] = bottom + middleKept + i;
        }
        return out;
    }

    /** The adapter blocks in the full model's numbering: {@code [0, l)} and {@code [L − r, L)}. */
    public int[] parentAdapterLayers(int numLayers) {
        int[] out = new int[bottom + top];
        for (int i = 0; i < bottom; i++) {
            out[i] = i;
        }
        for (int i = 0; i < top; i++) {
            out[bottom + i] = numLayers - top + i;
        }
        return out;
    }

    /** The emulator blocks that come from the middle (what the optional distillation trains). */
    public int[] middleLayers() {
        int[] out = new int[middleKept];
        for (int i = 0; i < middleKept; i++) {
            out[i] = bottom + i;
        }
        return out;
    }

    /** Tensor-name prefixes of the emulator's middle blocks, e.g. {@code model.layers.2.}, for dense trainables. */
    public List<String> middlePrefixes(ModelConfig emulator) {
        BlockLayout layout = DecoderLayouts.of(emulator);
        List<String> out = new ArrayList<>();
        for (int j : middleLayers()) {
            out.add(layout.layerPrefix(j));
        }
        return out;
    }

    /**
     * Full names of the emulator's linear modules that {@code lora} targets and that lie in an
     * adapter block, in model order: the LoRA of the adapter layers only (the emulator's middle
     * stays frozen). As PEFT target names they match exactly these modules ({@link
     * LoraConfig#matches}: a full name matches itself).
     */
    public List<String> adapterModules(ModelConfig emulator, LoraConfig lora) {
        BlockLayout layout = DecoderLayouts.of(emulator);
        TreeSet<Integer> adapters = new TreeSet<>();
        for (int j : adapterLayers()) {
            adapters.add(j);
        }
        List<String> out = new ArrayList<>();
        for (LinearModule m : DecoderModel.linearModules(emulator)) {
            if (lora.matches(m.name()) && adapters.contains(SubModels.layerOf(layout, m.name() + ".weight"))) {
                out.add(m.name());
            }
        }
        return out;
    }

    /** {@code lora} restricted to {@link #adapterModules} (same rank, alpha and dropout). */
    public LoraConfig adapterLora(ModelConfig emulator, LoraConfig lora) {
        return new LoraConfig(lora.rank(), lora.alpha(), lora.dropout(), adapterModules(emulator, lora));
    }

    /**
     * {@code lora} restricted to the full model's adapter blocks ({@link #parentAdapterLayers}):
     * the LoRA config of the plug-in {@code A_b ∘ M ∘ A_t}.
     */
    public LoraConfig parentAdapterLora(ModelConfig parent, LoraConfig lora) {
        BlockLayout layout = DecoderLayouts.of(parent);
        TreeSet<Integer> adapters = new TreeSet<>();
        for (int i : parentAdapterLayers(parent.numLayers())) {
            adapters.add(i);
        }
        List<String> out = new ArrayList<>();
        for (LinearModule m : DecoderModel.linearModules(parent)) {
            if (lora.matches(m.name()) && adapters.contains(SubModels.layerOf(layout, m.name() + ".weight"))) {
                out.add(m.name());
            }
        }
        return new LoraConfig(lora.rank(), lora.alpha(), lora.dropout(), out);
    }

    /**
     * The plug-in (§4(a), "model owner"): LoRA factors trained on the emulator's adapter blocks as
     * factors of the full model's adapter blocks (renumbered through the derivation's layer map;
     * the full middle gets no adapter). Keys as {@link dev.understudy.ops.lora.LoraAdapter#exportTensors}.
     *
     * @param emulatorLora the emulator-side config ({@link #adapterLora})
     * @param factors the trained emulator adapter
     */
    public Map<String, HostTensor> plugIn(Derivation d, ModelConfig parent, LoraConfig emulatorLora,
            Map<String, HostTensor> factors) {
        return PlugIn.transplantLora(d, parent, parentLora(d, parent, emulatorLora), factors);
    }

    /**
     * The full model's LoRA config for an emulator-side one ({@link #adapterLora}): every target
     * module renamed to its parent block through the layer map.
     */
    public LoraConfig parentLora(Derivation d, ModelConfig parent, LoraConfig emulatorLora) {
        BlockLayout layout = DecoderLayouts.of(parent);
        List<String> out = new ArrayList<>();
        for (String t : emulatorLora.targetModules()) {
            int j = SubModels.layerOf(layout, t + ".weight");
            if (j < 0) {
                out.add(t);
            } else {
                out.add(layout.layerPrefix(d.parentLayer(j)) + t.substring(layout.layerPrefix(j).length()));
            }
        }
        return new LoraConfig(emulatorLora.rank(), emulatorLora.alpha(), emulatorLora.dropout(), out);
    }

    /** Builds the emulator of {@code parent} (fresh tensor copies of the kept blocks; provenance in the derivation). */
    public DerivedModel build(ModelConfig parent, Map<String, HostTensor> tensors) {
        validate(parent.numLayers(), Keys.of(""));
        return SubModels.emulator(parent, tensors, bottom, middleKept, top);
    }

    /**
     * The distillation / re-alignment target {@code ℓ_nmse(M(h), E(h))}: {@code h} the output of the
     * bottom adapter, {@code M} the parent's middle, {@code E} the emulator's.
     */
    public Alignment.BlockRange alignment(Derivation d) {
        return Alignment.emulator(d, bottom, top);
    }

    /** The notation {@code l-k-r}, e.g. {@code 2-8-2}. */
    public String notation() {
        return String.format(Locale.ROOT, "%d-%d-%d", bottom, middleKept, top);
    }

    /** The emulator config's shape (layer count and per-layer widths) without building tensors. */
    private ModelConfig emulatorConfigShape(ModelConfig parent) {
        List<Integer> widths = new ArrayList<>();
        for (int i : parentLayers(parent.numLayers())) {
            widths.add(parent.intermediateSize(i));
        }
        return parent.withLayers(widths);
    }

    private static IllegalArgumentException bad(String msg) {
        return new IllegalArgumentException("Offsite-Tuning emulator: " + msg);
    }
}
