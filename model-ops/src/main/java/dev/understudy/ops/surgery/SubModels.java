package dev.understudy.ops.surgery;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Sub-model construction: pure functions from a model (config + on-disk tensors) to a derived model
 * plus its {@link Derivation}. Nothing here touches the parent's tensors; derived tensors are fresh
 * copies.
 */
public final class SubModels {
    private SubModels() {}

    /** The parent's FFN widths, one per layer. */
    public static List<Integer> widths(ModelConfig c) {
        List<Integer> w = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            w.add(c.intermediateSize(i));
        }
        return w;
    }

    /**
     * Keeps, in every layer listed in {@code keep}, only the FFN neurons given (ascending), slicing
     * the input rows, output columns and per-neuron biases together ({@link BlockLayout#ffnTensors});
     * every other tensor is copied unchanged. Layers not in {@code keep} keep all their neurons.
     */
    public static DerivedModel pruneFfn(ModelConfig config, Map<String, HostTensor> tensors,
            Map<Integer, int[]> keep, String method, JsonObject params) {
        BlockLayout layout = DecoderLayouts.of(config);
        Map<String, HostTensor> out = new LinkedHashMap<>(tensors);
        List<Integer> widths = new ArrayList<>(widths(config));
        Map<Integer, int[]> kept = new TreeMap<>();
        for (Map.Entry<Integer, int[]> e : keep.entrySet()) {
            int layer = e.getKey();
            checkArgument(layer >= 0 && layer < config.numLayers(), "cannot prune layer %s of %s", layer,
                    config.numLayers());
            int[] k = e.getValue();
            for (BlockLayout.NeuronAxis t : layout.ffnTensors(layer)) {
                out.put(t.tensor(), NeuronSlices.select(Saliency.require(tensors, t.tensor()), t.axis(), k));
            }
            widths.set(layer, k.length);
            kept.put(layer, k.clone());
        }
        String parent = ContentHash.sha256(tensors);
        int[] identity = new int[config.numLayers()];
        for (int i = 0; i < identity.length; i++) {
            identity[i] = i;
        }
        Derivation d = new Derivation(parent, config.numLayers(), widths(config), identity, kept, method, params);
        return new DerivedModel(config.withIntermediateSizes(widths), out, d);
    }

    /**
     * FedPFT's layer-wise FFN compression (methods.md §2(a), Step A): in every layer except {@code
     * exempt}, keeps the {@code k} neurons of highest {@link Saliency#weight} in original order.
     */
    public static DerivedModel pruneBySaliency(ModelConfig config, Map<String, HostTensor> tensors, int k,
            Set<Integer> exempt) {
        BlockLayout layout = DecoderLayouts.of(config);
        Map<Integer, int[]> keep = new TreeMap<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            if (!exempt.contains(layer)) {
                checkArgument(k <= layout.ffnWidth(layer), "cannot keep %s of the %s FFN neurons of layer %s", k,
                        layout.ffnWidth(layer), layer);
                keep.put(layer, Saliency.topK(Saliency.weight(layout, tensors, layer), k));
            }
        }
        JsonObject params = new JsonObject();
        params.addProperty("saliency", "weight_l2");
        params.addProperty("neurons_per_layer", k);
        params.add("exempt_layers", ints(exempt.stream().sorted().mapToInt(Integer::intValue).toArray()));
        return pruneFfn(config, tensors, keep, "ffn_prune", params);
    }

    /**
     * Activation-aware variant (<b>ours</b>, {@link Saliency#activationAware}): as {@link
     * #pruneBySaliency} with scores from calibration statistics.
     *
     * @param meanSquare layer → per-neuron {@code mean a²} on the calibration data ({@link
     *     CalibrationStats#meanSquare})
     */
    public static DerivedModel pruneByActivation(ModelConfig config, Map<String, HostTensor> tensors, int k,
            Set<Integer> exempt, Map<Integer, double[]> meanSquare, long calibrationTokens) {
        BlockLayout layout = DecoderLayouts.of(config);
        Map<Integer, int[]> keep = new TreeMap<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            if (!exempt.contains(layer)) {
                double[] ms = meanSquare.get(layer);
                checkArgument(ms != null, "no calibration statistics for layer %s", layer);
                keep.put(layer, Saliency.topK(Saliency.activationAware(layout, tensors, layer, ms), k));
            }
        }
        JsonObject params = new JsonObject();
        params.addProperty("saliency", "activation_rms_x_output_l2 (ours)");
        params.addProperty("neurons_per_layer", k);
        params.add("exempt_layers", ints(exempt.stream().sorted().mapToInt(Integer::intValue).toArray()));
        params.addProperty("calibration_tokens", calibrationTokens);
        return pruneFfn(config, tensors, keep, "ffn_prune_activation", params);
    }

    /**
     * Keeps the blocks {@code keptLayers} (strictly increasing parent indices) and renumbers them
     * {@code 0..k−1}; embeddings, final norm and LM head are copied.
     */
    public static DerivedModel dropLayers(ModelConfig config, Map<String, HostTensor> tensors, int[] keptLayers,
            String method, JsonObject params) {
        BlockLayout layout = DecoderLayouts.of(config);
        Map<Integer, Integer> newIndex = new HashMap<>();
        for (int j = 0; j < keptLayers.length; j++) {
            newIndex.put(keptLayers[j], j);
        }
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            int layer = layerOf(layout, e.getKey());
            if (layer < 0) {
                out.put(e.getKey(), e.getValue());
            } else if (newIndex.containsKey(layer)) {
                String rest = e.getKey().substring(layout.layerPrefix(layer).length());
                out.put(layout.layerPrefix(newIndex.get(layer)) + rest, e.getValue());
            }
        }
        List<Integer> widths = new ArrayList<>();
        for (int i : keptLayers) {
            widths.add(config.intermediateSize(i));
        }
        JsonObject p = params == null ? new JsonObject() : params.deepCopy();
        p.add("kept_layers", ints(keptLayers));
        Derivation d = new Derivation(ContentHash.sha256(tensors), config.numLayers(), widths(config), keptLayers,
                Map.of(), method, p);
        return new DerivedModel(config.withLayers(widths), out, d);
    }

    /** Offsite-Tuning's emulator {@code l-k-r} by uniform stride (methods.md §0.5, §4(a)). */
    public static DerivedModel emulator(ModelConfig config, Map<String, HostTensor> tensors, int bottom, int k,
            int top) {
        JsonObject p = new JsonObject();
        p.addProperty("bottom", bottom);
        p.addProperty("middle_kept", k);
        p.addProperty("top", top);
        return dropLayers(config, tensors, LayerMaps.emulator(config.numLayers(), bottom, k, top),
                "layer_drop_uniform", p);
    }

    /**
     * FedProxy / ShortGPT compression (methods.md §3): removes the lowest-BI blocks until {@code
     * keep} remain, never an {@code exempt} one.
     */
    public static DerivedModel dropByBlockInfluence(ModelConfig config, Map<String, HostTensor> tensors, double[] bi,
            int keep, Set<Integer> exempt, long calibrationTokens) {
        JsonObject p = new JsonObject();
        JsonArray scores = new JsonArray();
        for (double b : bi) {
            scores.add(b);
        }
        p.add("block_influence", scores);
        p.addProperty("calibration_tokens", calibrationTokens);
        p.add("exempt_layers", ints(exempt.stream().sorted().mapToInt(Integer::intValue).toArray()));
        return dropLayers(config, tensors, LayerMaps.keepHighestScores(bi, keep, exempt), "layer_drop_bi", p);
    }

    /** The block a tensor belongs to, or -1 for embeddings, final norm and head. */
    static int layerOf(BlockLayout layout, String name) {
        String p0 = layout.layerPrefix(0);
        String stem = p0.substring(0, p0.length() - 2); // "model.layers."
        if (!name.startsWith(stem)) {
            return -1;
        }
        int dot = name.indexOf('.', stem.length());
        try {
            return Integer.parseInt(name.substring(stem.length(), dot));
        } catch (RuntimeException e) {
            return -1;
        }
    }

    static JsonArray ints(int[] xs) {
        JsonArray a = new JsonArray();
        for (int x : xs) {
            a.add(x);
        }
        return a;
    }

    /** Convenience: a live model's tensors in the on-disk layout. */
    public static Map<String, HostTensor> tensorsOf(DecoderModel model) {
        return model.exportTensors();
    }
}
