package dev.understudy.ops.io;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Write access to one model directory, by path relative to it with {@code /} separators.
 * Implementations make each file appear atomically: readers see either nothing (or the previous
 * version) or the complete file, never a partial one. {@link DirectoryModelSink} writes locally;
 * the Spark module adds a Hadoop {@code FileSystem} one.
 */
public interface ModelSink {
    /**
     * Creates (or replaces) a file. Its content becomes visible when the returned stream is closed.
     * Streams should implement {@link Abortable} so that {@link #write} can discard a failed write
     * instead of publishing it.
     */
    OutputStream create(String relativePath) throws IOException;

    /** Where the files go, e.g. the directory URI; used in error messages. */
    String describe();

    /** Where {@code relativePath} goes, for error messages: {@link #describe()} joined with it. */
    default String describe(String relativePath) {
        String base = describe();
        return base.endsWith("/") ? base + relativePath : base + "/" + relativePath;
    }

    /**
     * Creates {@code relativePath}, lets {@code content} fill it and publishes it. If {@code
     * content} throws, the file is discarded when the stream is {@link Abortable} (otherwise the
     * stream is just closed) and the exception propagates. Prefer this to {@link #create} with
     * try-with-resources, which would publish a half-written file on failure.
     */
    default void write(String relativePath, Content content) throws IOException {
        OutputStream out = create(relativePath);
        try {
            content.writeTo(out);
        } catch (Throwable t) {
            try {
                if (out instanceof Abortable abortable) {
                    abortable.abort();
                } else {
                    out.close();
                }
            } catch (Throwable suppressed) {
                t.addSuppressed(suppressed);
            }
            throw t;
        }
        out.close();
    }

    /** Fills a file created by {@link #write}. */
    @FunctionalInterface
    interface Content {
        /** Writes the file's bytes; must not close {@code out}. */
        void writeTo(OutputStream out) throws IOException;
    }

    /** An output stream whose file can be discarded instead of published. */
    interface Abortable {
        /** Discards everything written and releases the stream; later {@code close()} does nothing. */
        void abort() throws IOException;
    }
}
