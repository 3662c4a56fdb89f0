package dev.understudy.job.report;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.job.data.LabelMix;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * What one run directory holds that the report shows: its method (from {@code config.yaml}), the
 * per-round metrics ({@code metrics.jsonl}, the per-round source of truth), the per-client figures of
 * its last evaluated round ({@code eval_per_client}, when present) and the clients' label mix
 * ({@code label_mix.json}, classification data only).
 *
 * @param name the label the figures and the table use
 * @param finalClients per-client evaluation of the last evaluated round (empty when absent)
 */
public record RunData(String name, String dir, String method, Long seed, List<Round> rounds, int finalClientsRound,
        List<ClientEval> finalClients, LabelMix labelMix) {

    /** One round's figures; NaN where the round has none (e.g. not evaluated). */
    public record Round(int round, double trainLoss, double evalLoss, double evalAccuracy, long bytesUp, long bytesDown,
            Map<String, Double> methodMetrics) {}

    public record ClientEval(String clientId, long examples, double loss, double accuracy) {}

    public Round last() {
        return rounds.isEmpty() ? null : rounds.get(rounds.size() - 1);
    }

    /** The last round with an evaluation, or null. */
    public Round lastEvaluated() {
        for (int i = rounds.size() - 1; i >= 0; i--) {
            if (!Double.isNaN(rounds.get(i).evalLoss())) {
                return rounds.get(i);
            }
        }
        return null;
    }

    /**
     * Reads {@code dir} (any Hadoop filesystem URI or local path).
     *
     * @throws IllegalArgumentException naming the directory when it holds no run's metrics
     */
    public static RunData read(SparkSession spark, String dir, String name) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path base = new Path(toUri(dir));
        FileSystem fs = base.getFileSystem(conf);
        Path metrics = new Path(base, "metrics.jsonl");
        if (!fs.exists(metrics)) {
            throw new IllegalArgumentException(dir + " is not a run directory with rounds: no metrics.jsonl there (a run"
                    + " writes it after its first round)");
        }
        List<Round> rounds = new ArrayList<>();
        int line = 0;
        for (String l : read(fs, metrics).split("\n")) {
            line++;
            if (l.isBlank()) {
                continue;
            }
            try {
                rounds.add(round(JsonParser.parseString(l).getAsJsonObject()));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(metrics + " line " + line + " is not a metrics record: " + e.getMessage());
            }
        }
        String method = "?";
        Long seed = null;
        Path config = new Path(base, "config.yaml");
        if (fs.exists(config)) {
            Object o = new Yaml(new LoaderOptions()).load(read(fs, config));
            if (o instanceof Map<?, ?> m) {
                method = String.valueOf(m.get("method"));
                seed = m.get("seed") instanceof Number n ? n.longValue() : null;
            }
        }
        LabelMix mix = null;
        Path mixFile = new Path(base, LabelMix.FILE);
        if (fs.exists(mixFile)) {
            mix = LabelMix.fromJson(read(fs, mixFile));
        }
        int finalRound = 0;
        List<ClientEval> clients = new ArrayList<>();
        Path perClient = new Path(base, "eval_per_client");
        if (fs.exists(perClient)) {
            Dataset<Row> t = spark.read().parquet(perClient.toString());
            Row max = t.selectExpr("max(round)").first();
            if (!max.isNullAt(0)) {
                finalRound = max.getInt(0);
                for (Row r : t.filter("round = " + finalRound).orderBy("client_id")
                        .select("client_id", "examples", "loss", "accuracy").collectAsList()) {
                    clients.add(new ClientEval(r.getString(0), r.isNullAt(1) ? 0 : r.getLong(1),
                            r.isNullAt(2) ? Double.NaN : r.getDouble(2), r.isNullAt(3) ? Double.NaN : r.getDouble(3)));
                }
            }
        }
        return new RunData(name, base.toString(), method, seed, List.copyOf(rounds), finalRound, List.copyOf(clients), mix);
    }

    static URI toUri(String dir) {
        URI u = URI.create(dir.replace(" ", "%20"));
        return u.getScheme() == null ? java.nio.file.Path.of(dir).toAbsolutePath().normalize().toUri() : u;
    }

    private static Round round(JsonObject o) {
        Map<String, Double> mm = new LinkedHashMap<>();
        if (o.has("methodMetrics") && o.get("methodMetrics").isJsonObject()) {
            for (Map.Entry<String, JsonElement> e : o.getAsJsonObject("methodMetrics").entrySet()) {
                mm.put(e.getKey(), number(e.getValue()));
            }
        }
        return new Round(o.get("round").getAsInt(), number(o.get("trainLoss")), number(o.get("evalLoss")),
                number(o.get("evalAccuracy")), o.has("bytesUp") ? o.get("bytesUp").getAsLong() : 0,
                o.has("bytesDown") ? o.get("bytesDown").getAsLong() : 0, mm);
    }

    private static double number(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return Double.NaN;
        }
        String s = e.getAsString();
        return switch (s) {
            case "NaN" -> Double.NaN;
            case "Infinity" -> Double.POSITIVE_INFINITY;
            case "-Infinity" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(s);
        };
    }

    private static String read(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
