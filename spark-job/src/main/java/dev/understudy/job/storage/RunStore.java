package dev.understudy.job.storage;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DistributedFileSystem;

/**
 * The output directory of a federated run on any Hadoop filesystem ({@code file://}, {@code
 * hdfs://}, {@code s3a://}).
 *
 * <p>Round commit protocol, chosen so it is atomic on object stores where directory renames are
 * not: every file of round {@code r} is written under {@code rounds/round-<r>/} and {@code
 * _MANIFEST.json} is written <em>last</em>, listing every file with its length and SHA-256. A round
 * counts as committed only when its manifest exists (and {@link #readRound} checks every listed
 * file against it); anything else is a half-written round, which {@link #lastCommittedRound}
 * ignores and {@link #discardUncommitted} removes. The protocol never renames a directory.
 *
 * <p>Each single file becomes visible under its final name only once complete (see {@link #write}):
 * <ul>
 *   <li>On filesystems where a file is visible while it is written ({@code hdfs://}, {@code
 *       file://}), it is written under a hidden temporary name in the same directory and renamed into
 *       place. HDFS renames a file onto an existing one atomically ({@code Rename.OVERWRITE}); other
 *       such filesystems rename, or delete the old file and then rename.
 *   <li>On object stores whose output streams publish the object only when {@code close()} completes
 *       the upload ({@code s3a://}: path capability {@code fs.capability.outputstream.abortable}),
 *       the file is written straight to its final key. An S3 "rename" is a server-side copy plus a
 *       delete, not atomic and twice the traffic; a PUT already replaces an object atomically, and a
 *       write that fails is aborted so that no partial object appears.
 * </ul>
 * Either way the manifest, written last, is what commits a round; S3's read-after-write
 * consistency makes every file written before it visible to whoever sees the manifest.
 *
 * <p>With {@code keepRounds > 0}, each commit then prunes committed rounds older than the newest
 * {@code keepRounds} (never the newest one). A pruned round loses its manifest <em>first</em>, so a
 * crash in the middle of deleting its files leaves a half-written round, which {@link
 * #discardUncommitted} removes, never a committed round with files missing.
 */
public final class RunStore implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final String MANIFEST = "_MANIFEST.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    static final String TMP_MARKER = ".tmp-";

    private final String base; // URI string, e.g. hdfs://nn:8020/runs/exp1
    private transient Configuration conf;
    private final HadoopConf hadoop; // rebuilds conf after deserialisation
    private final int keepRounds;
    private transient CommitGuard beforeCommit; // e.g. the run directory's lease check

    /** A check run before every round's manifest is written; throws to stop the commit. */
    @FunctionalInterface
    public interface CommitGuard {
        void check() throws IOException;
    }

    /** Runs {@code guard} before every {@link #commitRound} writes anything (the lease check, {@link OutputLease#verify}). */
    public void beforeCommit(CommitGuard guard) {
        this.beforeCommit = guard;
    }

    /** A run directory that keeps every committed round. */
    public RunStore(URI base, Configuration conf) {
        this(base, conf, 0);
    }

    /**
     * @param keepRounds committed rounds to keep, newest first ({@code output.keep_rounds}); 0 keeps all
     */
    public RunStore(URI base, Configuration conf, int keepRounds) {
        if (keepRounds < 0) {
            throw new IllegalArgumentException("Cannot set output.keep_rounds to " + keepRounds + ", must be ≥ 0 (0 keeps all)");
        }
        this.base = base.toString().replaceAll("/+$", "");
        this.conf = conf;
        this.hadoop = HadoopConf.of(conf);
        this.keepRounds = keepRounds;
    }

    private Configuration conf() {
        if (conf == null) {
            conf = hadoop.toConfiguration();
        }
        return conf;
    }

    public String base() {
        return base;
    }

    private Path path(String rel) {
        return new Path(base + "/" + rel);
    }

    private FileSystem fs() throws IOException {
        return path("").getFileSystem(conf());
    }

    /** Directory of round {@code r} relative to the base: {@code rounds/round-00007}. */
    public static String roundDir(int round) {
        return String.format("rounds/round-%05d", round);
    }

    /**
     * Writes {@code bytes} to {@code rel}, replacing any file there; the file is visible under its
     * final name only once complete (how depends on the filesystem, see the class comment).
     */
    public void write(String rel, byte[] bytes) throws IOException {
        Path target = path(rel);
        FileSystem fs = target.getFileSystem(conf());
        if (publishesOnClose(fs, target)) {
            FSDataOutputStream out = fs.create(target, true);
            try {
                out.write(bytes);
            } catch (IOException | RuntimeException e) {
                out.abort();
                throw e;
            }
            out.close();
            return;
        }
        Path tmp = new Path(target.getParent(), "." + target.getName() + TMP_MARKER + UUID.randomUUID());
        try (FSDataOutputStream out = fs.create(tmp, true)) {
            out.write(bytes);
        }
        try {
            publish(fs, tmp, target);
        } catch (IOException e) {
            fs.delete(tmp, false);
            throw e;
        }
    }

    /**
     * Whether {@code fs} makes a file visible only when its output stream closes and can abort the
     * stream instead (object stores such as S3A: the upload completes at close).
     */
    static boolean publishesOnClose(FileSystem fs, Path path) throws IOException {
        return fs.hasPathCapability(path, CommonPathCapabilities.ABORTABLE_STREAM);
    }

    /** Renames a complete temporary file onto {@code target}, replacing it. */
    static void publish(FileSystem fs, Path tmp, Path target) throws IOException {
        if (fs instanceof DistributedFileSystem dfs) {
            dfs.rename(tmp, target, Options.Rename.OVERWRITE); // atomic replace
            return;
        }
        if (fs.rename(tmp, target)) { // replaces atomically where the filesystem allows it (POSIX)
            return;
        }
        // the filesystem refuses to rename onto an existing file: the old one goes first
        if (fs.exists(target) && fs.delete(target, false) && fs.rename(tmp, target)) {
            return;
        }
        throw new IOException("could not publish " + target + " (rename from " + tmp + " failed)");
    }

    public void writeString(String rel, String text) throws IOException {
        write(rel, text.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] read(String rel) throws IOException {
        Path p = path(rel);
        FileSystem fs = p.getFileSystem(conf());
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        } catch (FileNotFoundException e) {
            throw new FileNotFoundException("no file " + p + " in run directory " + base);
        }
    }

    public String readString(String rel) throws IOException {
        return new String(read(rel), StandardCharsets.UTF_8);
    }

    public boolean exists(String rel) throws IOException {
        return fs().exists(path(rel));
    }

    /** Appends a line to a JSON-lines file (rewrites it: Hadoop object stores cannot append). */
    public void appendLine(String rel, String line) throws IOException {
        String prior = exists(rel) ? readString(rel) : "";
        writeString(rel, prior + line + "\n");
    }

    /**
     * Commits round {@code r}: writes {@code files} (relative to the round directory), then the
     * manifest with their lengths and SHA-256 and the given metadata.
     */
    public void commitRound(int round, Map<String, byte[]> files, JsonObject metadata) throws IOException {
        String dir = roundDir(round);
        if (beforeCommit != null) {
            beforeCommit.check();
        }
        if (exists(dir + "/" + MANIFEST)) {
            throw new IOException("round " + round + " is already committed in " + base
                    + "; refusing to overwrite (use resume, or a new output.dir)");
        }
        JsonObject listing = new JsonObject();
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            write(dir + "/" + f.getKey(), f.getValue());
            JsonObject entry = new JsonObject();
            entry.addProperty("bytes", f.getValue().length);
            entry.addProperty("sha256", sha256(f.getValue()));
            listing.add(f.getKey(), entry);
        }
        JsonObject manifest = new JsonObject();
        manifest.addProperty("round", round);
        manifest.add("files", listing);
        manifest.add("metadata", metadata);
        writeString(dir + "/" + MANIFEST, GSON.toJson(manifest));
        if (keepRounds > 0) {
            pruneRounds(keepRounds);
        }
    }

    /**
     * Deletes committed rounds older than the newest {@code keep} ({@code keep ≥ 1}, so never the
     * newest); returns the rounds deleted. Each loses its manifest before its files, so an
     * interrupted prune leaves a half-written round, not a committed one with files missing.
     */
    public List<Integer> pruneRounds(int keep) throws IOException {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be ≥ 1 to prune rounds, got " + keep);
        }
        List<Integer> rounds = committedRounds();
        List<Integer> old = rounds.subList(0, Math.max(0, rounds.size() - keep));
        FileSystem fs = fs();
        for (int r : old) {
            Path dir = path(roundDir(r));
            if (!fs.delete(new Path(dir, MANIFEST), false) || !fs.delete(dir, true)) {
                throw new IOException("could not delete old round " + dir + " (output.keep_rounds=" + keep + ")");
            }
        }
        return List.copyOf(old);
    }

    /** The committed round's files (verified against the manifest) and metadata. */
    public CommittedRound readRound(int round) throws IOException {
        String dir = roundDir(round);
        JsonObject manifest = JsonParser.parseString(readString(dir + "/" + MANIFEST)).getAsJsonObject();
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (var e : manifest.getAsJsonObject("files").entrySet()) {
            byte[] b = read(dir + "/" + e.getKey());
            JsonObject want = e.getValue().getAsJsonObject();
            if (b.length != want.get("bytes").getAsLong() || !sha256(b).equals(want.get("sha256").getAsString())) {
                throw new IOException("round " + round + " file " + e.getKey() + " in " + base
                        + " does not match its manifest (corrupted or overwritten)");
            }
            files.put(e.getKey(), b);
        }
        return new CommittedRound(round, files, manifest.getAsJsonObject("metadata"));
    }

    /** A committed round's content. */
    public record CommittedRound(int round, Map<String, byte[]> files, JsonObject metadata) {}

    /** Rounds with a manifest, ascending. */
    public List<Integer> committedRounds() throws IOException {
        List<Integer> out = new ArrayList<>();
        Path rounds = path("rounds");
        FileSystem fs = rounds.getFileSystem(conf());
        if (!fs.exists(rounds)) {
            return out;
        }
        for (FileStatus st : fs.listStatus(rounds)) {
            String name = st.getPath().getName();
            if (st.isDirectory() && name.matches("round-\\d{5}") && fs.exists(new Path(st.getPath(), MANIFEST))) {
                out.add(Integer.parseInt(name.substring(6)));
            }
        }
        out.sort(null);
        return out;
    }

    /**
     * Reads committed round {@code round}, or the last one when it is null; a missing round is an
     * error naming the committed ones ({@code noneHint} says what to do when there is none).
     */
    public CommittedRound readRoundOrLast(Integer round, String noneHint) throws IOException {
        int r = round != null ? round : lastCommittedRound().orElseThrow(() -> new IllegalStateException(
                "output.dir " + base + " has no committed round; " + noneHint));
        List<Integer> committed = committedRounds();
        if (!committed.contains(r)) {
            throw new IllegalArgumentException("round " + r + " is not committed in " + base + " (committed: " + committed
                    + ")");
        }
        return readRound(r);
    }

    /** The highest committed round, if any. */
    public Optional<Integer> lastCommittedRound() throws IOException {
        List<Integer> r = committedRounds();
        return r.isEmpty() ? Optional.empty() : Optional.of(r.get(r.size() - 1));
    }

    /**
     * Deletes round directories without a manifest (left by a crash mid-commit or mid-prune) and
     * temporary files left by an interrupted {@link #write}; returns what it removed, relative to the
     * base.
     */
    public List<String> discardUncommitted() throws IOException {
        List<String> removed = new ArrayList<>();
        FileSystem fs = fs();
        Path rounds = path("rounds");
        if (fs.exists(rounds)) {
            for (FileStatus st : fs.listStatus(rounds)) {
                if (st.isDirectory() && !fs.exists(new Path(st.getPath(), MANIFEST))) {
                    fs.delete(st.getPath(), true);
                    removed.add("rounds/" + st.getPath().getName());
                }
            }
        }
        for (String dir : List.of("", "adapter")) {
            Path p = dir.isEmpty() ? path("") : path(dir);
            if (!fs.exists(p)) {
                continue;
            }
            for (FileStatus st : fs.listStatus(p)) {
                String name = st.getPath().getName();
                if (st.isFile() && name.startsWith(".") && name.contains(TMP_MARKER)) {
                    fs.delete(st.getPath(), false);
                    removed.add(dir.isEmpty() ? name : dir + "/" + name);
                }
            }
        }
        return removed;
    }

    /** A model directory under the run directory (e.g. {@code adapter}), written file by file atomically. */
    public HadoopModelSink sink(String rel) {
        return new HadoopModelSink(java.net.URI.create(base + "/" + rel), conf());
    }

    /** A model directory anywhere, read as streams with this store's Hadoop configuration. */
    public HadoopModelSource modelSource(java.net.URI dir) {
        return new HadoopModelSource(dir, conf());
    }

    /** A model directory under the run directory, read as streams. */
    public HadoopModelSource source(String rel) {
        return new HadoopModelSource(java.net.URI.create(base + "/" + rel), conf());
    }

    /**
     * Opens a file for streaming writes (for large artifacts); the caller closes it. Unlike {@link
     * #write}, on HDFS and local disks the file is visible under its name while it is written, so
     * only list such files in a manifest written after they are closed.
     */
    public OutputStream create(String rel) throws IOException {
        return fs().create(path(rel), true);
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Serialises a small byte stream producer into bytes. */
    public static byte[] bytes(IoWriter w) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Writes to a stream. */
    @FunctionalInterface
    public interface IoWriter {
        void write(OutputStream out) throws IOException;
    }
}
