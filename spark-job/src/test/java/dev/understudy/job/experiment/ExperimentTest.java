package dev.understudy.job.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.job.testing.TinyJob;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 2 methods × 2 seeds grid run by {@code understudy experiment} in a child JVM, killed (SIGKILL)
 * during the third cell after its first committed round, and restarted: every cell finishes exactly
 * once, the killed one resumes from its committed round, and a third invocation has nothing to do.
 */
class ExperimentTest extends SparkTestBase {
    @TempDir
    static Path tmp;

    @Test
    void killedDuringTheThirdCellAndRestartedEveryCellRunsExactlyOnce() throws Exception {
        TinyJob job = TinyJob.create(spark, tmp);
        Path root = tmp.resolve("grid-out");
        Path grid = tmp.resolve("grid.yaml");
        Files.writeString(grid, """
                output: %s
                set:
                  data.path: %s
                  data.kind: classification
                  data.template: "{text} is"
                  data.label_words: {0: ' bad', 1: ' good'}
                  data.max_length: 48
                  data.bad_rows: skip
                  partitioning: {type: dirichlet, num_clients: 4, alpha: 0.5, min_size: 5, eval_fraction: 0.2}
                  model.base: %s
                  model.lora.rank: 4
                  model.lora.target_modules: [q_proj, v_proj]
                  model.lora.dropout: 0.0
                  client.local_steps: 2
                  client.batch_size: 4
                  client.lr: 0.02
                  server.rounds: 2
                  server.clients_per_round: 4
                methods:
                  fedavg: {server.strategy: fedavg}
                  fedprox: {server.strategy: fedprox, server.strategy_params: {proximal_mu: 0.01}}
                seeds: [1, 2]
                """.formatted(root, job.data.toUri(), job.model.toUri()));
        List<Grid.Cell> cells = Grid.parse(Files.readString(grid), "grid.yaml").cells();
        assertThat(cells).hasSize(4);
        Path third = root.resolve("cells").resolve(cells.get(2).id());

        Process first = child(grid, tmp.resolve("first.log"));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
        while (!Files.exists(third.resolve("rounds/round-00001/_MANIFEST.json"))) {
            assertThat(first.isAlive()).as("first invocation still running (log: first.log)\n" + log("first.log")).isTrue();
            assertThat(System.nanoTime()).as("third cell's first round within 8 minutes").isLessThan(deadline);
            Thread.sleep(50);
        }
        first.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, leases left behind
        assertThat(events(root)).filteredOn(e -> e[1].equals("done")).extracting(e -> e[0])
                .as("killed in the third cell").containsExactly(cells.get(0).id(), cells.get(1).id());
        Thread.sleep(3_000); // the child's leases expire after 2 s

        Process second = child(grid, tmp.resolve("second.log"));
        assertThat(second.waitFor(8, TimeUnit.MINUTES)).isTrue();
        assertThat(second.exitValue()).as(log("second.log")).isEqualTo(0);
        String secondLog = log("second.log");
        assertThat(secondLog).contains("cell 1/4 " + cells.get(0).id() + ": finished earlier, skipped")
                .contains("cell 3/4 " + cells.get(2).id() + ": resuming after round 1");

        List<String[]> ev = events(root);
        for (Grid.Cell c : cells) {
            assertThat(ev).filteredOn(e -> e[0].equals(c.id()) && e[1].equals("done")).as(c.id() + " done once").hasSize(1);
            long starts = ev.stream().filter(e -> e[0].equals(c.id()) && e[1].equals("start")).count();
            assertThat(starts).as(c.id() + " starts").isEqualTo(c == cells.get(2) ? 2 : 1);
            // every round of the cell trained once: metrics hold rounds 1 and 2, once each
            List<String> rounds = new ArrayList<>();
            for (String l : Files.readAllLines(root.resolve("cells").resolve(c.id()).resolve("metrics.jsonl"))) {
                rounds.add(JsonParser.parseString(l).getAsJsonObject().get("round").getAsString());
            }
            assertThat(rounds).containsExactly("1", "2");
        }
        assertThat(ev).filteredOn(e -> e[0].equals(cells.get(2).id()) && e[1].equals("done")).extracting(e -> e[2])
                .containsExactly("1"); // the restarted third cell resumed from its committed round 1

        String md = Files.readString(root.resolve("results.md"));
        assertThat(md).contains("| method=fedavg | 2 |").contains("| method=fedprox | 2 |");
        assertThat(md).containsPattern("\\| method=fedavg \\| 2 \\| \\d+\\.\\d{4} ± \\d+\\.\\d{4} \\[\\d+\\.\\d{4}, \\d+\\.\\d{4}\\]");
        List<Row> results = spark.read().parquet(root.resolve("results.parquet").toString()).orderBy("cell").collectAsList();
        assertThat(results).hasSize(4);
        assertThat(results).allSatisfy(r -> assertThat(r.<Integer>getAs("rounds")).isEqualTo(2));
        assertThat(root.resolve("report/report.html")).exists();
        assertThat(root.resolve("report/loss.png")).exists();

        // a third invocation has nothing to do and says so in its exit status
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Experiment.Result again = Experiment.run(spark, Grid.parse(Files.readString(grid), "grid.yaml"), null,
                new PrintStream(buf, true, StandardCharsets.UTF_8));
        assertThat(again.status()).isEqualTo(Experiment.Status.NOTHING_TO_DO);
        assertThat(again.status().exitCode).isEqualTo(3);
        assertThat(events(root)).hasSize(ev.size());
    }

    /** {@code understudy experiment --grid grid} in a fresh JVM with the test's classpath and flags. */
    private static Process child(Path grid, Path log) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-") || a.startsWith("-XX:+IgnoreUnrecognized") || a.startsWith("-Dai.djl")
                    || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of("-Dspark.master=local[2]", "-Dspark.ui.enabled=false", "-Dspark.driver.host=127.0.0.1",
                "-Dspark.driver.bindAddress=127.0.0.1", "-Dspark.sql.shuffle.partitions=4",
                "-Dspark.serializer=org.apache.spark.serializer.KryoSerializer",
                "-Dspark.kryo.registrator=dev.understudy.job.engine.KryoRegistration",
                "-Dspark.hadoop.understudy.lease.heartbeat.ms=500", "-Dspark.hadoop.understudy.lease.expiry.ms=2000",
                "-cp", System.getProperty("java.class.path"), "dev.understudy.job.Main", "experiment", "--grid", grid.toString()));
        return new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static String log(String name) {
        try {
            return Files.readString(tmp.resolve(name));
        } catch (Exception e) {
            return "(no " + name + ")";
        }
    }

    /** grid.jsonl as (cell, event, round). */
    private static List<String[]> events(Path root) throws Exception {
        List<String[]> out = new ArrayList<>();
        for (String l : Files.readAllLines(root.resolve(Experiment.EVENTS))) {
            JsonObject o = JsonParser.parseString(l).getAsJsonObject();
            out.add(new String[] {o.get("cell").getAsString(), o.get("event").getAsString(), o.get("round").getAsString()});
        }
        return out;
    }
}
