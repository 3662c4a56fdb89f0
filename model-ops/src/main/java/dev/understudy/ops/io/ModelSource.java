package dev.understudy.ops.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Read access to the files of one model directory (a Hugging Face checkpoint, an adapter), by path
 * relative to that directory with {@code /} separators. Implementations: {@link
 * DirectoryModelSource} for local directories; the Spark module adds one over a Hadoop {@code
 * FileSystem} (hdfs://, s3a://), so callers must not assume local files and should use {@link
 * #localPath} only as an optimisation.
 */
public interface ModelSource {
    /**
     * Opens a file for reading; the caller closes the stream.
     *
     * @throws java.io.FileNotFoundException naming the full location when the file does not exist
     */
    InputStream open(String relativePath) throws IOException;

    /** Whether the file exists. */
    boolean exists(String relativePath) throws IOException;

    /** Where the files live, e.g. the directory URI; used in error messages. */
    String describe();

    /** Where {@code relativePath} lives, for error messages: {@link #describe()} joined with it. */
    default String describe(String relativePath) {
        String base = describe();
        return base.endsWith("/") ? base + relativePath : base + "/" + relativePath;
    }

    /**
     * The local file behind {@code relativePath} when this source is a local directory, so that
     * readers can memory-map it; empty otherwise. The file need not exist.
     */
    default Optional<Path> localPath(String relativePath) {
        return Optional.empty();
    }
}
