package dev.understudy.job.datasets;

import java.io.IOException;
import java.nio.file.Path;

/** A pinned registry package: where it comes from, the file its client writes, and its checksum. */
public sealed interface PackageRef permits NpmPackage, MavenArtifact {
    /** The registry client that fetches it: {@code npm} or {@code mvn}. */
    String client();

    /** Human-readable coordinates, e.g. {@code sentiment@5.0.2} or {@code g:a:v}. */
    String coordinates();

    /** Name of the file the client writes, which is also its name in the cache. */
    String fileName();

    /** Pinned checksum in the registry's own notation ({@code sha512-<base64>} or a sha1 hex string). */
    String checksum();

    /** The checksum of {@code file} in the same notation as {@link #checksum()}. */
    String checksumOf(Path file) throws IOException;

    /** Shell command that fetches the file by hand into {@code dir}. */
    String manualCommand(Path dir);
}
