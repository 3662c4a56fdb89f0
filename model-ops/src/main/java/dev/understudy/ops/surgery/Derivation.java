package dev.understudy.ops.surgery;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.understudy.ops.util.ModelFormatException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Provenance of a derived model (written as {@code derivation.json} beside its weights): which
 * parent it came from, which of the parent's layers and FFN neurons it kept, and how they were
 * chosen. Plug-in ({@link PlugIn}) and the proxy methods read it to map what was learned on the
 * derived model back onto the parent.
 *
 * @param parentSha256 content hash of the parent's weights ({@link ContentHash})
 * @param parentLayers the parent's number of blocks
 * @param parentFfnWidths the parent's FFN width per block
 * @param layerMap {@code layerMap[j]} = the parent block that derived block {@code j} came from
 *     (strictly increasing: kept blocks stay in order)
 * @param keptNeurons derived block {@code j} → the parent FFN neurons it kept, ascending, for the
 *     blocks whose FFN was pruned; a block absent here kept every neuron
 * @param method what built it, e.g. {@code ffn_prune}, {@code layer_drop_uniform}, {@code
 *     layer_drop_bi}, or several joined by {@code +} (applied left to right)
 * @param params the method's parameters (and, for data-driven methods, the scores it used)
 */
public record Derivation(
        String parentSha256,
        int parentLayers,
        List<Integer> parentFfnWidths,
        int[] layerMap,
        Map<Integer, int[]> keptNeurons,
        String method,
        JsonObject params) {

    public static final String FILE = "derivation.json";
    static final int FORMAT = 1;

    public Derivation {
        checkArgument(parentFfnWidths.size() == parentLayers, "%s FFN widths for %s parent layers",
                parentFfnWidths.size(), parentLayers);
        parentFfnWidths = List.copyOf(parentFfnWidths);
        layerMap = layerMap.clone();
        checkArgument(layerMap.length > 0, "a derived model keeps at least one layer");
        for (int j = 0; j < layerMap.length; j++) {
            checkArgument(layerMap[j] >= 0 && layerMap[j] < parentLayers, "layer map entry %s → %s outside [0, %s)", j,
                    layerMap[j], parentLayers);
            checkArgument(j == 0 || layerMap[j] > layerMap[j - 1], "layer map %s is not strictly increasing",
                    Arrays.toString(layerMap));
        }
        TreeMap<Integer, int[]> kept = new TreeMap<>();
        for (Map.Entry<Integer, int[]> e : keptNeurons.entrySet()) {
            int j = e.getKey();
            checkArgument(j >= 0 && j < layerMap.length, "kept neurons for derived layer %s of %s", j, layerMap.length);
            int width = parentFfnWidths.get(layerMap[j]);
            int[] k = e.getValue().clone();
            checkArgument(k.length > 0, "derived layer %s keeps no FFN neuron", j);
            for (int i = 0; i < k.length; i++) {
                checkArgument(k[i] >= 0 && k[i] < width && (i == 0 || k[i] > k[i - 1]),
                        "kept neurons of derived layer %s must be ascending indices in [0, %s)", j, width);
            }
            kept.put(j, k);
        }
        keptNeurons = Collections.unmodifiableMap(kept);
        params = params == null ? new JsonObject() : params.deepCopy();
    }

    /** Derived block {@code j}'s parent block. */
    public int parentLayer(int j) {
        return layerMap[j];
    }

    /** The derived block that parent block {@code i} became, or -1 if it was dropped. */
    public int derivedLayer(int parentLayer) {
        for (int j = 0; j < layerMap.length; j++) {
            if (layerMap[j] == parentLayer) {
                return j;
            }
        }
        return -1;
    }

    /** The parent neurons derived block {@code j} kept (all of them when it was not pruned). */
    public int[] keptNeurons(int j) {
        int[] k = keptNeurons.get(j);
        if (k != null) {
            return k.clone();
        }
        int[] all = new int[parentFfnWidths.get(layerMap[j])];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return all;
    }

    /** Whether derived block {@code j}'s FFN is a strict subset of its parent block's. */
    public boolean isPruned(int j) {
        return keptNeurons.containsKey(j) && keptNeurons.get(j).length < parentFfnWidths.get(layerMap[j]);
    }

    /** The parent's layer map and widths with nothing removed (the identity derivation). */
    public static Derivation identity(String parentSha256, List<Integer> widths) {
        int[] map = new int[widths.size()];
        for (int i = 0; i < map.length; i++) {
            map[i] = i;
        }
        return new Derivation(parentSha256, widths.size(), widths, map, Map.of(), "identity", new JsonObject());
    }

    /**
     * This derivation followed by {@code next} (which was applied to the model this one produced):
     * layer maps and kept neurons compose, and the result names this derivation's parent.
     */
    public Derivation then(Derivation next) {
        checkArgument(next.parentLayers == layerMap.length, "cannot compose: the next step's parent has %s layers, "
                + "this derivation produced %s", next.parentLayers, layerMap.length);
        int[] map = new int[next.layerMap.length];
        Map<Integer, int[]> kept = new TreeMap<>();
        for (int j = 0; j < map.length; j++) {
            int mid = next.layerMap[j];
            map[j] = layerMap[mid];
            if (keptNeurons.containsKey(mid) || next.keptNeurons.containsKey(j)) {
                int[] first = keptNeurons(mid);
                int[] second = next.keptNeurons(j);
                int[] both = new int[second.length];
                for (int i = 0; i < second.length; i++) {
                    both[i] = first[second[i]];
                }
                kept.put(j, both);
            }
        }
        JsonObject p = new JsonObject();
        p.add(method, params);
        p.add(next.method, next.params);
        String m = method.equals("identity") ? next.method : method + "+" + next.method;
        return new Derivation(parentSha256, parentLayers, parentFfnWidths, map, kept, m,
                method.equals("identity") ? next.params : p);
    }

    /** The JSON document of {@code derivation.json}. */
    public JsonObject toJson() {
        JsonObject j = new JsonObject();
        j.addProperty("format", FORMAT);
        j.addProperty("method", method);
        JsonObject parent = new JsonObject();
        parent.addProperty("sha256", parentSha256);
        parent.addProperty("num_layers", parentLayers);
        JsonArray widths = new JsonArray();
        parentFfnWidths.forEach(widths::add);
        parent.add("ffn_widths", widths);
        j.add("parent", parent);
        JsonArray map = new JsonArray();
        for (int i : layerMap) {
            map.add(i);
        }
        j.add("layer_map", map);
        JsonObject kept = new JsonObject();
        for (Map.Entry<Integer, int[]> e : keptNeurons.entrySet()) {
            JsonArray a = new JsonArray();
            for (int i : e.getValue()) {
                a.add(i);
            }
            kept.add(Integer.toString(e.getKey()), a);
        }
        j.add("kept_neurons", kept);
        j.add("params", params.deepCopy());
        return j;
    }

    /** Parses {@code derivation.json}; {@code source} names the file in errors. */
    public static Derivation fromJson(JsonObject j, String source) throws ModelFormatException {
        try {
            int format = j.get("format").getAsInt();
            if (format != FORMAT) {
                throw new ModelFormatException(source + ": derivation format " + format + " is not supported (expected "
                        + FORMAT + ")");
            }
            JsonObject parent = j.getAsJsonObject("parent");
            List<Integer> widths = new java.util.ArrayList<>();
            for (JsonElement e : parent.getAsJsonArray("ffn_widths")) {
                widths.add(e.getAsInt());
            }
            JsonArray mapJson = j.getAsJsonArray("layer_map");
            int[] map = new int[mapJson.size()];
            for (int i = 0; i < map.length; i++) {
                map[i] = mapJson.get(i).getAsInt();
            }
            Map<Integer, int[]> kept = new TreeMap<>();
            for (Map.Entry<String, JsonElement> e : j.getAsJsonObject("kept_neurons").entrySet()) {
                JsonArray a = e.getValue().getAsJsonArray();
                int[] k = new int[a.size()];
                for (int i = 0; i < k.length; i++) {
                    k[i] = a.get(i).getAsInt();
                }
                kept.put(Integer.parseInt(e.getKey()), k);
            }
            return new Derivation(parent.get("sha256").getAsString(), parent.get("num_layers").getAsInt(), widths, map,
                    kept, j.get("method").getAsString(), j.getAsJsonObject("params"));
        } catch (RuntimeException e) {
            throw new ModelFormatException(source + ": malformed derivation record (" + e.getMessage() + "); it must "
                    + "have format, method, parent{sha256,num_layers,ffn_widths}, layer_map, kept_neurons, params", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Derivation d)) {
            return false;
        }
        if (!parentSha256.equals(d.parentSha256) || parentLayers != d.parentLayers
                || !parentFfnWidths.equals(d.parentFfnWidths) || !Arrays.equals(layerMap, d.layerMap)
                || !method.equals(d.method) || !params.equals(d.params)
                || !keptNeurons.keySet().equals(d.keptNeurons.keySet())) {
            return false;
        }
        for (Integer k : keptNeurons.keySet()) {
            if (!Arrays.equals(keptNeurons.get(k), d.keptNeurons.get(k))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return parentSha256.hashCode() * 31 + Arrays.hashCode(layerMap);
    }
}
