package dev.understudy.partition;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Canonical parameter values for plans and manifests: {@code String}, {@code Boolean}, {@code Long},
 * {@code Double} or a {@code List} of those, so that a parameter map equals itself after a JSON
 * round trip (an {@code Integer} 10 would come back as a {@code Long} 10).
 */
final class Params {

    private Params() {}

    static SortedMap<String, Object> normalize(Map<String, ?> params) {
        TreeMap<String, Object> out = new TreeMap<>();
        params.forEach((k, v) -> out.put(k, normalizeValue(k, v)));
        return out;
    }

    private static Object normalizeValue(String key, Object v) {
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Double || v instanceof Float) {
            return ((Number) v).doubleValue();
        }
        if (v instanceof String || v instanceof Boolean) {
            return v;
        }
        if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object e : list) {
                out.add(normalizeValue(key, e));
            }
            return List.copyOf(out);
        }
        throw new IllegalArgumentException("parameter " + key + " has unsupported type "
                + (v == null ? "null" : v.getClass().getSimpleName()));
    }

    static JsonObject toJson(Map<String, Object> params) {
        JsonObject o = new JsonObject();
        params.forEach((k, v) -> o.add(k, toJsonValue(v)));
        return o;
    }

    private static JsonElement toJsonValue(Object v) {
        if (v instanceof List<?> list) {
            JsonArray a = new JsonArray();
            list.forEach(e -> a.add(toJsonValue(e)));
            return a;
        }
        if (v instanceof Number n) {
            return new JsonPrimitive(n);
        }
        if (v instanceof Boolean b) {
            return new JsonPrimitive(b);
        }
        return new JsonPrimitive((String) v);
    }

    static SortedMap<String, Object> fromJson(JsonObject o) {
        TreeMap<String, Object> out = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            out.put(e.getKey(), fromJsonValue(e.getValue()));
        }
        return out;
    }

    private static Object fromJsonValue(JsonElement e) {
        if (e.isJsonArray()) {
            List<Object> out = new ArrayList<>();
            e.getAsJsonArray().forEach(x -> out.add(fromJsonValue(x)));
            return List.copyOf(out);
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        if (p.isBoolean()) {
            return p.getAsBoolean();
        }
        if (p.isNumber()) {
            String text = p.getAsString();
            boolean integral = text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0;
            return integral ? (Object) p.getAsLong() : (Object) p.getAsDouble();
        }
        return p.getAsString();
    }
}
