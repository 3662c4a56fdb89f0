package dev.understudy.job.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.job.testing.MiniHdfs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run-directory lease on the local disk and on HDFS (an in-process MiniDFSCluster): one writer
 * at a time, the second refused naming the owner, stale leases taken over once, a lost lease stops
 * commits.
 */
class OutputLeaseTest {
    @TempDir
    static Path tmp;
    static MiniHdfs hdfs;

    static final OutputLease.Timing FAST = new OutputLease.Timing(100, 1_500, 0);

    @BeforeAll
    static void startHdfs() throws Exception {
        hdfs = MiniHdfs.start(tmp.resolve("hdfs"));
    }

    @AfterAll
    static void stopHdfs() throws Exception {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    static List<URI> dirs(String name) {
        return List.of(tmp.resolve("local-" + name).toUri(), URI.create(hdfs.uri() + "/runs/" + name));
    }

    static FileSystem fs(URI dir) throws IOException {
        return new org.apache.hadoop.fs.Path(dir).getFileSystem(new Configuration());
    }

    @Test
    void aSecondWriterIsRefusedNamingTheOwnerUntilTheFirstReleases() throws Exception {
        for (URI dir : dirs("two-writers")) {
            OutputLease first = OutputLease.acquire(dir, new Configuration(), "run", FAST);
            assertThatThrownBy(() -> OutputLease.acquire(dir, new Configuration(), "run", FAST))
                    .as(dir.toString())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("is in use by `understudy run` by " + System.getProperty("user.name"))
                    .hasMessageContaining("pid " + ProcessHandle.current().pid())
                    .hasMessageContaining("use another output.dir");
            Thread.sleep(400); // heartbeats keep it live
            assertThatThrownBy(() -> OutputLease.acquire(dir, new Configuration(), "resume", FAST)).hasMessageContaining("in use");
            first.verify();
            first.close();
            assertThat(OutputLease.leases(fs(dir), new org.apache.hadoop.fs.Path(dir))).isEmpty();
            try (OutputLease second = OutputLease.acquire(dir, new Configuration(), "resume", FAST)) {
                second.verify();
            }
        }
    }

    @Test
    void aStaleLeaseIsTakenOverAndItsHolderCanNoLongerCommit() throws Exception {
        for (URI dir : dirs("stale")) {
            // a writer that stopped heart-beating (as if paused or killed): heartbeat far beyond the expiry
            OutputLease dead = OutputLease.acquire(dir, new Configuration(), "run",
                    new OutputLease.Timing(3_600_000, 1_500, 0));
            Thread.sleep(1_700);
            try (OutputLease next = OutputLease.acquire(dir, new Configuration(), "run", FAST)) {
                assertThat(OutputLease.generationOf(next.file())).isEqualTo(2);
                next.verify();
                assertThatThrownBy(dead::verify).as(dir.toString()).hasMessageContaining("lost the lease")
                        .hasMessageContaining("`understudy run`");
                RunStore store = new RunStore(dir, new Configuration());
                store.beforeCommit(dead::verify);
                assertThatThrownBy(() -> RunStoreTest.commit(store, 1)).hasMessageContaining("lost the lease");
                assertThat(store.committedRounds()).isEmpty();
                dead.close(); // must not delete the new holder's lease
                next.verify();
            }
        }
    }

    @Test
    void writersRacingForOneDirectoryGetExactlyOneLease() throws Exception {
        for (URI dir : dirs("race")) {
            ExecutorService pool = Executors.newFixedThreadPool(6);
            try {
                List<Future<OutputLease>> tries = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    Callable<OutputLease> c = () -> {
                        try {
                            return OutputLease.acquire(dir, new Configuration(), "run", FAST);
                        } catch (IllegalStateException e) {
                            return null;
                        }
                    };
                    tries.add(pool.submit(c));
                }
                List<OutputLease> won = new ArrayList<>();
                for (Future<OutputLease> f : tries) {
                    if (f.get() != null) {
                        won.add(f.get());
                    }
                }
                assertThat(won).as(dir.toString()).hasSize(1);
                won.get(0).close();
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void theLeaseNamesOwnerHostAndHeartbeat() throws Exception {
        for (URI dir : dirs("content")) {
            try (OutputLease lease = OutputLease.acquire(dir, new Configuration(), "run", FAST)) {
                JsonObject first = read(dir, lease);
                assertThat(first.get("owner").getAsString()).isEqualTo(System.getProperty("user.name"));
                assertThat(first.has("host")).isTrue();
                long deadline = System.nanoTime() + 20_000_000_000L; // a MiniDFSCluster's first writes can take seconds
                while (read(dir, lease).get("heartbeat").equals(first.get("heartbeat")) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(read(dir, lease).get("heartbeat").getAsLong()).as(dir.toString())
                        .isGreaterThan(first.get("heartbeat").getAsLong());
                assertThat(read(dir, lease).get("token")).isEqualTo(first.get("token"));
            }
        }
    }

    @Test
    void aLeaseStillBeingWrittenCountsAsLive() throws Exception {
        URI dir = URI.create(hdfs.uri() + "/runs/half-written");
        FileSystem fs = fs(dir);
        try (OutputStream out = fs.create(new org.apache.hadoop.fs.Path(dir + "/_LEASE-00001.json"), false)) {
            out.write("{\"tok".getBytes(StandardCharsets.UTF_8)); // creator not done
        }
        assertThatThrownBy(() -> OutputLease.acquire(dir, new Configuration(), "run", FAST))
                .hasMessageContaining("in use by a writer whose lease is still being written");
        for (FileStatus st : fs.listStatus(new org.apache.hadoop.fs.Path(dir))) {
            fs.delete(st.getPath(), false);
        }
    }

    static JsonObject read(URI dir, OutputLease lease) throws IOException {
        try (InputStream in = fs(dir).open(lease.file())) {
            return JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }
}
