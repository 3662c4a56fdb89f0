package dev.understudy.job.datasets;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/** File digests in the notations the registries publish. */
final class Checksums {
    private Checksums() {}

    /** npm's subresource-integrity string: {@code sha512-} + base64 of the SHA-512. */
    static String sri512(Path file) throws IOException {
        return "sha512-" + Base64.getEncoder().encodeToString(digest(file, "SHA-512"));
    }

    /** Lower-case hex SHA-1, as in Maven's {@code .sha1} files. */
    static String sha1Hex(Path file) throws IOException {
        return HexFormat.of().formatHex(digest(file, "SHA-1"));
    }

    static byte[] digest(Path file, String algorithm) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is missing from this JVM", e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return md.digest();
    }
}
