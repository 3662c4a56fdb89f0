package dev.understudy.ops.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/** Reads the JSON files of a Hugging Face tokenizer directory with Gson; messages name the file. */
final class TokenizerFiles {
    private TokenizerFiles() {}

    /** Token ↔ id tables of a {@code tokenizer.json}, added tokens included. */
    static final class Vocabulary {
        final String[] idToToken;
        final Map<String, Integer> ids;
        final boolean[] special;
        /** {@code model.unk_token}, or null. */
        final String modelUnk;
        /** {@code post_processor}, or null. */
        final JsonElement postProcessor;

        Vocabulary(String[] idToToken, Map<String, Integer> ids, boolean[] special, String modelUnk, JsonElement post) {
            this.idToToken = idToToken;
            this.ids = ids;
            this.special = special;
            this.modelUnk = modelUnk;
            this.postProcessor = post;
        }
    }

    /** Parses JSON text into an object or fails naming {@code source}. */
    static JsonObject parseObject(String json, String source) throws ModelFormatException {
        try {
            JsonElement el = JsonParser.parseString(json);
            if (!el.isJsonObject()) {
                throw new ModelFormatException(source + " is not a JSON object");
            }
            return el.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new ModelFormatException(source + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** Reads and parses {@code file}, or returns null when it does not exist. */
    static JsonObject readOptional(Path file) throws ModelFormatException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return parseObject(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (ModelFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new ModelFormatException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Vocab of {@code model} ({@code vocab} object for BPE/WordPiece/WordLevel, {@code [piece,
     * score]} array for Unigram) plus {@code added_tokens}.
     */
    static Vocabulary vocabulary(JsonObject root, String source) throws ModelFormatException {
        try {
            JsonElement modelEl = root.get("model");
            if (modelEl == null || !modelEl.isJsonObject()) {
                throw new ModelFormatException(source + ": missing object field 'model'");
            }
            JsonObject model = modelEl.getAsJsonObject();
            JsonElement vocabEl = model.get("vocab");
            Map<String, Integer> ids = new HashMap<>();
            if (vocabEl != null && vocabEl.isJsonObject()) {
                for (Map.Entry<String, JsonElement> e : vocabEl.getAsJsonObject().entrySet()) {
                    ids.put(e.getKey(), e.getValue().getAsInt());
                }
            } else if (vocabEl != null && vocabEl.isJsonArray()) {
                JsonArray pieces = vocabEl.getAsJsonArray();
                for (int id = 0; id < pieces.size(); id++) {
                    ids.putIfAbsent(pieces.get(id).getAsJsonArray().get(0).getAsString(), id);
                }
            } else {
                throw new ModelFormatException(source + ": model has no 'vocab' object or array");
            }
            Map<Integer, Boolean> specialById = new HashMap<>();
            JsonElement addedEl = root.get("added_tokens");
            if (addedEl != null && addedEl.isJsonArray()) {
                for (JsonElement el : addedEl.getAsJsonArray()) {
                    JsonObject t = el.getAsJsonObject();
                    int id = t.get("id").getAsInt();
                    ids.put(t.get("content").getAsString(), id);
                    JsonElement sp = t.get("special");
                    specialById.put(id, sp != null && sp.isJsonPrimitive() && sp.getAsBoolean());
                }
            }
            int maxId = -1;
            for (int id : ids.values()) {
                if (id < 0) {
                    throw new ModelFormatException(source + ": negative token id " + id);
                }
                maxId = Math.max(maxId, id);
            }
            String[] idToToken = new String[maxId + 1];
            // Several strings may share an id (an added token re-declaring a vocab entry); keep the
            // lexicographically smallest so the choice does not depend on hash order.
            ids.forEach((token, id) -> {
                if (idToToken[id] == null || token.compareTo(idToToken[id]) < 0) {
                    idToToken[id] = token;
                }
            });
            boolean[] special = new boolean[maxId + 1];
            specialById.forEach((id, sp) -> special[id] = sp);
            String unk = model.has("unk_token") && model.get("unk_token").isJsonPrimitive()
                    ? model.get("unk_token").getAsString()
                    : null;
            JsonElement post = root.get("post_processor");
            return new Vocabulary(idToToken, ids, special, unk, post == null || post.isJsonNull() ? null : post);
        } catch (ClassCastException | IllegalStateException | UnsupportedOperationException | NullPointerException e) {
            throw new ModelFormatException(source + ": unexpected structure: " + e, e);
        }
    }

    /** A special-token entry: a string, {@code {"content": ...}}, or null/absent (→ null). */
    static String tokenString(JsonObject o, String field, String source) throws ModelFormatException {
        if (o == null) {
            return null;
        }
        JsonElement el = o.get(field);
        if (el == null || el.isJsonNull()) {
            return null;
        }
        if (el.isJsonPrimitive() && el.getAsJsonPrimitive().isString()) {
            return el.getAsString();
        }
        if (el.isJsonObject() && el.getAsJsonObject().has("content")) {
            return el.getAsJsonObject().get("content").getAsString();
        }
        throw new ModelFormatException(source + ": '" + field + "' must be a string or {\"content\": ...}, got " + el);
    }

    /** An id entry of config.json: an int, a list of ints (first wins), or null/absent. */
    static OptionalInt tokenId(JsonObject o, String field, String source) throws ModelFormatException {
        if (o == null) {
            return OptionalInt.empty();
        }
        JsonElement el = o.get(field);
        if (el == null || el.isJsonNull()) {
            return OptionalInt.empty();
        }
        if (el.isJsonArray()) {
            JsonArray a = el.getAsJsonArray();
            if (a.isEmpty()) {
                return OptionalInt.empty();
            }
            el = a.get(0);
        }
        if (el.isJsonPrimitive() && el.getAsJsonPrimitive().isNumber()) {
            return OptionalInt.of(el.getAsInt());
        }
        throw new ModelFormatException(source + ": '" + field + "' must be an int or a list of ints, got " + el);
    }

    /** A boolean field, or null when absent/null. */
    static Boolean bool(JsonObject o, String field, String source) throws ModelFormatException {
        if (o == null || !o.has(field) || o.get(field).isJsonNull()) {
            return null;
        }
        JsonElement el = o.get(field);
        if (el.isJsonPrimitive() && el.getAsJsonPrimitive().isBoolean()) {
            return el.getAsBoolean();
        }
        throw new ModelFormatException(source + ": '" + field + "' must be true or false, got " + el);
    }

    /**
     * {@code model_max_length}, empty when absent or when it is transformers' "unset" marker (a huge
     * float such as 1e30).
     */
    static OptionalInt modelMaxLength(JsonObject o, String source) throws ModelFormatException {
        if (o == null || !o.has("model_max_length") || o.get("model_max_length").isJsonNull()) {
            return OptionalInt.empty();
        }
        JsonElement el = o.get("model_max_length");
        if (!el.isJsonPrimitive() || !el.getAsJsonPrimitive().isNumber()) {
            throw new ModelFormatException(source + ": 'model_max_length' must be a number, got " + el);
        }
        double v = el.getAsDouble();
        return v >= 1 && v <= Integer.MAX_VALUE ? OptionalInt.of((int) v) : OptionalInt.empty();
    }

    /**
     * Whether a {@code TemplateProcessing} post-processor (alone or inside a {@code Sequence}) puts
     * token {@code id} first ({@code atStart}) or last in its {@code single} template; this is how
     * tokenizer.json files such as Llama 3's express "add BOS".
     */
    static boolean templateAdds(JsonElement post, int id, boolean atStart) {
        if (post == null || !post.isJsonObject()) {
            return false;
        }
        JsonObject p = post.getAsJsonObject();
        String type = p.has("type") ? p.get("type").getAsString() : "";
        if ("Sequence".equals(type) && p.has("processors")) {
            for (JsonElement child : p.getAsJsonArray("processors")) {
                if (templateAdds(child, id, atStart)) {
                    return true;
                }
            }
            return false;
        }
        if (!"TemplateProcessing".equals(type) || !p.has("single") || !p.get("single").isJsonArray()) {
            return false;
        }
        JsonArray single = p.getAsJsonArray("single");
        if (single.isEmpty()) {
            return false;
        }
        JsonObject piece = single.get(atStart ? 0 : single.size() - 1).getAsJsonObject();
        if (!piece.has("SpecialToken")) {
            return false;
        }
        String name = piece.getAsJsonObject("SpecialToken").get("id").getAsString();
        JsonObject specials = p.has("special_tokens") ? p.getAsJsonObject("special_tokens") : null;
        if (specials == null || !specials.has(name)) {
            return false;
        }
        JsonArray ids = specials.getAsJsonObject(name).getAsJsonArray("ids");
        return ids != null && ids.size() == 1 && ids.get(0).getAsInt() == id;
    }
}
