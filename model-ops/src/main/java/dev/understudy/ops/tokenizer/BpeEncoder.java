package dev.understudy.ops.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.understudy.ops.util.ModelFormatException;
import dev.understudy.ops.util.Preconditions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;

/**
 * Pure-Java GPT-2 byte-level BPE encoder and decoder. It gives the same ids as HF tokenizers for the
 * byte-level BPE files {@link TokenizerSpec} writes (and for GPT-2-style files in general), so text
 * can be tokenized where the DJL natives are unavailable, and {@link Tokenizer} can be checked
 * against an independent implementation.
 *
 * <p>Encoding: (1) split out added tokens (leftmost, then longest match, as HF's added vocabulary
 * does), (2) split the rest with the GPT-2 regex, (3) write each piece's UTF-8 bytes as byte-chars,
 * (4) repeatedly merge the adjacent pair with the lowest merge rank, all its occurrences left to right.
 * Merged token id = vocab id of the concatenated string, as in HF's BPE model.
 *
 * <p>Thread-safe (immutable apart from a concurrent per-piece cache).
 */
public final class BpeEncoder {
    private static final int CACHE_LIMIT = 100_000;

    private final String[] idToToken;
    private final Map<String, Integer> tokenToId;
    private final int[] byteIds = new int[256];
    /** (left id, right id) → {rank, merged id}. */
    private final Map<Long, int[]> merges;
    /** Added tokens by content; matched in raw text before pre-tokenization. */
    private final Map<String, Integer> added;
    private final boolean[] special;
    private final boolean ignoreMerges;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeEncoder(
            String[] idToToken,
            Map<String, Integer> tokenToId,
            Map<Long, int[]> merges,
            Map<String, Integer> added,
            boolean[] special,
            boolean ignoreMerges,
            String source)
            throws ModelFormatException {
        this.idToToken = idToToken;
        this.tokenToId = tokenToId;
        this.merges = merges;
        this.added = added;
        this.special = special;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) {
            Integer id = tokenToId.get(String.valueOf(ByteLevel.byteChar(b)));
            if (id == null) {
                throw new ModelFormatException(String.format(
                        "%s: vocab has no token for byte 0x%02x ('%s'); a byte-level BPE needs all 256",
                        source, b, ByteLevel.byteChar(b)));
            }
            byteIds[b] = id;
        }
    }

    /** Builds the encoder of a {@link TokenizerSpec}. */
    static BpeEncoder of(List<String> tokens, List<String[]> mergeList, List<String> specialTokens) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            ids.put(tokens.get(i), i);
        }
        Map<String, Integer> addedTokens = new HashMap<>();
        boolean[] special = new boolean[tokens.size()];
        for (String s : specialTokens) {
            addedTokens.put(s, ids.get(s));
            special[ids.get(s)] = true;
        }
        try {
            return new BpeEncoder(
                    tokens.toArray(new String[0]),
                    ids,
                    mergeTable(mergeList, ids, "spec"),
                    addedTokens,
                    special,
                    false,
                    "spec");
        } catch (ModelFormatException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Reads a byte-level BPE {@code tokenizer.json}: model {@code BPE} without dropout, unk
     * fallback, subword prefix/suffix or byte fallback; normalizer null; pre-tokenizer {@code
     * ByteLevel(add_prefix_space=false, use_regex=true)}. Other files are rejected with a message
     * naming the file and the unsupported feature (use {@link Tokenizer} for those).
     */
    public static BpeEncoder load(Path tokenizerJson) throws ModelFormatException {
        Preconditions.checkNotNull(tokenizerJson, "tokenizerJson");
        String text;
        try {
            text = Files.readString(tokenizerJson, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException("Tokenizer file not found: " + tokenizerJson, e);
        } catch (IOException e) {
            throw new ModelFormatException("Cannot read " + tokenizerJson + ": " + e.getMessage(), e);
        }
        return fromJson(text, tokenizerJson.toString());
    }

    /** Like {@link #load} from JSON text; {@code source} names it in error messages. */
    public static BpeEncoder fromJson(String json, String source) throws ModelFormatException {
        JsonObject root;
        try {
            root = JsonParser.parseString(json).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new ModelFormatException(source + " is not valid JSON: " + e.getMessage(), e);
        }
        JsonObject model = obj(root, "model", source);
        require(model.has("type") && "BPE".equals(model.get("type").getAsString()), source, "model.type must be BPE");
        require(isNullOr(model, "dropout"), source, "BPE dropout is not supported");
        require(isNullOr(model, "continuing_subword_prefix"), source, "continuing_subword_prefix is not supported");
        require(isNullOr(model, "end_of_word_suffix"), source, "end_of_word_suffix is not supported");
        require(!isTrue(model, "byte_fallback"), source, "byte_fallback is not supported");
        require(isNullOr(root, "normalizer"), source, "a normalizer is not supported");
        JsonObject pre = root.has("pre_tokenizer") && root.get("pre_tokenizer").isJsonObject()
                ? root.getAsJsonObject("pre_tokenizer")
                : null;
        require(
                pre != null
                        && "ByteLevel".equals(pre.get("type").getAsString())
                        && !isTrue(pre, "add_prefix_space")
                        && (!pre.has("use_regex") || isTrue(pre, "use_regex")),
                source,
                "pre_tokenizer must be ByteLevel(add_prefix_space=false, use_regex=true)");

        Map<String, Integer> ids = new HashMap<>();
        int maxId = -1;
        for (Map.Entry<String, JsonElement> e : obj(model, "vocab", source).entrySet()) {
            int id = e.getValue().getAsInt();
            ids.put(e.getKey(), id);
            maxId = Math.max(maxId, id);
        }
        Map<String, Integer> addedTokens = new HashMap<>();
        List<Integer> specialIds = new ArrayList<>();
        if (root.has("added_tokens") && root.get("added_tokens").isJsonArray()) {
            for (JsonElement el : root.getAsJsonArray("added_tokens")) {
                JsonObject t = el.getAsJsonObject();
                String content = t.get("content").getAsString();
                int id = t.get("id").getAsInt();
                require(
                        !isTrue(t, "lstrip") && !isTrue(t, "rstrip") && !isTrue(t, "single_word"),
                        source,
                        "added token '" + content + "' uses lstrip/rstrip/single_word, which is not supported");
                addedTokens.put(content, id);
                ids.put(content, id);
                maxId = Math.max(maxId, id);
                if (isTrue(t, "special")) {
                    specialIds.add(id);
                }
            }
        }
        String[] idToToken = new String[maxId + 1];
        ids.forEach((token, id) -> idToToken[id] = token);
        boolean[] special = new boolean[maxId + 1];
        specialIds.forEach(id -> special[id] = true);

        List<String[]> mergeList = new ArrayList<>();
        JsonElement mergesEl = model.get("merges");
        if (mergesEl != null && mergesEl.isJsonArray()) {
            for (JsonElement m : mergesEl.getAsJsonArray()) {
                if (m.isJsonArray()) {
                    JsonArray pair = m.getAsJsonArray();
                    mergeList.add(new String[] {pair.get(0).getAsString(), pair.get(1).getAsString()});
                } else {
                    String s = m.getAsString();
                    int space = s.indexOf(' ');
                    require(space > 0 && space == s.lastIndexOf(' '), source, "malformed merge '" + s + "'");
                    mergeList.add(new String[] {s.substring(0, space), s.substring(space + 1)});
                }
            }
        }
        return new BpeEncoder(
                idToToken,
                ids,
                mergeTable(mergeList, ids, source),
                addedTokens,
                special,
                isTrue(model, "ignore_merges"),
                source);
    }

    private static Map<Long, int[]> mergeTable(List<String[]> mergeList, Map<String, Integer> ids, String source)
            throws ModelFormatException {
        Map<Long, int[]> table = new HashMap<>();
        for (int rank = 0; rank < mergeList.size(); rank++) {
            String[] m = mergeList.get(rank);
            Integer left = ids.get(m[0]);
            Integer right = ids.get(m[1]);
            Integer merged = ids.get(m[0] + m[1]);
            if (left == null || right == null || merged == null) {
                throw new ModelFormatException(String.format(
                        "%s: merge %d '%s %s' uses a token missing from the vocab", source, rank, m[0], m[1]));
            }
            // A pair listed twice keeps its last rank, as in HF's BPE model (a HashMap collect).
            table.put(key(left, right), new int[] {rank, merged});
        }
        return table;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /** 1 + the largest id (vocab and added tokens). */
    public int vocabSize() {
        return idToToken.length;
    }

    /**
     * Encodes {@code text}; added tokens in the text become their ids, nothing else is added. Unpaired
     * surrogates are encoded as U+FFFD.
     */
    public int[] encode(String text) {
        Preconditions.checkNotNull(text, "text");
        IntList out = new IntList();
        splitAdded(ByteLevel.replaceLoneSurrogates(text), added.keySet(), (segment, isAdded) -> {
            if (isAdded) {
                out.add(added.get(segment));
                return;
            }
            Matcher m = ByteLevel.GPT2_SPLIT.matcher(segment);
            while (m.find()) {
                out.addAll(encodePiece(ByteLevel.toByteChars(m.group())));
            }
        });
        return out.toArray();
    }

    /** Decodes ids to text; invalid UTF-8 becomes U+FFFD. Special tokens are dropped if asked. */
    public String decode(int[] ids, boolean skipSpecial) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            Preconditions.checkArgument(
                    id >= 0 && id < idToToken.length && idToToken[id] != null,
                    "Cannot decode id %s, it is not in the vocabulary [0, %s)",
                    id,
                    idToToken.length);
            if (skipSpecial && special[id]) {
                continue;
            }
            ByteLevel.appendBytes(idToToken[id], bytes);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** Token string of {@code id} (byte-level spelling). */
    public String token(int id) {
        Preconditions.checkArgument(
                id >= 0 && id < idToToken.length && idToToken[id] != null, "No token with id %s", id);
        return idToToken[id];
    }

    private int[] encodePiece(String byteChars) {
        int[] cached = cache.get(byteChars);
        if (cached != null) {
            return cached;
        }
        int[] result = bpe(byteChars);
        if (cache.size() < CACHE_LIMIT) {
            cache.put(byteChars, result);
        }
        return result;
    }

    private int[] bpe(String byteChars) {
        if (ignoreMerges) {
            Integer whole = tokenToId.get(byteChars);
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int len = byteChars.length();
        int[] s = new int[len];
        for (int i = 0; i < len; i++) {
            s[i] = byteIds[ByteLevel.charByte(byteChars.charAt(i))];
        }
        while (len > 1) {
            int bestRank = Integer.MAX_VALUE;
            int bestLeft = -1;
            int bestRight = -1;
            int bestMerged = -1;
            for (int i = 0; i + 1 < len; i++) {
                int[] m = merges.get(key(s[i], s[i + 1]));
                if (m != null && m[0] < bestRank) {
                    bestRank = m[0];
                    bestLeft = s[i];
                    bestRight = s[i + 1];
                    bestMerged = m[1];
                }
            }
            if (bestMerged < 0) {
                break;
            }
            int out = 0;
            for (int i = 0; i < len; ) {
                if (i + 1 < len && s[i] == bestLeft && s[i + 1] == bestRight) {
                    s[out++] = bestMerged;
                    i += 2;
                } else {
                    s[out++] = s[i++];
                }
            }
            len = out;
        }
        return Arrays.copyOf(s, len);
    }

    /** Receives the segments of {@link #splitAdded}. */
    interface SegmentConsumer {
        void accept(String segment, boolean isAddedToken);
    }

    /**
     * Splits {@code text} around occurrences of {@code addedTokens}: scanning left to right, at each
     * position the longest added token starting there wins (HF's leftmost-longest matching).
     */
    static void splitAdded(String text, Collection<String> addedTokens, SegmentConsumer consumer) {
        if (addedTokens.isEmpty()) {
            if (!text.isEmpty()) {
                consumer.accept(text, false);
            }
            return;
        }
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            String best = null;
            for (String t : addedTokens) {
                if ((best == null || t.length() > best.length()) && text.startsWith(t, i)) {
                    best = t;
                }
            }
            if (best == null) {
                i++;
                continue;
            }
            if (i > start) {
                consumer.accept(text.substring(start, i), false);
            }
            consumer.accept(best, true);
            i += best.length();
            start = i;
        }
        if (start < text.length()) {
            consumer.accept(text.substring(start), false);
        }
    }

    private static JsonObject obj(JsonObject parent, String field, String source) throws ModelFormatException {
        JsonElement el = parent.get(field);
        if (el == null || !el.isJsonObject()) {
            throw new ModelFormatException(source + ": missing or non-object field '" + field + "'");
        }
        return el.getAsJsonObject();
    }

    private static boolean isNullOr(JsonObject o, String field) {
        return !o.has(field) || o.get(field).isJsonNull();
    }

    private static boolean isTrue(JsonObject o, String field) {
        JsonElement el = o.get(field);
        return el != null && el.isJsonPrimitive() && el.getAsJsonPrimitive().isBoolean() && el.getAsBoolean();
    }

    private static void require(boolean ok, String source, String what) throws ModelFormatException {
        if (!ok) {
            throw new ModelFormatException(source + ": " + what);
        }
    }

    /** Growable int array. */
    static final class IntList {
        private int[] data = new int[16];
        private int size;

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }

        void addAll(int[] vs) {
            if (size + vs.length > data.length) {
                data = Arrays.copyOf(data, Math.max(size + vs.length, size * 2));
            }
            System.arraycopy(vs, 0, data, size, vs.length);
            size += vs.length;
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
