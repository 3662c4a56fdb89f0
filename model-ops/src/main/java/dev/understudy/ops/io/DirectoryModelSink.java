package dev.understudy.ops.io;

import dev.understudy.ops.util.Preconditions;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A {@link ModelSink} writing under a local directory. Each file is written to a hidden temporary
 * file next to it, synced, and renamed over the target when the stream is closed, so readers never
 * see a partial file. Directories are created as needed.
 */
public final class DirectoryModelSink implements ModelSink {
    private final Path dir;

    /** A sink writing files under {@code dir}, which is created on the first write if needed. */
    public DirectoryModelSink(Path dir) {
        this.dir = Preconditions.checkNotNull(dir, "model directory").toAbsolutePath().normalize();
    }

    /** The (absolute) directory. */
    public Path dir() {
        return dir;
    }

    /** The returned stream is {@link ModelSink.Abortable}. */
    @Override
    public OutputStream create(String relativePath) throws IOException {
        Path target = LocalPaths.resolve(dir, relativePath);
        Path parent = target.getParent();
        Files.createDirectories(parent);
        // Same directory as the target so that the final rename stays on one file system (atomic).
        Path temp = Files.createTempFile(parent, "." + target.getFileName() + ".", ".tmp");
        return new AtomicFileOutputStream(temp, target);
    }

    @Override
    public String describe() {
        return dir.toUri().toString();
    }

    @Override
    public String toString() {
        return "DirectoryModelSink[" + dir + "]";
    }

    /** Writes to {@code temp}; {@code close()} publishes it as {@code target}, {@code abort()} deletes it. */
    private static final class AtomicFileOutputStream extends OutputStream implements ModelSink.Abortable {
        private final Path temp;
        private final Path target;
        private final FileChannel channel;
        private final OutputStream out;
        private boolean finished;

        AtomicFileOutputStream(Path temp, Path target) throws IOException {
            this.temp = temp;
            this.target = target;
            this.channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
        }

        @Override
        public void write(int b) throws IOException {
            checkOpen();
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            checkOpen();
            out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            checkOpen();
            out.flush();
        }

        @Override
        public void close() throws IOException {
            if (finished) {
                return;
            }
            finished = true;
            try {
                out.flush();
                // Sync before the rename: otherwise a crash could leave the new name pointing at
                // data that never reached the disk.
                channel.force(false);
                out.close();
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException | RuntimeException e) {
                discard(e);
                throw e;
            }
        }

        @Override
        public void abort() throws IOException {
            if (finished) {
                return;
            }
            finished = true;
            discard(null);
        }

        private void discard(Exception cause) throws IOException {
            try {
                out.close();
            } catch (IOException e) {
                if (cause != null) {
                    cause.addSuppressed(e);
                }
            } finally {
                Files.deleteIfExists(temp);
            }
        }

        private void checkOpen() throws IOException {
            if (finished) {
                throw new IOException("Stream for " + target + " is already closed");
            }
        }
    }
}
