package dev.understudy.job.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.job.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Import end to end (cache → parse → Parquet + _IMPORT.json) on a synthetic package; no client runs. */
class DatasetImportTest extends SparkTestBase {
    @TempDir
    Path tmp;

    private UciSentimentImporter importer;
    private RegistryFetcher fetcher;

    private void setUp() throws Exception {
        Path cache = Files.createDirectories(tmp.resolve("cache"));
        Path tgz = TestArchives.writeTgz(cache.resolve("sentiment-5.0.2.tgz"), UciSentimentImporterTest.packageFiles());
        importer = new UciSentimentImporter(new NpmPackage("sentiment", "5.0.2", Checksums.sri512(tgz)));
        fetcher = new RegistryFetcher(cache, "/nonexistent/npm", "/nonexistent/mvn", null, Duration.ofMinutes(1));
    }

    @Test
    void writesOneParquetFileWithTheSchemaAndAnImportReport() throws Exception {
        setUp();
        String out = tmp.resolve("uci.parquet").toString();

        DatasetImport.Result r = DatasetImport.run(spark, importer, fetcher, out, false);

        assertThat(r.rows()).isEqualTo(6);
        assertThat(r.fetched().origin()).isEqualTo("cache");
        try (var files = Files.list(Path.of(out))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".parquet"))).hasSize(1);
        }
        Dataset<Row> df = spark.read().parquet(out);
        assertThat(df.schema().fields()).extracting(f -> f.name() + ":" + f.dataType().simpleString())
                .containsExactly("text:string", "label:int", "domain:string");
        assertThat(df.schema().apply("label").dataType()).isEqualTo(DataTypes.IntegerType);
        List<String> rows = df.collectAsList().stream().map(x -> x.getString(0) + "|" + x.getInt(1) + "|" + x.getString(2))
                .sorted().toList();
        assertThat(rows).containsExactly("A great film!|1|imdb", "Broke after a day.|0|amazon", "Food was cold.|0|yelp",
                "Great service.|1|yelp", "Loved it.|1|imdb", "Slow and aimless.|0|imdb");

        JsonObject report = JsonParser.parseString(Files.readString(Path.of(out, DatasetImport.REPORT))).getAsJsonObject();
        assertThat(report.get("dataset").getAsString()).isEqualTo("uci-sentiment");
        assertThat(report.get("kind").getAsString()).isEqualTo("classification");
        assertThat(report.get("rows").getAsLong()).isEqualTo(6);
        assertThat(report.getAsJsonObject("package").get("coordinates").getAsString()).isEqualTo("sentiment@5.0.2");
        assertThat(report.getAsJsonObject("package").get("checksum").getAsString()).isEqualTo(importer.source().checksum());
        assertThat(report.getAsJsonObject("counts").getAsJsonObject("label").toString()).isEqualTo("{\"0\":3,\"1\":3}");
        assertThat(report.getAsJsonObject("counts").getAsJsonObject("domain").toString())
                .isEqualTo("{\"amazon\":1,\"imdb\":3,\"yelp\":2}");
        JsonObject dropped = report.getAsJsonObject("dropped");
        assertThat(dropped.get("total").getAsLong()).isEqualTo(3);
        assertThat(dropped.getAsJsonArray("reasons").get(0).toString())
                .isEqualTo("{\"reason\":\"empty text\",\"count\":3,\"first\":[\"imdb.json row 4\",\"yelp.json row 3\","
                        + "\"amazon.json row 2\"]}");
    }

    @Test
    void existingOutputIsRefusedUnlessOverwriteAndOverwriteOnlyReplacesImports() throws Exception {
        setUp();
        String out = tmp.resolve("uci.parquet").toString();
        DatasetImport.run(spark, importer, fetcher, out, false);

        assertThatThrownBy(() -> DatasetImport.run(spark, importer, fetcher, out, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already exists; pass --overwrite");
        assertThat(DatasetImport.run(spark, importer, fetcher, out, true).rows()).isEqualTo(6);
        assertThat(spark.read().parquet(out).count()).isEqualTo(6);

        Path unrelated = Files.createDirectories(tmp.resolve("my-work"));
        Files.writeString(unrelated.resolve("notes.txt"), "keep me");
        assertThatThrownBy(() -> DatasetImport.run(spark, importer, fetcher, unrelated.toString(), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not a dataset import");
        assertThat(unrelated.resolve("notes.txt")).hasContent("keep me");
    }

    @Test
    void parseErrorsNameTheDatasetAndThePackageFile() throws Exception {
        Path cache = Files.createDirectories(tmp.resolve("cache"));
        Path tgz = TestArchives.writeTgz(cache.resolve("sentiment-5.0.2.tgz"), TestArchives.files(
                "package/test/fixtures/imdb.json", "[{\"text\":\"x\",\"class\":3}]",
                "package/test/fixtures/yelp.json", "[]", "package/test/fixtures/amazon.json", "[]"));
        UciSentimentImporter bad = new UciSentimentImporter(new NpmPackage("sentiment", "5.0.2", Checksums.sri512(tgz)));
        RegistryFetcher f = new RegistryFetcher(cache, "/nonexistent/npm", "/nonexistent/mvn", null, Duration.ofMinutes(1));
        String out = tmp.resolve("bad.parquet").toString();
        assertThatThrownBy(() -> DatasetImport.run(spark, bad, f, out, false)).isInstanceOf(DatasetException.class)
                .hasMessage("uci-sentiment: " + tgz + ": imdb.json row 1: \"class\" must be 0 or 1, found 3");
        assertThat(Path.of(out)).doesNotExist();
    }
}
