package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.job.config.JobConfig;
import dev.understudy.job.storage.RunStore;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.job.testing.TinyJob;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run store under users' mistakes, through {@link FederatedJob#run}: overwrite never deletes
 * what Understudy did not write, a second writer is refused at start, divergence is caught, a
 * resume applies the keys it may change and refuses the others.
 */
class RunSafetyTest extends SparkTestBase {
    @TempDir
    static Path tmp;
    static TinyJob job;

    @BeforeAll
    static void setUp() throws Exception {
        job = TinyJob.create(spark, tmp);
    }

    static JobConfig config(Path out, String... extra) {
        return job.config(out.toUri().toString(), extra);
    }

    /** The data-loss scenario: notes and training data inside the run directory survive overwrite. */
    @Test
    void overwriteDeletesOnlyWhatUnderstudyWroteAndNeverTheInputs() throws Exception {
        Path out = tmp.resolve("mine");
        Files.createDirectories(out.resolve("sub"));
        Files.writeString(out.resolve("notes.txt"), "my notes");
        List<String> lines = spark.read().parquet(job.data.toString()).toJSON().collectAsList();
        Files.write(out.resolve("sub/data.jsonl"), lines);
        FederatedJob.run(spark, config(out, "output.overwrite=true", "server.rounds=1"), false);
        assertThat(out.resolve("rounds/round-00001/_MANIFEST.json")).exists();

        // data.path inside output.dir: refused, nothing deleted
        assertThatThrownBy(() -> FederatedJob.run(spark, config(out, "output.overwrite=true", "server.rounds=1",
                "data.path=" + out.resolve("sub/data.jsonl").toUri(), "data.format=jsonl"), false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("would delete the job's own input")
                .hasMessageContaining("sub/data.jsonl");
        assertThat(out.resolve("notes.txt")).hasContent("my notes");
        assertThat(Files.readAllLines(out.resolve("sub/data.jsonl"))).hasSize(lines.size());
        assertThat(out.resolve("rounds/round-00001/_MANIFEST.json")).exists();

        // other files in output.dir: refused, naming them, nothing deleted
        assertThatThrownBy(() -> FederatedJob.run(spark, config(out, "output.overwrite=true", "server.rounds=1"), false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("2 entries Understudy did not write [notes.txt, sub/]");
        assertThat(out.resolve("notes.txt")).hasContent("my notes");
        assertThat(out.resolve("rounds/round-00001/_MANIFEST.json")).exists();

        // once they are moved away, overwrite starts over
        Files.move(out.resolve("notes.txt"), tmp.resolve("notes.txt"));
        Files.move(out.resolve("sub"), tmp.resolve("sub"));
        FederatedJob.JobResult r = FederatedJob.run(spark, config(out, "output.overwrite=true", "server.rounds=2"), false);
        assertThat(r.rounds()).hasSize(2);
        assertThat(r.resumedFrom()).isZero();
        assertThat(tmp.resolve("sub/data.jsonl")).exists();
        try (var s = Files.list(out)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")))
                    .containsExactlyInAnyOrder("config.yaml", "data.json", "metrics.jsonl", "metrics.parquet", "eval_per_client", "rounds",
                            "adapter", "label_mix.json");
        }
    }

    /** Two writers: the second, started while the first runs, is refused at start and changes nothing. */
    @Test
    void aSecondRunOnTheSameDirectoryIsRefusedAtStartNamingTheFirst() throws Exception {
        Path out = tmp.resolve("shared");
        CompletableFuture<FederatedJob.JobResult> first = CompletableFuture.supplyAsync(() -> {
            try {
                return FederatedJob.run(spark, config(out, "server.rounds=2"), false);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(out.resolve("config.yaml")) && System.nanoTime() < deadline && !first.isDone()) {
            Thread.sleep(20);
        }
        String firstConfig = Files.readString(out.resolve("config.yaml"));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> FederatedJob.run(spark, config(out, "server.rounds=2", "seed=77"), false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is in use by `understudy run` by " + System.getProperty("user.name"))
                .hasMessageContaining("pid " + ProcessHandle.current().pid());
        assertThat((System.nanoTime() - t0) / 1e9).as("refused at start").isLessThan(10);
        assertThat(out.resolve("config.yaml")).hasContent(firstConfig);
        FederatedJob.JobResult r = first.get(300, TimeUnit.SECONDS);
        assertThat(r.rounds()).hasSize(2);
        assertThat(new RunStore(out.toUri(), spark.sparkContext().hadoopConfiguration()).committedRounds())
                .containsExactly(1, 2);
        assertThat(Files.readString(out.resolve("config.yaml"))).contains("seed: 5").doesNotContain("seed: 77");
        // the first run released the lease: a resume may now take the directory
        FederatedJob.run(spark, config(out, "server.rounds=2"), true);
    }

    /** lr 1e30 and 1e6: every client's update is caught; the run stops, nothing committed or exported. */
    @Test
    void anExplodingLearningRateFailsEveryClientAndStopsTheRunWithNothingCommitted() throws Exception {
        for (String lr : new String[] {"1e30", "1e6"}) {
            Path out = tmp.resolve("lr-" + lr);
            assertThatThrownBy(() -> FederatedJob.run(spark, config(out, "client.lr=" + lr), false))
                    .as(lr)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("round 1: all 6 sampled clients failed")
                    .hasMessageContaining("diverged (round 1, client ")
                    .hasMessageContaining("after 5 local steps")
                    .hasMessageContaining("exceeds client.max_update_rms=1.0");
            assertThat(new RunStore(out.toUri(), spark.sparkContext().hadoopConfiguration()).committedRounds()).isEmpty();
            assertThat(out.resolve("adapter")).doesNotExist();
            assertThat(out.resolve("_LEASE-00001.json")).as("lease released").doesNotExist();
        }
    }

    /** The resume scenario: a finished 2-round run resumed with server.rounds=3 trains round 3. */
    @Test
    void resumeAppliesTheKeysItMayChangeAndRefusesTheOthersListingThem() throws Exception {
        Path out = tmp.resolve("extend");
        FederatedJob.JobResult two = FederatedJob.run(spark, config(out, "server.rounds=2"), false);
        assertThat(two.rounds()).hasSize(2);

        assertThatThrownBy(() -> FederatedJob.run(spark, config(out, "server.rounds=3", "client.lr=0.01", "seed=6"), true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("resume refuses to change 3 keys")
                .hasMessageContaining("client.lr: 0.02 -> 0.01")
                .hasMessageFindingMatch("(\\(|; )seed: 5 -> 6")
                .hasMessageContaining("partitioning.seed: 5 -> 6") // the partitioning seed follows the run's seed
                .hasMessageContaining("server.rounds");
        assertThatThrownBy(() -> FederatedJob.run(spark, config(out, "server.rounds=1"), true))
                .hasMessageContaining("2 rounds are already committed");

        FederatedJob.JobResult three = FederatedJob.run(spark, config(out, "server.rounds=3", "output.keep_rounds=1"), true);
        assertThat(three.resumedFrom()).isEqualTo(2);
        assertThat(three.rounds()).extracting(m -> m.round()).containsExactly(1, 2, 3);
        RunStore store = new RunStore(out.toUri(), spark.sparkContext().hadoopConfiguration());
        assertThat(store.committedRounds()).as("keep_rounds=1 took effect").containsExactly(3);
        assertThat(store.readString(RunStore.roundDir(3) + "/config.yaml")).contains("rounds: 3");
        assertThat(three.finalAdapter()).isNotEqualTo(two.finalAdapter());
        Row last = spark.read().parquet(out.resolve("metrics.parquet").toString()).orderBy("round").collectAsList().get(2);
        assertThat(last.<Integer>getAs("round")).isEqualTo(3);
        assertThat(URI.create(three.outputDir()).getPath()).isEqualTo(out.toUri().getPath().replaceAll("/$", ""));
    }
}
