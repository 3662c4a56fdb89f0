package dev.understudy.ops.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.understudy.ops.util.ModelFormatException;
import dev.understudy.ops.util.Preconditions;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;

/** Reads and writes the small JSON files of a model directory (configs, shard indexes). */
public final class JsonFiles {
    private static final Gson PRETTY = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private JsonFiles() {}

    /**
     * Reads {@code relativePath} from {@code source} as a JSON object (strict JSON: no comments, no
     * trailing commas).
     *
     * @throws java.io.FileNotFoundException when the file does not exist
     * @throws ModelFormatException naming the file and, for syntax errors, the line and column
     */
    public static JsonObject read(ModelSource source, String relativePath) throws IOException {
        Preconditions.checkNotNull(source, "model source");
        String location = source.describe(relativePath);
        JsonElement root;
        try (InputStream in = source.open(relativePath);
                Reader r = new InputStreamReader(in, StandardCharsets.UTF_8);
                JsonReader reader = new JsonReader(r)) {
            reader.setStrictness(Strictness.STRICT);
            root = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new ModelFormatException(String.format(
                        "%s: unexpected content after the JSON value at %s", location, reader.getPath()));
            }
        } catch (JsonParseException | com.google.gson.stream.MalformedJsonException e) {
            // Gson's message names the position: "... at line 3 column 5 path $.weight_map".
            throw new ModelFormatException(String.format("%s is not valid JSON: %s", location, e.getMessage()), e);
        }
        if (!root.isJsonObject()) {
            throw new ModelFormatException(String.format(
                    "%s must hold a JSON object, but holds %s", location, describeKind(root)));
        }
        return root.getAsJsonObject();
    }

    /**
     * Writes {@code json} pretty-printed (2-space indent, keys in the object's insertion order,
     * trailing newline) to {@code relativePath} of {@code sink}, atomically.
     */
    public static void write(ModelSink sink, String relativePath, JsonElement json) throws IOException {
        Preconditions.checkNotNull(sink, "model sink");
        Preconditions.checkNotNull(json, "json");
        byte[] bytes = (PRETTY.toJson(json) + "\n").getBytes(StandardCharsets.UTF_8);
        sink.write(relativePath, out -> out.write(bytes));
    }

    private static String describeKind(JsonElement e) {
        if (e.isJsonArray()) {
            return "an array";
        }
        if (e.isJsonNull()) {
            return "null";
        }
        return "the value " + e;
    }
}
