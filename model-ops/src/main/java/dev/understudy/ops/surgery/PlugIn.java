package dev.understudy.ops.surgery;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.LinearModule;
import dev.understudy.ops.model.ModelConfig;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Plug-in: what was learned on a derived model, applied to the model it was derived from through
 * its {@link Derivation} (Offsite-Tuning's "plug the adapters into the full model", FedPFT's
 * evaluation of the global adapter on the FM, FedProxy's Stage 3 Option A; methods.md §2(a), §3,
 * §4(a)).
 *
 * <ul>
 *   <li>{@link #transplantLora}: LoRA factors of derived block {@code j} go to parent block {@code
 *       layerMap[j]}. For an FFN that was pruned, the factor on the neuron axis is scattered to the
 *       kept neuron indices with zeros elsewhere: {@code lora_B} rows of the modules whose outputs
 *       are neurons (gate/up, {@code c_fc}), {@code lora_A} columns of the module whose inputs are
 *       neurons (down, {@code mlp.c_proj}). So the parent's removed neurons get no update, and the
 *       kept ones get exactly the derived model's. Targeted modules of dropped blocks get zero
 *       factors (no update), so the result loads as an ordinary adapter of the parent.
 *   <li>{@link #mergeDense}: dense deltas (after − before training) of derived tensors added to
 *       the parent's corresponding tensors, scattered to kept neurons in pruned FFNs (FedPFT's
 *       neuron-level alignment writing its neurons back; Offsite-Tuning's tuned adapter layers).
 * </ul>
 *
 * Exactness: the parent with the transplanted adapter equals the derived model with its adapter
 * on every kept path, i.e. when the parent's removed neurons are silenced and its dropped blocks are
 * the identity (tested in {@code PlugInTest}). On the full parent it is an approximation, as in the
 * papers. Pure functions over host tensors.
 */
public final class PlugIn {
    private PlugIn() {}

    /**
     * Checks that {@code parentTensors} is the model {@code d} was derived from (content hash), so
     * an adapter is not plugged into the wrong model.
     *
     * @throws IllegalArgumentException naming both hashes
     */
    public static void checkParent(Derivation d, Map<String, HostTensor> parentTensors) {
        String h = ContentHash.sha256(parentTensors);
        checkArgument(h.equals(d.parentSha256()), "this model (weights sha256 %s) is not the parent of the derived "
                + "model (derivation.json names parent %s); plug in to the model it was derived from", h,
                d.parentSha256());
    }

    /**
     * LoRA factors of the derived model ({@code "<module>.lora_A"} {@code [r, in]} / {@code
     * ".lora_B"} {@code [out, r]}) as factors of the parent, for every parent module {@code lora}
     * targets (in model order).
     *
     * @param parent the parent's config
     * @param lora the adapter's config (rank and target modules; the scale carries over unchanged)
     * @param derivedFactors factors keyed by the derived model's module names
     */
    public static Map<String, HostTensor> transplantLora(Derivation d, ModelConfig parent, LoraConfig lora,
            Map<String, HostTensor> derivedFactors) {
        checkArgument(d.parentLayers() == parent.numLayers(), "derivation parent has %s layers, this model %s",
                d.parentLayers(), parent.numLayers());
        BlockLayout parentLayout = DecoderLayouts.of(parent);
        Map<String, HostTensor> mapped = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : derivedFactors.entrySet()) {
            String key = e.getKey();
            boolean isA = key.endsWith(".lora_A");
            checkArgument(isA || key.endsWith(".lora_B"), "adapter tensor %s is neither lora_A nor lora_B", key);
            String module = key.substring(0, key.lastIndexOf('.'));
            int j = SubModels.layerOf(parentLayout, module + ".weight"); // same naming scheme as the derived model
            if (j < 0) {
                mapped.put(key, e.getValue()); // outside the blocks (e.g. lm_head): same name, same shape
                continue;
            }
            checkArgument(j < d.layerMap().length, "adapter tensor %s names derived block %s of %s", key, j,
                    d.layerMap().length);
            int i = d.parentLayer(j);
            String rest = module.substring(parentLayout.layerPrefix(j).length());
            String parentModule = parentLayout.layerPrefix(i) + rest;
            HostTensor t = e.getValue();
            BlockLayout.NeuronAxis axis = neuronAxis(parentLayout, i, parentModule + ".weight");
            if (axis != null && d.keptNeurons().containsKey(j)) {
                int[] kept = d.keptNeurons(j);
                int width = d.parentFfnWidths().get(i);
                // neurons are the module's outputs (gate/up/c_fc): rows of B; its inputs (down/c_proj): columns of A
                if (!axis.output() && !isA) {
                    t = NeuronSlices.scatterIntoZeros(new long[] {width, t.shape()[1]}, check(t, 0, kept, key), 0, kept);
                } else if (axis.output() && isA) {
                    t = NeuronSlices.scatterIntoZeros(new long[] {t.shape()[0], width}, check(t, 1, kept, key), 1, kept);
                }
            }
            mapped.put(parentModule + (isA ? ".lora_A" : ".lora_B"), t);
        }
        // every targeted parent module: the mapped factors, or zeros for a dropped block
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (LinearModule mod : DecoderModel.linearModules(parent)) {
            if (!lora.matches(mod.name())) {
                continue;
            }
            HostTensor a = mapped.remove(mod.name() + ".lora_A");
            HostTensor b = mapped.remove(mod.name() + ".lora_B");
            int layer = SubModels.layerOf(parentLayout, mod.name() + ".weight");
            if (a == null && b == null && d.derivedLayer(layer) < 0) {
                a = new HostTensor(new long[] {lora.rank(), mod.inFeatures()}, new float[lora.rank() * mod.inFeatures()]);
                b = new HostTensor(new long[] {mod.outFeatures(), lora.rank()}, new float[mod.outFeatures() * lora.rank()]);
            }
            checkArgument(a != null && b != null, "the derived adapter has no lora_A/lora_B for %s (parent module %s), "
                    + "which lora.target_modules=%s targets", describeDerived(d, parentLayout, mod.name()), mod.name(),
                    lora.targetModules());
            out.put(mod.name() + ".lora_A", a);
            out.put(mod.name() + ".lora_B", b);
        }
        mapped.entrySet().removeIf(e -> SubModels.layerOf(parentLayout, e.getKey()) < 0 && put(out, e));
        checkArgument(mapped.isEmpty(), "adapter tensors %s map to no parent module targeted by %s", mapped.keySet(),
                lora.targetModules());
        return out;
    }

    private static boolean put(Map<String, HostTensor> out, Map.Entry<String, HostTensor> e) {
        out.put(e.getKey(), e.getValue());
        return true;
    }

    private static String describeDerived(Derivation d, BlockLayout parentLayout, String parentModule) {
        int i = SubModels.layerOf(parentLayout, parentModule + ".weight");
        int j = d.derivedLayer(i);
        return j < 0 ? parentModule : parentLayout.layerPrefix(j) + parentModule.substring(parentLayout.layerPrefix(i).length());
    }

    private static HostTensor check(HostTensor t, int axis, int[] kept, String key) {
        checkArgument(t.shape().length == 2 && t.shape()[axis] == kept.length, "%s has shape %s, but its FFN kept %s "
                + "neurons (axis %s)", key, Arrays.toString(t.shape()), kept.length, axis);
        return t;
    }

    private static BlockLayout.NeuronAxis neuronAxis(BlockLayout layout, int layer, String tensor) {
        for (BlockLayout.NeuronAxis a : layout.ffnTensors(layer)) {
            if (a.tensor().equals(tensor)) {
                return a;
            }
        }
        return null;
    }

    /**
     * The parent's tensors with the dense changes of derived tensors added: for each name in {@code
     * derivedAfter}, {@code delta = after − before} goes to the parent tensor of the same role
     * (block {@code j} → block {@code layerMap[j]}; pruned FFN slices → the kept neuron indices;
     * tensors outside the blocks by name). Parent tensors not touched are the same objects as in
     * {@code parentTensors}.
     *
     * @param derivedBefore the derived model's tensors before training (e.g. {@link
     *     DerivedModel#tensors})
     * @param derivedAfter the trained tensors (e.g. {@link dev.understudy.ops.train.Trainables#exportChanged})
     */
    public static Map<String, HostTensor> mergeDense(Derivation d, ModelConfig parent,
            Map<String, HostTensor> parentTensors, Map<String, HostTensor> derivedBefore,
            Map<String, HostTensor> derivedAfter) {
        BlockLayout layout = DecoderLayouts.of(parent);
        Map<String, HostTensor> out = new LinkedHashMap<>(parentTensors);
        for (Map.Entry<String, HostTensor> e : derivedAfter.entrySet()) {
            String name = e.getKey();
            HostTensor before = derivedBefore.get(name);
            checkArgument(before != null, "derived tensor %s has no value before training", name);
            HostTensor after = e.getValue();
            checkArgument(Arrays.equals(after.shape(), before.shape()), "tensor %s changed shape from %s to %s", name,
                    Arrays.toString(before.shape()), Arrays.toString(after.shape()));
            int j = SubModels.layerOf(layout, name);
            String target = name;
            if (j >= 0) {
                checkArgument(j < d.layerMap().length, "tensor %s names derived block %s of %s", name, j,
                        d.layerMap().length);
                int i = d.parentLayer(j);
                target = layout.layerPrefix(i) + name.substring(layout.layerPrefix(j).length());
            }
            HostTensor base = out.get(target);
            checkArgument(base != null, "derived tensor %s maps to %s, which the parent does not have", name, target);
            BlockLayout.NeuronAxis a = j >= 0 ? neuronAxis(layout, d.parentLayer(j), target) : null;
            if (a != null && d.keptNeurons().containsKey(j)) {
                // the kept slices in place; elsewhere before == after == the parent's value (no change)
                int[] kept = d.keptNeurons(j);
                before = NeuronSlices.scatter(base, before, a.axis(), kept);
                after = NeuronSlices.scatter(base, after, a.axis(), kept);
            }
            out.put(target, applyDelta(base, before, after, target));
        }
        return out;
    }

    /**
     * Per entry: unchanged → the parent's value (bit-identical); parent equal to the derived value
     * before training → the trained value exactly; otherwise parent + (after − before).
     */
    private static HostTensor applyDelta(HostTensor base, HostTensor before, HostTensor after, String name) {
        checkArgument(Arrays.equals(base.shape(), after.shape()), "cannot merge a %s tensor into parent tensor %s of "
                + "shape %s", Arrays.toString(after.shape()), name, Arrays.toString(base.shape()));
        float[] p = base.values();
        float[] b = before.values();
        float[] t = after.values();
        float[] v = p.clone();
        for (int k = 0; k < v.length; k++) {
            if (t[k] != b[k]) {
                v[k] = p[k] == b[k] ? t[k] : p[k] + (t[k] - b[k]);
            }
        }
        return new HostTensor(base.shape().clone(), v);
    }
}
