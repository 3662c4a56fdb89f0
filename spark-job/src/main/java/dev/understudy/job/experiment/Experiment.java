package dev.understudy.job.experiment;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.job.FederatedJob;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.report.Report;
import dev.understudy.job.report.RunData;
import dev.understudy.job.storage.OutputLease;
import dev.understudy.job.storage.RunStore;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code understudy experiment}: runs every cell of a {@link Grid} as an ordinary run in
 * {@code output/cells/<cell id>/}, holding the output-dir lease ({@link OutputLease}) of the grid's
 * root so two schedulers cannot run one grid at once. A cell whose {@code done} event is in
 * {@code grid.jsonl} (and whose rounds are all committed) is skipped; any other cell is started as a
 * {@code resume}, which continues an interrupted cell from its last committed round (and starts a new
 * one from round 1). A failed cell is recorded and the next one runs. At the end it writes
 * {@code results.parquet} (one row per finished cell), {@code results.md} (mean and 95% t-interval
 * over seeds per cell) and the report figures ({@code report/}, local roots).
 */
public final class Experiment {
    private Experiment() {}

    static final Gson GSON = new Gson();
    public static final String EVENTS = "grid.jsonl";

    /** How the invocation ended; {@link #exitCode} tells a scheduler. */
    public enum Status {
        /** Every cell is finished and this invocation ran at least one: exit 0. */
        ALL_DONE(0),
        /** Every cell was already finished: exit 3. */
        NOTHING_TO_DO(3),
        /** At least one cell failed (the others ran): exit 4. */
        SOME_FAILED(4);

        public final int exitCode;

        Status(int exitCode) {
            this.exitCode = exitCode;
        }
    }

    /** One cell's outcome in this invocation: skipped (already done), done, or failed (with why). */
    public record CellOutcome(Grid.Cell cell, String outcome, int resumedFrom, String error) {}

    public record Result(Status status, List<CellOutcome> cells, String table, String root) {}

    public static Result run(SparkSession spark, Grid grid, Path defaults, PrintStream out) throws IOException {
        if (grid.output() == null) {
            throw new IllegalArgumentException("the grid has no 'output' root; set output: DIR in the grid file or --out DIR");
        }
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        String root = toUri(grid.output()).toString().replaceAll("/+$", "");
        List<Grid.Cell> cells = grid.cells();
        List<Path> confs = grid.conf().stream().map(Path::of).toList();
        Map<String, JobConfig> configs = new LinkedHashMap<>();
        for (Grid.Cell c : cells) { // every cell's configuration is checked before the first runs
            List<String> sets = new ArrayList<>(c.sets());
            sets.add("output.dir=" + cellDir(root, c));
            try {
                configs.put(c.id(), ConfigLoader.load(defaults, confs, sets));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("grid cell " + c.id() + ": " + e.getMessage(), e);
            }
        }
        try (OutputLease lease = OutputLease.acquire(URI.create(root), hadoop, "experiment")) {
            RunStore store = new RunStore(URI.create(root), hadoop);
            Set<String> done = doneCells(store);
            List<CellOutcome> outcomes = new ArrayList<>();
            int ran = 0;
            for (int i = 0; i < cells.size(); i++) {
                Grid.Cell c = cells.get(i);
                JobConfig cfg = configs.get(c.id());
                RunStore cellStore = new RunStore(URI.create(cellDir(root, c)), hadoop);
                if (done.contains(c.id()) && cellStore.lastCommittedRound().orElse(0) >= cfg.server().rounds()) {
                    out.printf(Locale.ROOT, "cell %d/%d %s: finished earlier, skipped%n", i + 1, cells.size(), c.id());
                    outcomes.add(new CellOutcome(c, "skipped", 0, null));
                    continue;
                }
                int committed = cellStore.lastCommittedRound().orElse(0);
                out.printf(Locale.ROOT, "cell %d/%d %s: %s%n", i + 1, cells.size(), c.id(),
                        committed > 0 ? "resuming after round " + committed : "starting");
                event(store, c, "start", committed, null);
                ran++;
                spark.sparkContext().setJobDescription("experiment cell " + c.id());
                try {
                    FederatedJob.JobResult r = FederatedJob.run(spark, cfg, true);
                    lease.verify();
                    event(store, c, "done", r.resumedFrom(), null);
                    outcomes.add(new CellOutcome(c, "done", r.resumedFrom(), null));
                } catch (IOException | RuntimeException e) {
                    String why = e.getClass().getSimpleName() + ": " + e.getMessage();
                    out.printf(Locale.ROOT, "cell %s failed: %s%n", c.id(), why);
                    event(store, c, "failed", committed, why);
                    outcomes.add(new CellOutcome(c, "failed", committed, why));
                } finally {
                    spark.sparkContext().setJobDescription(null);
                }
            }
            boolean failed = outcomes.stream().anyMatch(o -> o.outcome().equals("failed"));
            Status status = failed ? Status.SOME_FAILED : ran == 0 ? Status.NOTHING_TO_DO : Status.ALL_DONE;
            String table = results(spark, store, root, outcomes, configs);
            out.print(table);
            out.println("experiment " + root + ": " + status + " (" + ran + " cell(s) run, "
                    + outcomes.stream().filter(o -> o.outcome().equals("failed")).count() + " failed)");
            return new Result(status, outcomes, table, root);
        }
    }

    static String cellDir(String root, Grid.Cell c) {
        return root + "/cells/" + c.id();
    }

    static URI toUri(String dir) {
        URI u = URI.create(dir.replace(" ", "%20"));
        return u.getScheme() == null ? Path.of(dir).toAbsolutePath().normalize().toUri() : u;
    }

    private static void event(RunStore store, Grid.Cell c, String what, int round, String error) throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("cell", c.id());
        o.addProperty("event", what);
        o.addProperty("round", round);
        o.addProperty("time", java.time.Instant.now().toString());
        if (error != null) {
            o.addProperty("error", error);
        }
        store.appendLine(EVENTS, GSON.toJson(o));
    }

    /** The cells with a {@code done} event in {@code grid.jsonl}. */
    static Set<String> doneCells(RunStore store) throws IOException {
        Set<String> done = new HashSet<>();
        if (!store.exists(EVENTS)) {
            return done;
        }
        for (String l : store.readString(EVENTS).split("\n")) {
            if (!l.isBlank()) {
                JsonObject o = JsonParser.parseString(l).getAsJsonObject();
                if (o.get("event").getAsString().equals("done")) {
                    done.add(o.get("cell").getAsString());
                }
            }
        }
        return done;
    }

    static final StructType RESULTS = new StructType().add("cell", DataTypes.StringType).add("group", DataTypes.StringType)
            .add("method", DataTypes.StringType).add("config", DataTypes.StringType).add("params", DataTypes.StringType)
            .add("seed", DataTypes.LongType).add("rounds", DataTypes.IntegerType).add("train_loss", DataTypes.DoubleType)
            .add("eval_loss", DataTypes.DoubleType).add("eval_accuracy", DataTypes.DoubleType)
            .add("bytes_up", DataTypes.LongType).add("bytes_down", DataTypes.LongType).add("dir", DataTypes.StringType);

    /** Writes results.parquet, results.md and the report of the finished cells; returns the Markdown table. */
    private static String results(SparkSession spark, RunStore store, String root, List<CellOutcome> outcomes,
            Map<String, JobConfig> configs) throws IOException {
        List<Row> rows = new ArrayList<>();
        List<RunData> runs = new ArrayList<>();
        Map<String, List<RunData>> groups = new LinkedHashMap<>();
        for (CellOutcome o : outcomes) {
            if (o.outcome().equals("failed")) {
                continue;
            }
            Grid.Cell c = o.cell();
            RunData d = RunData.read(spark, cellDir(root, c), c.id());
            runs.add(d);
            groups.computeIfAbsent(c.group(), k -> new ArrayList<>()).add(d);
            RunData.Round last = d.last();
            RunData.Round ev = d.lastEvaluated();
            rows.add(RowFactory.create(c.id(), c.group(), c.method(), c.config(), c.params().toString(), c.seed(),
                    last == null ? 0 : last.round(), last == null ? Double.NaN : last.trainLoss(),
                    ev == null ? Double.NaN : ev.evalLoss(), ev == null ? Double.NaN : ev.evalAccuracy(),
                    d.rounds().stream().mapToLong(RunData.Round::bytesUp).sum(),
                    d.rounds().stream().mapToLong(RunData.Round::bytesDown).sum(), d.dir()));
        }
        String md = markdown(groups, outcomes);
        store.writeString("results.md", md);
        if (!rows.isEmpty()) {
            spark.sparkContext().setJobDescription("experiment results table");
            spark.createDataFrame(rows, RESULTS).coalesce(1).write().mode(SaveMode.Overwrite).parquet(root + "/results.parquet");
            spark.sparkContext().setJobDescription(null);
            if (root.startsWith("file:")) {
                Report.write(runs, Path.of(URI.create(root)).resolve("report"), "Understudy experiment " + root, "");
            }
        }
        return md;
    }

    /** Mean ± 95% t half-width [low, high] over seeds, one row per cell group. */
    static String markdown(Map<String, List<RunData>> groups, List<CellOutcome> outcomes) {
        StringBuilder b = new StringBuilder("| cell | seeds | eval loss (mean ± 95% CI) | eval accuracy (mean ± 95% CI) |"
                + " train loss (mean) |\n|---|---:|---|---|---:|\n");
        for (Map.Entry<String, List<RunData>> g : groups.entrySet()) {
            List<RunData> rs = g.getValue();
            double[] loss = rs.stream().mapToDouble(r -> r.lastEvaluated() == null ? Double.NaN : r.lastEvaluated().evalLoss())
                    .toArray();
            double[] acc = rs.stream()
                    .mapToDouble(r -> r.lastEvaluated() == null ? Double.NaN : r.lastEvaluated().evalAccuracy()).toArray();
            double[] train = rs.stream().mapToDouble(r -> r.last() == null ? Double.NaN : r.last().trainLoss()).toArray();
            b.append("| ").append(g.getKey()).append(" | ").append(rs.size()).append(" | ").append(cell(Intervals.of(loss)))
                    .append(" | ").append(cell(Intervals.of(acc))).append(" | ")
                    .append(String.format(Locale.ROOT, "%.4f", Intervals.of(train).mean())).append(" |\n");
        }
        long failed = outcomes.stream().filter(o -> o.outcome().equals("failed")).count();
        if (failed > 0) {
            b.append("\n").append(failed).append(" cell(s) failed:");
            outcomes.stream().filter(o -> o.outcome().equals("failed"))
                    .forEach(o -> b.append("\n- ").append(o.cell().id()).append(": ").append(o.error()));
            b.append("\n");
        }
        return b.toString();
    }

    static String cell(Intervals.Interval i) {
        if (Double.isNaN(i.mean())) {
            return "–";
        }
        if (Double.isNaN(i.halfWidth())) {
            return String.format(Locale.ROOT, "%.4f (n=1, no interval)", i.mean());
        }
        return String.format(Locale.ROOT, "%.4f ± %.4f [%.4f, %.4f]", i.mean(), i.halfWidth(), i.low(), i.high());
    }
}
