package dev.understudy.job.datasets;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A Maven jar, fetched with {@code mvn dependency:copy} (or taken from the local Maven repository
 * when it is already there).
 *
 * @param groupId group id
 * @param artifactId artifact id
 * @param version exact version
 * @param sha1 lower-case hex SHA-1 of the jar, as Maven Central publishes it in {@code .jar.sha1}
 */
public record MavenArtifact(String groupId, String artifactId, String version, String sha1) implements PackageRef {
    /** The plugin version used for {@code dependency:copy}, pinned so runs do not depend on metadata look-ups. */
    static final String DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

    public MavenArtifact {
        if (groupId == null || artifactId == null || version == null || groupId.isBlank() || artifactId.isBlank()
                || version.isBlank()) {
            throw new IllegalArgumentException("Maven artifact needs groupId:artifactId:version, got " + groupId + ":"
                    + artifactId + ":" + version);
        }
        if (sha1 == null || !sha1.matches("[0-9a-f]{40}")) {
            throw new IllegalArgumentException("Maven artifact " + groupId + ":" + artifactId + ":" + version
                    + " needs a lower-case hex sha1, got " + sha1);
        }
    }

    @Override
    public String client() {
        return "mvn";
    }

    @Override
    public String coordinates() {
        return groupId + ":" + artifactId + ":" + version;
    }

    @Override
    public String fileName() {
        return artifactId + "-" + version + ".jar";
    }

    @Override
    public String checksum() {
        return sha1;
    }

    @Override
    public String checksumOf(Path file) throws IOException {
        return Checksums.sha1Hex(file);
    }

    /** The jar's path inside a Maven local repository ({@code ~/.m2/repository}). */
    Path localRepositoryPath(Path repository) {
        return repository.resolve(groupId.replace('.', '/')).resolve(artifactId).resolve(version).resolve(fileName());
    }

    @Override
    public String manualCommand(Path dir) {
        return "mvn " + DEPENDENCY_PLUGIN + ":copy -Dartifact=" + coordinates() + " -DoutputDirectory=" + dir;
    }
}
