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
 * A model directory on any Hadoop filesystem, written file by file; a file becomes visible under
 * its name only once its stream closes, as in {@link RunStore#write}: on object stores ({@code
 * s3a://}) the stream writes the final key, which the upload publishes at close (an S3 rename
 * would copy every byte of a multi-GB shard again); elsewhere it writes a hidden temporary file
 * renamed into place at close (atomically replacing an older file on HDFS). {@link
 * ModelSink.Abortable#abort()} discards the file: it aborts the upload or deletes the temporary.
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
        if (RunStore.publishesOnClose(fs, target)) {
            return new AtomicOut(fs, null, target, fs.create(target, true));
        }
        Path tmp = new Path(target.getParent(), "." + target.getName() + RunStore.TMP_MARKER + UUID.randomUUID());
        return new AtomicOut(fs, tmp, target, fs.create(tmp, true));
    }

    /** Writes {@code tmp} then renames it onto {@code target}, or (tmp == null) writes {@code target} directly. */
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
            if (tmp != null) {
                try {
                    RunStore.publish(fs, tmp, target);
                } catch (IOException e) {
                    fs.delete(tmp, false);
                    throw e;
                }
            }
        }

        @Override
        public void abort() throws IOException {
            if (done) {
                return;
            }
            done = true;
            if (tmp == null) {
                out.abort(); // the upload never completes: no object appears
                return;
            }
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
