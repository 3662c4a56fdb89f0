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
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The output directory of a federated run on any Hadoop filesystem ({@code file://}, {@code
 * hdfs://}, {@code s3a://}).
 *
 * <p>Round commit protocol, chosen so it is atomic on object stores where directory renames are
 * not: every file of round {@code r} is written under {@code rounds/round-<r>/}, each file through a
 * temporary name renamed into place (a plain copy on S3, but a reader never sees a partial file
 * under its final name), and {@code _MANIFEST.json} is written <em>last</em>, listing every file
 * with its length and SHA-256. A round counts as committed only when its manifest exists and every
 * listed file matches; anything else is a half-written round, which {@link #lastCommittedRound}
 * ignores and {@link #discardUncommitted} removes.
 */
public final class RunStore implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final String MANIFEST = "_MANIFEST.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private final String base; // URI string, e.g. hdfs://nn:8020/runs/exp1
    private transient Configuration conf;
    private final Map<String, String> confEntries; // hadoop settings to rebuild conf after deserialisation

    public RunStore(URI base, Configuration conf) {
        this.base = base.toString().replaceAll("/+$", "");
        this.conf = conf;
        this.confEntries = new TreeMap<>();
        for (Map.Entry<String, String> e : conf) {
            if (e.getKey().startsWith("fs.")) {
                confEntries.put(e.getKey(), e.getValue());
            }
        }
    }

    private Configuration conf() {
        if (conf == null) {
            conf = new Configuration();
            confEntries.forEach(conf::set);
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

    /** Writes {@code bytes} to {@code rel}, visible under its final name only once complete. */
    public void write(String rel, byte[] bytes) throws IOException {
        Path target = path(rel);
        FileSystem fs = target.getFileSystem(conf());
        Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp-" + java.util.UUID.randomUUID());
        try (FSDataOutputStream out = fs.create(tmp, true)) {
            out.write(bytes);
        }
        if (fs.exists(target)) {
            fs.delete(target, false);
        }
        if (!fs.rename(tmp, target)) {
            fs.delete(tmp, false);
            throw new IOException("could not publish " + target + " (rename from " + tmp + " failed)");
        }
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

    /** The highest committed round, if any. */
    public Optional<Integer> lastCommittedRound() throws IOException {
        List<Integer> r = committedRounds();
        return r.isEmpty() ? Optional.empty() : Optional.of(r.get(r.size() - 1));
    }

    /** Deletes round directories without a manifest (left by a crash mid-commit); returns them. */
    public List<String> discardUncommitted() throws IOException {
        List<String> removed = new ArrayList<>();
        Path rounds = path("rounds");
        FileSystem fs = rounds.getFileSystem(conf());
        if (!fs.exists(rounds)) {
            return removed;
        }
        for (FileStatus st : fs.listStatus(rounds)) {
            if (st.isDirectory() && !fs.exists(new Path(st.getPath(), MANIFEST))) {
                fs.delete(st.getPath(), true);
                removed.add(st.getPath().getName());
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

    /** Opens a file for streaming writes (for large artifacts); the caller closes it. */
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
