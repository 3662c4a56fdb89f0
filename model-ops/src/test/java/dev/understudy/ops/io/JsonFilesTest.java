package dev.understudy.ops.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.understudy.ops.util.ModelFormatException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonFilesTest {

    @TempDir
    Path dir;

    @Test
    void writesPrettyJsonInInsertionOrderAndReadsItBack() throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("zeta", 1);
        o.addProperty("alpha", "a<b>");
        JsonArray arr = new JsonArray();
        arr.add(1);
        arr.add(2);
        o.add("list", arr);
        JsonFiles.write(new DirectoryModelSink(dir), "cfg/config.json", o);

        String text = Files.readString(dir.resolve("cfg/config.json"));
        assertThat(text).isEqualTo("{\n  \"zeta\": 1,\n  \"alpha\": \"a<b>\",\n  \"list\": [\n    1,\n    2\n  ]\n}\n");
        assertThat(JsonFiles.read(new DirectoryModelSource(dir), "cfg/config.json")).isEqualTo(o);
    }

    private void write(String name, String content) throws IOException {
        Files.write(dir.resolve(name), content.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void syntaxErrorsNameTheFileAndPosition() throws IOException {
        write("bad.json", "{\n  \"a\": 1,\n  \"b\": oops\n}");
        DirectoryModelSource src = new DirectoryModelSource(dir);
        assertThatThrownBy(() -> JsonFiles.read(src, "bad.json"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll(src.describe("bad.json"), "not valid JSON", "line 3");
        write("comma.json", "{\"a\": 1,}");
        assertThatThrownBy(() -> JsonFiles.read(src, "comma.json"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("comma.json");
        write("two.json", "{} {}");
        assertThatThrownBy(() -> JsonFiles.read(src, "two.json"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("two.json");
        write("array.json", "[1, 2]");
        assertThatThrownBy(() -> JsonFiles.read(src, "array.json"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("array.json", "must hold a JSON object", "an array");
        assertThatThrownBy(() -> JsonFiles.read(src, "missing.json")).isInstanceOf(FileNotFoundException.class);
    }
}
