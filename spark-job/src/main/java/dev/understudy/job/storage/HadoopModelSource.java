package dev.understudy.job.storage;

import dev.understudy.ops.io.ModelSource;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** A Hugging Face model directory on any Hadoop filesystem, read as streams. */
public final class HadoopModelSource implements ModelSource {
    private final Path dir;
    private final Configuration conf;

    public HadoopModelSource(URI dir, Configuration conf) {
        this.dir = new Path(dir);
        this.conf = conf;
    }

    @Override
    public InputStream open(String relativePath) throws IOException {
        Path p = new Path(dir, relativePath);
        FileSystem fs = p.getFileSystem(conf);
        if (!fs.exists(p)) {
            throw new FileNotFoundException(p.toString());
        }
        return fs.open(p);
    }

    @Override
    public boolean exists(String relativePath) throws IOException {
        Path p = new Path(dir, relativePath);
        return p.getFileSystem(conf).exists(p);
    }

    @Override
    public String describe() {
        return dir.toString();
    }

    @Override
    public String describe(String relativePath) {
        return new Path(dir, relativePath).toString();
    }

    /**
     * Copies the directory's files (not recursive) to a local directory, so the model can be
     * memory-mapped; a local {@code file:} source is used in place.
     *
     * <p>The copy lives under {@code cacheRoot/<sha-256 of the URI and of every file's name, length and
     * modification time>}: a model replaced at the same URI gets a fresh copy instead of a stale one,
     * and a copy in use is never overwritten. Each file is copied under a unique temporary name and
     * moved into place, and {@code .complete} is written last, so executor JVMs on one host that copy
     * the same model at the same time do not see each other's partial files.
     */
    public java.nio.file.Path localCopy(java.nio.file.Path cacheRoot) throws IOException {
        FileSystem fs = dir.getFileSystem(conf);
        if ("file".equals(fs.getUri().getScheme())) {
            return java.nio.file.Path.of(dir.toUri().getPath());
        }
        FileStatus[] listing;
        try {
            listing = fs.listStatus(dir);
        } catch (FileNotFoundException e) {
            throw new FileNotFoundException("no model directory " + dir + " (model.base)");
        }
        Map<String, FileStatus> files = new TreeMap<>();
        for (FileStatus st : listing) {
            if (st.isFile()) {
                files.put(st.getPath().getName(), st);
            }
        }
        StringBuilder signature = new StringBuilder(fs.makeQualified(dir).toString());
        files.forEach((name, st) -> signature.append('\n').append(name).append('\t').append(st.getLen()).append('\t')
                .append(st.getModificationTime()));
        java.nio.file.Path local = cacheRoot.resolve(sha256(signature.toString()).substring(0, 32));
        java.nio.file.Path done = local.resolve(".complete");
        if (Files.exists(done)) {
            String problem = VerifiedCopy.problem(local, signature.toString());
            if (problem == null) {
                return local;
            }
            System.err.println("understudy: model copy " + local + " fails verification (" + problem + "); copying again");
            Files.deleteIfExists(done);
        }
        Files.createDirectories(local);
        Map<String, String> hashes = new TreeMap<>();
        for (Map.Entry<String, FileStatus> f : files.entrySet()) {
            java.nio.file.Path target = local.resolve(f.getKey());
            java.nio.file.Path tmp = Files.createTempFile(local, "." + f.getKey() + ".", ".part");
            try (InputStream in = fs.open(f.getValue().getPath())) {
                hashes.put(f.getKey(), VerifiedCopy.copyHashing(in, tmp));
            } catch (IOException e) {
                Files.deleteIfExists(tmp);
                throw new IOException("cannot copy " + f.getValue().getPath() + " to " + target + ": " + e.getMessage(), e);
            }
            long copied = Files.size(tmp);
            if (copied != f.getValue().getLen()) {
                Files.deleteIfExists(tmp);
                throw new IOException("copied " + copied + " bytes of " + f.getValue().getPath() + " but it has "
                        + f.getValue().getLen() + "; was the model replaced during the copy?");
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        java.nio.file.Path doneTmp = Files.createTempFile(local, ".complete.", ".part");
        Files.writeString(doneTmp, VerifiedCopy.marker(signature.toString(), hashes));
        Files.move(doneTmp, done, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return local;
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
