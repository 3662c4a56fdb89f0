package dev.understudy.ops.io;

import dev.understudy.ops.util.Preconditions;
import java.io.BufferedInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** A {@link ModelSource} over a local directory; {@link #localPath} lets readers memory-map. */
public final class DirectoryModelSource implements ModelSource {
    private final Path dir;

    /** A source reading files under {@code dir}, which need not exist yet. */
    public DirectoryModelSource(Path dir) {
        this.dir = Preconditions.checkNotNull(dir, "model directory").toAbsolutePath().normalize();
    }

    /** The (absolute) directory. */
    public Path dir() {
        return dir;
    }

    @Override
    public InputStream open(String relativePath) throws IOException {
        Path file = LocalPaths.resolve(dir, relativePath);
        if (!Files.isRegularFile(file)) {
            throw new FileNotFoundException(Files.exists(file)
                    ? file + " is not a regular file"
                    : file + " does not exist");
        }
        return new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    }

    @Override
    public boolean exists(String relativePath) {
        return Files.isRegularFile(LocalPaths.resolve(dir, relativePath));
    }

    @Override
    public String describe() {
        return dir.toUri().toString();
    }

    @Override
    public Optional<Path> localPath(String relativePath) {
        return Optional.of(LocalPaths.resolve(dir, relativePath));
    }

    @Override
    public String toString() {
        return "DirectoryModelSource[" + dir + "]";
    }
}
