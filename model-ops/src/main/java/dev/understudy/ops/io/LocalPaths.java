package dev.understudy.ops.io;

import dev.understudy.ops.util.Preconditions;
import java.nio.file.Path;

/** Resolution of the relative paths of {@link ModelSource}/{@link ModelSink} inside a local directory. */
final class LocalPaths {
    private LocalPaths() {}

    /**
     * Resolves {@code relativePath} ({@code /}-separated) under {@code dir}. Absolute paths, empty
     * segments and {@code .}/{@code ..} are rejected: a path taken from a checkpoint's index file
     * must not reach outside the model directory.
     */
    static Path resolve(Path dir, String relativePath) {
        Preconditions.checkNotNull(relativePath, "relative path");
        Preconditions.checkArgument(!relativePath.isEmpty(), "Relative path in %s must not be empty", dir);
        Path resolved = dir;
        for (String segment : relativePath.split("/", -1)) {
            Preconditions.checkArgument(
                    !segment.isEmpty() && !segment.equals(".") && !segment.equals("..") && !segment.contains("\\"),
                    "Invalid relative path '%s' in %s: it must be a '/'-separated path inside the directory, "
                            + "without empty, '.' or '..' segments",
                    relativePath, dir);
            resolved = resolved.resolve(segment);
        }
        return resolved;
    }
}
