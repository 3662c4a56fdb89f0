package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Path mistakes on the command line: one {@code error:} line naming the key and the file, exit
 * status 2, no stack trace, and no SparkSession started.
 */
class MainInputErrorsTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Path jsonl;

    @BeforeAll
    static void setUp() throws Exception {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
        model = tmp.resolve("model");
        HfModels.createRandom(ModelConfig.llama(spec.vocabSize(), 16, 1, 2, 1, 32, 64), 3, spec, model);
        jsonl = tmp.resolve("train.jsonl");
        Files.writeString(jsonl, "{\"text\": \"hello\"}\n{\"text\": \"world\"}\n");
    }

    record Outcome(int code, String err) {}

    static Outcome run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int before = Main.SESSIONS.get();
        int code = Main.execute(args, new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(Main.SESSIONS.get()).as("no SparkSession started").isEqualTo(before);
        return new Outcome(code, err.toString(StandardCharsets.UTF_8));
    }

    static String[] runArgs(String... sets) {
        List<String> a = new ArrayList<>(List.of("run", "--defaults", DefaultsPath.get().toString(), "--set",
                "data.path=" + jsonl.toUri(), "--set", "model.base=" + model.toUri(), "--set",
                "output.dir=" + tmp.resolve("out").toUri(), "--set", "partitioning={type: iid, num_clients: 2}"));
        for (String s : sets) {
            a.add("--set");
            a.add(s);
        }
        return a.toArray(String[]::new);
    }

    static void assertOneLine(Outcome o, String... fragments) {
        assertThat(o.code()).as(o.err()).isEqualTo(2);
        assertThat(o.err().strip().lines()).as(o.err()).hasSize(1);
        assertThat(o.err()).startsWith("error: ").doesNotContain("\tat ").doesNotContain("Exception");
        for (String f : fragments) {
            assertThat(o.err()).contains(f);
        }
    }

    @Test
    void aMissingModelDirectoryIsOneLineNamingModelBase() {
        Path missing = tmp.resolve("no-such-model");
        assertOneLine(run(runArgs("model.base=" + missing.toUri())), "model.base", "no-such-model", "no such directory");
    }

    @Test
    void aDirectoryThatIsNotAModelNamesWhatIsMissing() throws Exception {
        Path notModel = Files.createDirectories(tmp.resolve("not-a-model"));
        Files.writeString(notModel.resolve("config.json"), "{}");
        assertOneLine(run(runArgs("model.base=" + notModel.toUri())), "model.base", "not-a-model",
                "no tokenizer.json, no *.safetensors");
    }

    @Test
    void aMissingDataFileIsOneLineNamingDataPath() {
        assertOneLine(run(runArgs("data.path=" + tmp.resolve("nope.jsonl").toUri())), "data.path", "nope.jsonl",
                "no such file or directory");
    }

    @Test
    void aJsonLinesFileReadAsParquetIsNamedAsSuch() {
        assertOneLine(run(runArgs("data.format=parquet")), "data.path", "train.jsonl", "is not a Parquet file",
                "set data.format=jsonl");
    }

    @Test
    void anEmptyDataFileOrDirectoryIsNamed() throws Exception {
        Path empty = Files.writeString(tmp.resolve("empty.jsonl"), "");
        assertOneLine(run(runArgs("data.path=" + empty.toUri())), "data.path", "empty.jsonl", "is empty (0 bytes)");
        Path emptyDir = Files.createDirectories(tmp.resolve("empty.parquet"));
        assertOneLine(run(runArgs("data.path=" + emptyDir.toUri())), "data.path", "empty.parquet", "empty directory");
    }

    @Test
    void aMissingConfFileIsOneLine() {
        assertOneLine(run("run", "--conf", tmp.resolve("missing.yaml").toString()), "--conf", "missing.yaml",
                "no such file");
    }

    /** The repository's conf/defaults.yaml, as the CLI uses it. */
    static final class DefaultsPath {
        static Path get() {
            return Path.of("").toAbsolutePath().getParent().resolve("conf/defaults.yaml");
        }
    }
}
