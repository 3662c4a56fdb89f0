package dev.understudy.job.storage;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The single-writer lease of a run directory: a second {@code run} or {@code resume} on the same
 * {@code output.dir} refuses at start, naming the owner, instead of overwriting the first run's files.
 *
 * <p>The lease is a small JSON file {@code _LEASE-<generation>.json} (owner, host, pid, command,
 * start, heartbeat) in the run directory; the holder rewrites it every {@code heartbeat} and deletes
 * it when it ends. The live lease is the one of the highest generation. A lease whose heartbeat is
 * older than {@code expiry} belongs to a dead writer: the next writer takes it over by creating the
 * <em>next</em> generation, never by deleting the old file first, so two writers racing for a stale
 * lease race for one create, which only one wins. Heartbeats compare the writer's clock with the
 * clocks of the hosts that read the lease: they must agree to well within {@code expiry} (60 s by
 * default).
 *
 * <p>What "only one wins" rests on, per filesystem:
 * <ul>
 *   <li>{@code file://}: the lease is written to a private temporary file and hard-linked under its
 *       final name ({@code link(2)} fails if the name exists: atomic, and the file is complete
 *       when it appears); heartbeats replace it by an atomic rename.
 *   <li>{@code hdfs://}: {@code create(path, overwrite=false)} is decided by the NameNode under its
 *       namespace lock: exactly one creator succeeds, the others get {@code FileAlreadyExistsException}.
 *       The file is readable (possibly empty) while its creator writes it, so an unreadable lease
 *       younger than {@code expiry} (by its modification time) counts as live. Heartbeats replace the
 *       file by {@code rename(OVERWRITE)}, atomic on the NameNode.
 *   <li>{@code s3a://} (object stores without a create-exclusive; Hadoop 3.4.1's S3A checks for the
 *       key and then PUTs, which two writers can both pass): after creating its generation the writer
 *       waits {@code settle} and reads the lease back; S3 is strongly consistent (read-after-write,
 *       last writer wins), so of two writers that both created it, only the one whose PUT came last
 *       reads its own token and keeps the lease; the other refuses, naming the winner. This holds as
 *       long as both PUTs complete within {@code settle} of each other (3 s by default; a writer
 *       checks, then PUTs within milliseconds).
 * </ul>
 * On every filesystem the holder checks before each round commit that the live lease is still its
 * own ({@link #verify}), so a writer that lost its lease (e.g. paused past the expiry and taken
 * over) fails before it writes a manifest rather than mixing two runs.
 *
 * <p>Timing settings (Hadoop configuration, e.g. {@code --conf spark.hadoop.understudy.lease.expiry.ms=...}):
 * {@code understudy.lease.heartbeat.ms} (10 000), {@code understudy.lease.expiry.ms} (60 000),
 * {@code understudy.lease.settle.ms} (3 000, object stores only).
 */
public final class OutputLease implements AutoCloseable {
    static final String PREFIX = "_LEASE-";
    static final String SUFFIX = ".json";

    private final Path dir;
    private final FileSystem fs;
    private final boolean local;
    private final Path file;
    private final JsonObject info;
    private final long heartbeatMs;
    private final ScheduledExecutorService beat;
    private volatile String lost; // why the lease was lost, or null

    private OutputLease(Path dir, FileSystem fs, boolean local, Path file, JsonObject info, long heartbeatMs) {
        this.dir = dir;
        this.fs = fs;
        this.local = local;
        this.file = file;
        this.info = info;
        this.heartbeatMs = heartbeatMs;
        this.beat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "understudy-lease-heartbeat");
            t.setDaemon(true);
            return t;
        });
        beat.scheduleWithFixedDelay(this::heartbeat, heartbeatMs, heartbeatMs, TimeUnit.MILLISECONDS);
    }

    /** The timing of a lease. */
    public record Timing(long heartbeatMs, long expiryMs, long settleMs) {
        public static Timing of(Configuration conf) {
            return new Timing(conf.getLong("understudy.lease.heartbeat.ms", 10_000),
                    conf.getLong("understudy.lease.expiry.ms", 60_000), conf.getLong("understudy.lease.settle.ms", 3_000));
        }
    }

    /**
     * Takes the lease of {@code dir} (created if missing) for {@code command}.
     *
     * @throws IllegalStateException naming the owner when another writer holds a live lease
     */
    public static OutputLease acquire(URI dir, Configuration conf, String command) throws IOException {
        return acquire(dir, conf, command, Timing.of(conf));
    }

    public static OutputLease acquire(URI dirUri, Configuration conf, String command, Timing timing) throws IOException {
        Path dir = new Path(dirUri.toString().replaceAll("/+$", ""));
        FileSystem fs = dir.getFileSystem(conf);
        boolean local = "file".equals(fs.getUri().getScheme());
        boolean objectStore = !local && RunStore.publishesOnClose(fs, dir);
        fs.mkdirs(dir);
        for (int attempt = 0; attempt < 5; attempt++) {
            List<FileStatus> leases = leases(fs, dir);
            long generation = 1;
            if (!leases.isEmpty()) {
                FileStatus top = leases.get(leases.size() - 1);
                generation = generationOf(top.getPath()) + 1;
                JsonObject held = readOrNull(fs, top.getPath());
                long now = System.currentTimeMillis();
                long heartbeat = held != null && held.has("heartbeat") ? held.get("heartbeat").getAsLong()
                        : top.getModificationTime();
                if (now - heartbeat < timing.expiryMs()) {
                    throw new IllegalStateException(inUse(dir, held, now - heartbeat, timing));
                }
                System.out.println("output.dir " + dir + ": taking over the stale lease of " + describe(held) + " (last heartbeat "
                        + (now - heartbeat) / 1000 + " s ago, expiry " + timing.expiryMs() / 1000 + " s)");
            }
            Path file = new Path(dir, String.format(Locale.ROOT, "%s%05d%s", PREFIX, generation, SUFFIX));
            JsonObject info = newInfo(command, generation);
            if (!createExclusive(fs, local, file, info)) {
                continue; // another writer created this generation first: look again (it is live now)
            }
            if (objectStore) {
                sleep(timing.settleMs());
                JsonObject back = readOrNull(fs, file);
                if (back == null || !info.get("token").equals(back.get("token"))) {
                    continue; // a concurrent PUT replaced ours: the next look names its owner
                }
            }
            for (FileStatus old : leases) { // superseded generations
                fs.delete(old.getPath(), false);
            }
            return new OutputLease(dir, fs, local, file, info, timing.heartbeatMs());
        }
        throw new IllegalStateException("could not take the lease of output.dir " + dir
                + ": other writers keep taking it; check what else writes there");
    }

    /** The lease files of {@code dir}, by ascending generation. */
    static List<FileStatus> leases(FileSystem fs, Path dir) throws IOException {
        List<FileStatus> out = new ArrayList<>();
        if (!fs.exists(dir)) {
            return out;
        }
        for (FileStatus st : fs.listStatus(dir)) {
            String n = st.getPath().getName();
            if (st.isFile() && n.matches(PREFIX + "\\d{5,}" + "\\" + SUFFIX)) {
                out.add(st);
            }
        }
        out.sort((a, b) -> Long.compare(generationOf(a.getPath()), generationOf(b.getPath())));
        return out;
    }

    static long generationOf(Path p) {
        String n = p.getName();
        return Long.parseLong(n.substring(PREFIX.length(), n.length() - SUFFIX.length()));
    }

    private static JsonObject newInfo(String command, long generation) {
        JsonObject o = new JsonObject();
        o.addProperty("token", UUID.randomUUID().toString());
        o.addProperty("generation", generation);
        o.addProperty("owner", System.getProperty("user.name", "?"));
        o.addProperty("host", hostName());
        o.addProperty("pid", ProcessHandle.current().pid());
        o.addProperty("command", command);
        long now = System.currentTimeMillis();
        o.addProperty("started", now);
        o.addProperty("heartbeat", now);
        return o;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return ManagementFactory.getRuntimeMXBean().getName();
        }
    }

    static String describe(JsonObject held) {
        if (held == null) {
            return "a writer whose lease is still being written";
        }
        return String.format(Locale.ROOT, "`understudy %s` by %s on %s (pid %s, started %s)", str(held, "command"),
                str(held, "owner"), str(held, "host"), str(held, "pid"),
                held.has("started") ? Instant.ofEpochMilli(held.get("started").getAsLong()).toString() : "?");
    }

    private static String str(JsonObject o, String k) {
        return o.has(k) ? o.get(k).getAsString() : "?";
    }

    private static String inUse(Path dir, JsonObject held, long ageMs, Timing timing) {
        return "output.dir " + dir + " is in use by " + describe(held) + ", last heartbeat " + ageMs / 1000
                + " s ago; wait for it to end or use another output.dir (a lease without a heartbeat for "
                + timing.expiryMs() / 1000 + " s is taken over)";
    }

    private static boolean createExclusive(FileSystem fs, boolean local, Path file, JsonObject info) throws IOException {
        byte[] bytes = info.toString().getBytes(StandardCharsets.UTF_8);
        if (local) {
            java.nio.file.Path target = java.nio.file.Path.of(file.toUri());
            java.nio.file.Path tmp = Files.createTempFile(target.getParent(), "." + PREFIX, ".tmp");
            try {
                Files.write(tmp, bytes);
                Files.createLink(target, tmp); // fails if the name exists
                return true;
            } catch (FileAlreadyExistsException e) {
                return false;
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        FSDataOutputStream out;
        try {
            out = fs.create(file, false);
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            if (fs.exists(file)) { // e.g. HDFS reports the lost create as a RemoteException-wrapped one
                return false;
            }
            throw e;
        }
        try (out) {
            out.write(bytes);
        }
        return true;
    }

    private static JsonObject readOrNull(FileSystem fs, Path p) {
        try (InputStream in = fs.open(p)) {
            return JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            return null; // gone, or still being written
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while taking the lease", e);
        }
    }

    /** The lease file (for tests and messages). */
    public Path file() {
        return file;
    }

    /**
     * Fails unless this writer still holds the lease: called before every round commit.
     *
     * @throws IllegalStateException naming the new owner otherwise
     */
    public void verify() throws IOException {
        if (lost != null) {
            throw new IllegalStateException(lost);
        }
        String why = check();
        if (why != null) {
            lost = why;
            throw new IllegalStateException(why);
        }
    }

    /** Why this writer no longer holds the lease, or null if it does. */
    private String check() throws IOException {
        List<FileStatus> leases = leases(fs, dir);
        JsonObject top = leases.isEmpty() ? null : readOrNull(fs, leases.get(leases.size() - 1).getPath());
        if (top != null && info.get("token").equals(top.get("token"))) {
            return null;
        }
        return "lost the lease of output.dir " + dir + (top == null ? " (its lease file is gone)" : " to " + describe(top))
                + "; stopped without committing more rounds (another writer now owns the directory)";
    }

    private synchronized void heartbeat() {
        if (lost != null) {
            return;
        }
        try {
            String why = check();
            if (why != null) {
                lost = why;
                System.err.println("warning: " + why);
                return;
            }
            info.addProperty("heartbeat", System.currentTimeMillis());
            replace(info.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            System.err.println("warning: lease heartbeat on " + file + " failed (" + e.getMessage() + "); retrying in "
                    + heartbeatMs / 1000 + " s");
        }
    }

    private void replace(byte[] bytes) throws IOException {
        if (local) {
            java.nio.file.Path target = java.nio.file.Path.of(file.toUri());
            java.nio.file.Path tmp = Files.createTempFile(target.getParent(), "." + PREFIX, ".tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        if (RunStore.publishesOnClose(fs, file)) {
            try (FSDataOutputStream out = fs.create(file, true)) {
                out.write(bytes);
            }
            return;
        }
        Path tmp = new Path(dir, "." + file.getName() + RunStore.TMP_MARKER + UUID.randomUUID());
        try (FSDataOutputStream out = fs.create(tmp, true)) {
            out.write(bytes);
        }
        RunStore.publish(fs, tmp, file);
    }

    /** Stops the heartbeat and deletes the lease file if it is still this writer's. */
    @Override
    public synchronized void close() throws IOException {
        beat.shutdownNow();
        if (lost == null && check() == null) {
            lost = "released";
            try {
                fs.delete(file, false);
            } catch (FileNotFoundException e) {
                // already gone
            }
        }
    }
}
