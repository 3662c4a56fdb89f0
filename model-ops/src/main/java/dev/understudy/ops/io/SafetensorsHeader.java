package dev.understudy.ops.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The parsed and validated JSON header of a safetensors file.
 *
 * <p>Layout (https://github.com/huggingface/safetensors, "Format"): 8 bytes little-endian u64
 * {@code N}, then {@code N} bytes of UTF-8 JSON, then the data section. The JSON maps each tensor
 * name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} with offsets relative to the
 * data section, plus an optional {@code "__metadata__"} string-to-string map. The header may be
 * padded with trailing spaces (HF pads to a multiple of 8; DJL does not pad). Tensors must cover
 * the data section exactly: no gaps, no overlaps, nothing after the last tensor.
 *
 * @param metadata the {@code __metadata__} map in file order (empty when absent)
 * @param tensors the tensors sorted by data offset
 * @param dataLength total bytes of the data section the header describes
 */
record SafetensorsHeader(Map<String, String> metadata, List<Info> tensors, long dataLength) {

    /** HF's own reader refuses headers above 100 MB (safetensors MAX_HEADER_SIZE). */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    /** One tensor's header entry; offsets are relative to the data section. */
    record Info(String name, DType dtype, long[] shape, long begin, long end) {
        long length() {
            return end - begin;
        }

        TensorSpec spec() {
            return new TensorSpec(name, dtype, shape);
        }
    }

    /**
     * Checks the 8-byte header length read from {@code source}.
     *
     * @param fileLength the whole file's length, or -1 when unknown (streams)
     */
    static int checkHeaderLength(long headerLength, long fileLength, String source)
            throws ModelFormatException {
        // The prefix is an unsigned u64; a negative long means a value >= 2^63.
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new ModelFormatException(String.format(
                    "%s: safetensors header length %s is out of range (at most %s bytes); "
                            + "the file is not a safetensors file or is corrupt",
                    source, Long.toUnsignedString(headerLength), MAX_HEADER_BYTES));
        }
        if (headerLength < 2) {
            throw new ModelFormatException(String.format(
                    "%s: safetensors header length %s is too small to hold a JSON object", source, headerLength));
        }
        if (fileLength >= 0 && headerLength > fileLength - 8) {
            throw new ModelFormatException(String.format(
                    "%s: safetensors header length %s exceeds the %s bytes that follow the 8-byte length prefix; "
                            + "the file is truncated or not a safetensors file",
                    source, headerLength, fileLength - 8));
        }
        return (int) headerLength;
    }

    /**
     * Parses and validates a header.
     *
     * @param dataLength the data section's length, or -1 when unknown (streams): the reader then
     *     checks the end of the data itself
     */
    static SafetensorsHeader parse(byte[] headerBytes, String source, long dataLength) throws ModelFormatException {
        String json = decodeUtf8(headerBytes, source);
        Map<String, String> metadata = Collections.emptyMap();
        List<Info> infos = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(Strictness.STRICT);
            if (reader.peek() != JsonToken.BEGIN_OBJECT) {
                throw new ModelFormatException(String.format(
                        "%s: safetensors header must be a JSON object but starts with %s", source, reader.peek()));
            }
            // Walk the top-level object by hand so that duplicate tensor names are caught (a tree
            // parse would silently keep the last one).
            reader.beginObject();
            while (reader.hasNext()) {
                String key = reader.nextName();
                if (!seen.add(key)) {
                    throw new ModelFormatException(String.format(
                            "%s: safetensors header lists '%s' twice", source, key));
                }
                JsonElement value = JsonParser.parseReader(reader);
                if (key.equals(METADATA_KEY)) {
                    metadata = parseMetadata(value, source);
                } else {
                    infos.add(parseInfo(key, value, source, dataLength));
                }
            }
            reader.endObject();
            // Anything but whitespace padding after the object is garbage.
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new ModelFormatException(String.format(
                        "%s: safetensors header has content after the JSON object (%s)", source, reader.peek()));
            }
        } catch (JsonParseException | IOException e) {
            if (e instanceof ModelFormatException mfe) {
                throw mfe;
            }
            // Gson's message carries the position: "... at line 1 column 17 path $.w".
            throw new ModelFormatException(String.format(
                    "%s: safetensors header is not valid JSON: %s", source, e.getMessage()), e);
        }
        long covered = checkCoverage(infos, source, dataLength);
        return new SafetensorsHeader(metadata, List.copyOf(infos), covered);
    }

    private static String decodeUtf8(byte[] bytes, String source) throws ModelFormatException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(String.format(
                    "%s: safetensors header (%s bytes) is not valid UTF-8; the file is not a safetensors file or is corrupt",
                    source, bytes.length), e);
        }
    }

    private static Map<String, String> parseMetadata(JsonElement value, String source) throws ModelFormatException {
        if (!value.isJsonObject()) {
            throw new ModelFormatException(String.format(
                    "%s: %s must be a JSON object of strings, got %s", source, METADATA_KEY, value));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new ModelFormatException(String.format(
                        "%s: %s value of '%s' must be a string, got %s", source, METADATA_KEY, e.getKey(), v));
            }
            metadata.put(e.getKey(), v.getAsString());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Info parseInfo(String name, JsonElement value, String source, long dataLength)
            throws ModelFormatException {
        if (!value.isJsonObject()) {
            throw new ModelFormatException(String.format(
                    "%s: header entry of tensor '%s' must be a JSON object, got %s", source, name, value));
        }
        JsonObject o = value.getAsJsonObject();
        JsonElement dtypeJson = required(o, "dtype", name, source);
        if (!dtypeJson.isJsonPrimitive() || !dtypeJson.getAsJsonPrimitive().isString()) {
            throw new ModelFormatException(String.format(
                    "%s: dtype of tensor '%s' must be a string, got %s", source, name, dtypeJson));
        }
        DType dtype;
        try {
            dtype = DType.fromSafetensors(dtypeJson.getAsString());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(String.format("%s: tensor '%s': %s", source, name, e.getMessage()), e);
        }
        long[] shape = nonNegativeLongs(required(o, "shape", name, source), -1, "shape", name, source);
        long[] offsets = nonNegativeLongs(required(o, "data_offsets", name, source), 2, "data_offsets", name, source);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new ModelFormatException(String.format(
                    "%s: tensor '%s' has data_offsets [%s, %s] with begin after end", source, name, begin, end));
        }
        long expected;
        try {
            expected = Math.multiplyExact(TensorEntry.numel(shape), dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new ModelFormatException(String.format(
                    "%s: tensor '%s' shape %s is too large", source, name, Arrays.toString(shape)), e);
        }
        if (end - begin != expected) {
            throw new ModelFormatException(String.format(
                    "%s: tensor '%s' (%s, shape %s) needs %s bytes but its data_offsets [%s, %s] span %s bytes",
                    source, name, dtype, Arrays.toString(shape), expected, begin, end, end - begin));
        }
        if (dataLength >= 0 && end > dataLength) {
            throw new ModelFormatException(String.format(
                    "%s: tensor '%s' has data_offsets [%s, %s] beyond the end of the data section (%s bytes); "
                            + "the file is truncated or the offsets are wrong",
                    source, name, begin, end, dataLength));
        }
        return new Info(name, dtype, shape, begin, end);
    }

    private static JsonElement required(JsonObject o, String field, String name, String source)
            throws ModelFormatException {
        JsonElement e = o.get(field);
        if (e == null || e.isJsonNull()) {
            throw new ModelFormatException(String.format(
                    "%s: header entry of tensor '%s' has no '%s' field: %s", source, name, field, o));
        }
        return e;
    }

    /** A JSON array of non-negative integers, of {@code expectedLength} elements unless -1. */
    private static long[] nonNegativeLongs(JsonElement e, int expectedLength, String field, String name, String source)
            throws ModelFormatException {
        if (!e.isJsonArray() || (expectedLength >= 0 && e.getAsJsonArray().size() != expectedLength)) {
            throw new ModelFormatException(String.format(
                    "%s: %s of tensor '%s' must be an array of %snon-negative integers, got %s",
                    source, field, name, expectedLength >= 0 ? expectedLength + " " : "", e));
        }
        JsonArray array = e.getAsJsonArray();
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement v = array.get(i);
            long parsed = -1;
            if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
                try {
                    // parseLong rejects "2.0" and "1e3", which getAsLong would silently truncate.
                    parsed = Long.parseLong(((JsonPrimitive) v).getAsString());
                } catch (NumberFormatException ignored) {
                    parsed = -1;
                }
            }
            if (parsed < 0) {
                throw new ModelFormatException(String.format(
                        "%s: %s of tensor '%s' must hold non-negative integers, got %s", source, field, name, e));
            }
            out[i] = parsed;
        }
        return out;
    }

    /**
     * Sorts {@code infos} by offset and checks that they tile the data section from 0 without gaps
     * or overlaps. Returns the covered length, which must equal {@code dataLength} when known.
     */
    private static long checkCoverage(List<Info> infos, String source, long dataLength) throws ModelFormatException {
        // Stable sort: zero-size tensors sharing an offset keep their header order.
        infos.sort(Comparator.comparingLong(Info::begin).thenComparingLong(Info::end));
        long expected = 0;
        Info previous = null;
        for (Info info : infos) {
            if (info.begin() < expected) {
                throw new ModelFormatException(String.format(
                        "%s: tensors '%s' [%s, %s] and '%s' [%s, %s] overlap in the data section",
                        source, previous.name(), previous.begin(), previous.end(),
                        info.name(), info.begin(), info.end()));
            }
            if (info.begin() > expected) {
                throw new ModelFormatException(String.format(
                        "%s: bytes [%s, %s) of the data section are not covered by any tensor (next tensor '%s'); "
                                + "safetensors requires the tensors to cover the data section exactly",
                        source, expected, info.begin(), info.name()));
            }
            expected = info.end();
            previous = info;
        }
        if (dataLength >= 0 && expected != dataLength) {
            throw new ModelFormatException(String.format(
                    "%s: the data section has %s bytes but the tensors cover only [0, %s); "
                            + "%s trailing bytes are not covered by any tensor",
                    source, dataLength, expected, dataLength - expected));
        }
        return expected;
    }
}
