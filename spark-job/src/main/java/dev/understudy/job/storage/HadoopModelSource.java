package dev.understudy.job.storage;

import dev.understudy.ops.io.ModelSource;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
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
     */
    public java.nio.file.Path localCopy(java.nio.file.Path cacheRoot) throws IOException {
        FileSystem fs = dir.getFileSystem(conf);
        if ("file".equals(fs.getUri().getScheme())) {
            return java.nio.file.Path.of(dir.toUri().getPath());
        }
        java.nio.file.Path local = cacheRoot.resolve(Integer.toHexString(dir.toString().hashCode()));
        java.nio.file.Path done = local.resolve(".complete");
        if (Files.exists(done)) {
            return local;
        }
        Files.createDirectories(local);
        Map<String, Long> sizes = new TreeMap<>();
        for (FileStatus st : fs.listStatus(dir)) {
            if (st.isFile()) {
                java.nio.file.Path tmp = local.resolve(st.getPath().getName() + ".part");
                try (InputStream in = fs.open(st.getPath())) {
                    Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(tmp, local.resolve(st.getPath().getName()), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                sizes.put(st.getPath().getName(), st.getLen());
            }
        }
        Files.writeString(done, sizes.toString());
        return local;
    }
}
