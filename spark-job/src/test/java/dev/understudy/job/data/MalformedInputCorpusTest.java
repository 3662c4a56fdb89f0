package dev.understudy.job.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.DataConfig;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.testing.SparkTestBase;
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
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The malformed-input corpus ({@code src/test/resources/malformed/README.md}): each mistake gives
 * its exact message, or its exact skip count with the file and line of the first bad row. Nothing is
 * skipped without being counted.
 */
class MalformedInputCorpusTest extends SparkTestBase {
    @TempDir
    static Path tmp;

    static Path corpus(String name) {
        try {
            return Path.of(MalformedInputCorpusTest.class.getResource("/malformed/" + name).toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JobConfig config(Path data, String... more) {
        List<String> sets = new ArrayList<>(List.of("data.path=" + data.toUri(), "model.base=file:///tmp/understudy-none/model",
                "output.dir=file:///tmp/understudy-none/out", "partitioning={type: iid, num_clients: 2}", "seed=5"));
        sets.addAll(List.of(more));
        return ConfigLoader.load(null, List.of(), sets);
    }

    /** The bad-row report of a file read as {@code data.bad_rows=skip} reads it. */
    static BadRowReport skipReport(Path data, String... more) {
        JobConfig cfg = config(data, more);
        DataConfig d = cfg.data();
        return BadRowReport.of(DataPrep.normalise(spark, LocatedInput.read(spark, d.path(), d.format(),
                DataPrep.textColumns(d)), cfg));
    }

    /** The message {@code data.bad_rows=fail} stops with (before any model is loaded). */
    static String failMessage(Path data, String... more) {
        JobConfig cfg = config(data, more);
        try {
            DataPrep.prepare(spark, cfg, 2);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        throw new AssertionError("no error for " + data);
    }

    static void assertOneBadKind(String file, String reason, int line) {
        Path p = corpus(file);
        assertThat(failMessage(p)).isEqualTo("data " + p.toUri() + " has bad rows: " + reason + " 1 (first at " + file + ":"
                + line + "); fix them or set data.bad_rows=skip to skip and report them");
        BadRowReport r = skipReport(p, "data.bad_rows=skip");
        assertThat(r.counts()).containsExactly(Map.entry(reason, 1L));
        assertThat(r.where()).containsExactly(Map.entry(reason, file + ":" + line));
    }

    @Test
    void aClientColumnWithAMissingClientBesideAMalformedLineReportsBoth() throws Exception {
        // JSON Lines with a client column: the client check and the reading problems combine
        Path p = tmp.resolve("clients.jsonl");
        Files.writeString(p, "{\"text\": \"a\", \"client\": \"u1\"}\n{\"text\": \"b\"}\n"
                + "{\"text\": \"c\", \"client\": \"u2\"}\n{\"text\": \"d\", \"client\"\n");
        BadRowReport r = skipReport(p, "data.bad_rows=skip", "data.client_column=client", "partitioning=null");
        assertThat(r.counts()).containsExactlyInAnyOrderEntriesOf(Map.of("null_client", 1L, "malformed_json", 1L));
        assertThat(r.where()).containsExactlyInAnyOrderEntriesOf(
                Map.of("null_client", "clients.jsonl:2", "malformed_json", "clients.jsonl:4"));
    }

    @Test
    void aLineWithoutItsClosingBraceIsMalformedJson() {
        assertOneBadKind("malformed_json.jsonl", "malformed_json", 3);
    }

    @Test
    void anArrayLineIsMalformedJson() {
        assertOneBadKind("not_an_object.jsonl", "malformed_json", 3);
    }

    @Test
    void twoObjectsOnOneLineAreMalformedJson() {
        assertOneBadKind("trailing_garbage.jsonl", "malformed_json", 3);
    }

    @Test
    void latin1BytesAreInvalidUtf8NotANullText() {
        assertOneBadKind("invalid_utf8.jsonl", "invalid_utf8", 3);
    }

    @Test
    void aNumberWhereTextBelongsIsWrongType() {
        assertOneBadKind("wrong_type.jsonl", "wrong_type", 3);
    }

    @Test
    void aBlankTextIsEmptyText() {
        assertOneBadKind("empty_text.jsonl", "empty_text", 3);
    }

    @Test
    void aLineWithoutTheTextKeyIsNullText() {
        assertOneBadKind("missing_field.jsonl", "null_text", 3);
    }

    @Test
    void aBlankLineIsCountedNotDropped() {
        assertOneBadKind("blank_line.jsonl", "blank_line", 2);
    }

    @Test
    void aTextColumnOfNumbersIsRefusedEvenWhenSkipping() {
        Path p = corpus("all_numbers.jsonl");
        assertThat(skipReport(p).counts()).containsExactly(Map.entry("wrong_type", 3L));
        assertThatThrownBy(() -> DataPrep.prepare(spark, config(p, "data.bad_rows=skip"), 2))
                .hasMessage("data " + p.toUri() + " has no usable rows (skipped: wrong_type 3 (first at all_numbers.jsonl:1));"
                        + " fix the file or point data.path at the right one");
    }

    @Test
    void aFileWithoutOneWellFormedLineSaysSo() {
        Path p = corpus("only_bad.jsonl");
        assertThatThrownBy(() -> DataPrep.prepare(spark, config(p, "data.bad_rows=skip"), 2))
                .hasMessage("data " + p.toUri() + " has no well-formed row: malformed_json 2 (first at only_bad.jsonl:1);"
                        + " fix the file");
    }

    @Test
    void aMissingColumnNamesTheColumnsThereAre() {
        Path p = corpus("missing_column.jsonl");
        assertThatThrownBy(() -> DataPrep.prepare(spark, config(p), 2))
                .hasMessage("data " + p.toUri() + " has no column 'text' (columns: [body]), which data.text_column names;"
                        + " set data.text_column to an existing column");
    }

    @Test
    void anEmptyFileIsRefusedBeforeSpark() {
        Path p = corpus("empty.jsonl");
        assertThatThrownBy(() -> dev.understudy.job.InputPreflight.check(config(p), new Configuration(), false, true))
                .hasMessage("data.path " + p.toUri() + " is empty (0 bytes)");
    }

    @Test
    void everyKindInOneFileIsCountedWithItsFirstLine() {
        BadRowReport r = skipReport(corpus("mixed.jsonl"), "data.bad_rows=skip");
        assertThat(r.counts()).containsExactly(Map.entry("empty_text", 1L), Map.entry("invalid_utf8", 1L),
                Map.entry("malformed_json", 1L), Map.entry("wrong_type", 1L));
        assertThat(r.where()).containsExactly(Map.entry("empty_text", "mixed.jsonl:5"), Map.entry("invalid_utf8",
                "mixed.jsonl:6"), Map.entry("malformed_json", "mixed.jsonl:3"), Map.entry("wrong_type", "mixed.jsonl:4"));
        assertThat(r.describe()).isEqualTo("empty_text 1 (first at mixed.jsonl:5), invalid_utf8 1 (first at mixed.jsonl:6),"
                + " malformed_json 1 (first at mixed.jsonl:3), wrong_type 1 (first at mixed.jsonl:4)");
    }

    @Test
    void csvBytesThatAreNotUtf8AreInvalidUtf8WithTheirFile() {
        Path p = corpus("invalid_utf8.csv");
        assertThat(failMessage(p)).isEqualTo("data " + p.toUri() + " has bad rows: invalid_utf8 1 (first at invalid_utf8.csv);"
                + " fix them or set data.bad_rows=skip to skip and report them");
    }

    @Test
    void aCsvWithOnlyAHeaderHasNoUsableRows() {
        Path p = corpus("header_only.csv");
        assertThatThrownBy(() -> DataPrep.prepare(spark, config(p), 2))
                .hasMessage("data " + p.toUri() + " has no usable rows; fix the file or point data.path at the right one");
    }

    static Path parquet(String name, StructType schema, List<Row> rows) {
        Path dir = tmp.resolve(name);
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(dir.toUri().toString());
        return dir;
    }

    @Test
    void aParquetTextColumnOfIntegersIsRefusedNamingItsType() {
        Path dir = parquet("ints.parquet", new StructType().add("text", DataTypes.IntegerType),
                List.of(RowFactory.create(1), RowFactory.create(2)));
        assertThatThrownBy(() -> DataPrep.prepare(spark, config(dir, "data.format=parquet"), 2))
                .hasMessage("data " + dir.toUri() + ": column 'text' holds int, not text (string); name a string column or"
                        + " convert this one to string");
    }

    @Test
    void aNullParquetTextIsReportedWithItsRow() throws Exception {
        Path dir = parquet("nulls.parquet", new StructType().add("text", DataTypes.StringType),
                List.of(RowFactory.create("one"), RowFactory.create("two"), RowFactory.create((Object) null)));
        String file;
        try (var s = Files.list(dir)) {
            file = s.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".parquet")).findFirst().orElseThrow();
        }
        BadRowReport r = skipReport(dir, "data.format=parquet");
        assertThat(r.counts()).containsExactly(Map.entry("null_text", 1L));
        assertThat(r.where()).containsExactly(Map.entry("null_text", file + ":3"));
    }

    @Test
    void aTruncatedParquetFileIsRefusedBeforeSpark() throws Exception {
        Path dir = parquet("cut.parquet", new StructType().add("text", DataTypes.StringType),
                List.of(RowFactory.create("one"), RowFactory.create("two")));
        Path part;
        try (var s = Files.list(dir)) {
            part = s.filter(f -> f.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
        }
        byte[] all = Files.readAllBytes(part);
        Files.write(part, java.util.Arrays.copyOf(all, all.length / 2));
        Files.deleteIfExists(part.resolveSibling("." + part.getFileName() + ".crc"));
        assertThatThrownBy(() -> dev.understudy.job.InputPreflight.check(config(dir, "data.format=parquet"), new Configuration(),
                false, true)).hasMessage("data.path " + dir.toUri() + " (file " + part.getFileName() + ") is a truncated or"
                        + " damaged Parquet file (" + all.length / 2 + " bytes, no PAR1 footer at the end); copy or export it"
                        + " again, or remove it from the directory");
    }

    @Test
    void unknownLabelsOverLongRowsAndEvaluationRowsAreReported() throws Exception {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
        Path model = tmp.resolve("model");
        HfModels.createRandom(ModelConfig.llama(spec.vocabSize(), 16, 1, 2, 1, 32, 64), 3, spec, model);
        JobConfig cfg = ConfigLoader.load(null, List.of(), List.of("data.path=" + corpus("labels.jsonl").toUri(),
                "data.kind=classification", "data.label_words={pos: ' positive', neg: ' negative', neutral: ' neutral'}",
                "data.max_length=12", "model.base=" + model.toUri(), "output.dir=file:///tmp/understudy-none/out",
                "partitioning={type: iid, num_clients: 2, eval_fraction: 0.25}", "seed=5"));
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DataPrep.Prepared p;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            p = DataPrep.prepare(spark, cfg, 2);
        } finally {
            System.setOut(old);
        }
        try {
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("warning: data.label_words [neg, neutral, pos] has no"
                    + " word for label 'meh' (2 rows); those rows use the label itself as their response (2 rows); listed words"
                    + " no row has: [neutral]. Add the labels to data.label_words or remove the rows");
            // every example is longer than 12 tokens (template + text + label word, byte-level)
            assertThat(p.truncated()).isEqualTo(12);
            assertThat(p.rows() + p.evalRows()).isEqualTo(12);
            assertThat(p.evalRows()).isPositive();
            long evalOnExecutors = p.clients().values().map(c -> (long) c.eval().size()).reduce(Long::sum);
            assertThat(p.evalRows()).isEqualTo(evalOnExecutors);
            assertThat(p.dataLine()).isEqualTo("data: 2 clients, " + p.rows() + " training rows, " + p.evalRows()
                    + " evaluation rows, 0 held out, skipped none, 12 truncated");
        } finally {
            p.clients().unpersist(false);
        }
    }
}
