package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonParser;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.RoundEngine;
import dev.understudy.job.storage.RunStore;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.job.testing.TinyJob;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same small FedAvg job, with its data, base model and run directory on a remote Hadoop
 * filesystem: stopped after round 2, left with a half-written round 3, resumed to round 4, and
 * compared bit for bit with an uninterrupted 4-round run on the local disk. Subclasses start the
 * filesystem and say where things go.
 */
abstract class RemoteFsJobTestBase extends SparkTestBase {
    static final int ROUNDS = 4;

    @TempDir
    static Path tmp;
    static TinyJob job;

    /** The uninterrupted local run, computed once per JVM (model and data are deterministic). */
    private static Reference reference;

    record Reference(float[] finalAdapter, byte[] adapterWeights, byte[] lastGlobal) {}

    /** {@code scheme://authority/dir} under which the job's data and run directory go. */
    abstract String runRoot();

    /** {@code scheme://authority/dir} under which the base model goes. */
    abstract String modelRoot();

    /** {@code output.keep_rounds} of the remote run (the local reference keeps all). */
    abstract int keepRounds();

    static Configuration hadoop() {
        return spark.sparkContext().hadoopConfiguration();
    }

    @BeforeAll
    static void makeJob() throws IOException {
        job = TinyJob.create(spark, tmp.resolve("inputs"));
    }

    /** 4 Dirichlet clients, 3 per round, 4 rounds of 2 local steps, evaluated after the last. */
    static JobConfig config(String out, String... extra) {
        List<String> sets = new ArrayList<>(List.of(
                "partitioning={type: dirichlet, num_clients: 4, alpha: 0.5, min_size: 5, eval_fraction: 0.2}",
                "server.clients_per_round=3", "server.rounds=" + ROUNDS, "server.eval_every=0", "client.local_steps=2"));
        sets.addAll(List.of(extra));
        return job.config(out, sets.toArray(String[]::new));
    }

    static synchronized Reference reference() throws IOException {
        if (reference == null) {
            Path out = Files.createTempDirectory("understudy-reference-run");
            try {
                FederatedJob.JobResult r = FederatedJob.run(spark, config(out.toUri().toString()), false);
                assertThat(r.rounds()).hasSize(ROUNDS);
                reference = new Reference(r.finalAdapter(), Files.readAllBytes(out.resolve("adapter/adapter_model.safetensors")),
                        Files.readAllBytes(out.resolve(RunStore.roundDir(ROUNDS) + "/global.safetensors")));
            } finally {
                org.apache.commons.io.FileUtils.deleteQuietly(out.toFile());
            }
        }
        return reference;
    }

    @Test
    void stopsHalfWritesARoundResumesAndMatchesAnUninterruptedLocalRun() throws Exception {
        Reference ref = reference();
        // inputs on the remote filesystem: the executors copy the model to their local disk
        String model = modelRoot() + "/models/tiny";
        String data = runRoot() + "/data/reviews.parquet";
        upload(job.model, model);
        upload(job.data, data);
        String out = runRoot() + "/runs/exp1";
        JobConfig cfg = config(out, "model.base=" + model, "data.path=" + data, "output.keep_rounds=" + keepRounds());

        FederatedJob.JobResult first = FederatedJob.run(spark, cfg, false, 2);
        assertThat(first.rounds()).extracting(RoundEngine.RoundMetrics::round).containsExactly(1, 2);
        RunStore store = new RunStore(URI.create(out), hadoop());
        assertThat(store.committedRounds()).containsExactly(1, 2);
        FileSystem fs = new org.apache.hadoop.fs.Path(out).getFileSystem(hadoop());
        assertThat(fs.exists(new org.apache.hadoop.fs.Path(out + "/adapter"))).as("no final adapter before the last round").isFalse();

        // a crash in the middle of committing round 3: files, no manifest
        store.write(RunStore.roundDir(3) + "/global.safetensors", "partial".getBytes(StandardCharsets.UTF_8));
        store.write(RunStore.roundDir(3) + "/junk.bin", new byte[] {1, 2, 3});
        assertThat(store.lastCommittedRound()).as("the half-written round is ignored").contains(2);

        FederatedJob.JobResult resumed = FederatedJob.run(spark, cfg, true);
        assertThat(resumed.resumedFrom()).isEqualTo(2);
        // the run's metrics: rounds 1-2 read back from the store, 3-4 trained now
        assertThat(resumed.rounds()).extracting(RoundEngine.RoundMetrics::round).containsExactly(1, 2, 3, 4);
        assertThat(resumed.rounds().subList(0, 2)).isEqualTo(first.rounds());
        assertThat(resumed.finalAdapter()).isEqualTo(ref.finalAdapter());

        // artifacts, read back from the remote filesystem
        assertThat(read(fs, out + "/adapter/adapter_model.safetensors")).isEqualTo(ref.adapterWeights());
        var adapterConfig = JsonParser.parseString(new String(read(fs, out + "/adapter/adapter_config.json"),
                StandardCharsets.UTF_8)).getAsJsonObject();
        assertThat(adapterConfig.get("base_model_name_or_path").getAsString()).isEqualTo(model);
        List<Integer> kept = keepRounds() == 0 ? List.of(1, 2, 3, 4)
                : IntStream.rangeClosed(ROUNDS - keepRounds() + 1, ROUNDS).boxed().toList();
        assertThat(store.committedRounds()).isEqualTo(kept);
        for (int r = 1; r <= ROUNDS; r++) {
            boolean keep = kept.contains(r);
            assertThat(fs.exists(new org.apache.hadoop.fs.Path(out + "/" + RunStore.roundDir(r) + "/" + RunStore.MANIFEST)))
                    .as("manifest of round %d", r).isEqualTo(keep);
            assertThat(fs.exists(new org.apache.hadoop.fs.Path(out + "/" + RunStore.roundDir(r)))).as("round %d", r).isEqualTo(keep);
            if (keep) {
                assertThat(store.readRound(r).files()).containsKeys("global.safetensors", "config.yaml"); // checks every SHA-256
            }
        }
        assertThat(store.readRound(ROUNDS).files().get("global.safetensors")).isEqualTo(ref.lastGlobal());
        assertThat(fs.exists(new org.apache.hadoop.fs.Path(out + "/" + RunStore.roundDir(3) + "/junk.bin")))
                .as("the half-written round was removed before round 3 was rerun").isFalse();
        List<String> metrics = new String(read(fs, out + "/metrics.jsonl"), StandardCharsets.UTF_8).lines().toList();
        assertThat(metrics).hasSize(ROUNDS);
        for (int r = 1; r <= ROUNDS; r++) { // evaluated after the last round only
            var m = JsonParser.parseString(metrics.get(r - 1)).getAsJsonObject();
            assertThat(m.get("round").getAsInt()).isEqualTo(r);
            assertThat(Double.isNaN(m.get("evalLoss").getAsDouble())).as("round %d evalLoss %s", r, m.get("evalLoss"))
                    .isEqualTo(r < ROUNDS);
        }
        assertThat(fs.exists(new org.apache.hadoop.fs.Path(out + "/config.yaml"))).isTrue();
        assertThat(listFiles(fs, out)).noneMatch(p -> p.contains(".tmp-"));
    }

    /**
     * Copies a local directory through output streams (S3A's {@code copyFromLocalFile} goes through
     * the SDK's async transfer manager, whose uploads s3proxy rejects with {@code
     * XAmzContentSHA256Mismatch}), with a client of its own so that no cached client is left
     * behind for the job to reuse.
     */
    static void upload(Path local, String remote) throws IOException {
        org.apache.hadoop.fs.Path dst = new org.apache.hadoop.fs.Path(remote);
        try (FileSystem fs = FileSystem.newInstance(dst.toUri(), hadoop())) {
            if (!FileUtil.copy(local.toFile(), fs, dst, false, hadoop())) {
                throw new IOException("could not copy " + local + " to " + remote);
            }
        }
    }

    static byte[] read(FileSystem fs, String path) throws IOException {
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(path))) {
            return in.readAllBytes();
        }
    }

    static List<String> listFiles(FileSystem fs, String dir) throws IOException {
        List<String> out = new ArrayList<>();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(new org.apache.hadoop.fs.Path(dir), true);
        while (it.hasNext()) {
            out.add(it.next().getPath().toString());
        }
        return out;
    }
}
