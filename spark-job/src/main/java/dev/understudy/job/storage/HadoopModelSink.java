package dev.understudy.job.storage;

import dev.understudy.ops.io.ModelSink;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A model directory on any Hadoop filesystem, written file by file: each file streams into a hidden
 * temporary name in the same directory and is renamed into place when its stream closes (on HDFS
 * an atomic rename; on S3A a copy, so readers may briefly see the previous version, never a
 * partial one). {@link ModelSink.Abortable#abort()} deletes the temporary file.
 */
public final class HadoopModelSink implements ModelSink {
    private final Path dir;
    private final Configuration conf;

    public HadoopModelSink(URI dir, Configuration conf) {
        this.dir = new Path(dir);
        this.conf = conf;
    }

    @Override
    public OutputStream create(String relativePath) throws IOException {
        Path target = new Path(dir, relativePath);
        FileSystem fs = target.getFileSystem(conf);
        Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
        return new AtomicOut(fs, tmp, target, fs.create(tmp, true));
    }

    private static final class AtomicOut extends OutputStream implements Abortable {
            private final FileSystem fs;
            private final Path tmp;
            private final Path target;
            private final FSDataOutputStream out;
            private boolean done;

            AtomicOut(FileSystem fs, Path tmp, Path target, FSDataOutputStream out) {
                this.fs = fs;
                this.tmp = tmp;
                this.target = target;
                this.out = out;
            }

            @Override
            public void write(int b) throws IOException {
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void flush() throws IOException {
                out.flush();
            }

            @Override
            public void close() throws IOException {
                if (done) {
                    return;
                }
                done = true;
                out.close();
                if (fs.exists(target)) {
                    fs.delete(target, false);
                }
                if (!fs.rename(tmp, target)) {
                    fs.delete(tmp, false);
                    throw new IOException("could not publish " + target + " (rename from " + tmp + " failed)");
                }
            }

            @Override
            public void abort() throws IOException {
                if (done) {
                    return;
                }
                done = true;
                try {
                    out.close();
                } finally {
                    fs.delete(tmp, false);
                }
            }
    }

    @Override
    public String describe() {
        return dir.toString();
    }
}
