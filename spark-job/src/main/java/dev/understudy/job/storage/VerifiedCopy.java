package dev.understudy.job.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The executors' local model cache made private and verified. The cache root is one per user,
 * created {@code rwx------}; an existing root owned by someone else or open to group or others is
 * refused (another user could swap the weights). Each copied file's SHA-256 is computed while it is
 * copied and written to the {@code .complete} marker; a copy found on disk is used only when every
 * file still has the recorded hash, otherwise it is copied again. The marker alone is never trusted.
 */
public final class VerifiedCopy {
    private VerifiedCopy() {}

    /** Marker line prefix of a file's hash: {@code sha256 <hex> <name>}. */
    static final String HASH = "sha256 ";

    /** {@code base/understudy-models-<user>}, created private, or checked to be private. */
    public static Path privateRoot(Path base) throws IOException {
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        Path root = base.resolve("understudy-models-" + user);
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        if (!Files.exists(root)) {
            Files.createDirectories(base);
            try {
                if (posix) {
                    Files.createDirectory(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } else {
                    Files.createDirectory(root);
                }
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // another JVM of this host made it: checked below like any existing root
            }
        }
        if (posix) {
            UserPrincipal owner = Files.getOwner(root);
            UserPrincipal me = root.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(
                    System.getProperty("user.name"));
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(root);
            Set<PosixFilePermission> open = EnumSet.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE,
                    PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
            open.retainAll(perms);
            if (!owner.equals(me) || !open.isEmpty() || Files.isSymbolicLink(root)) {
                throw new IOException("model cache " + root + " is not private (owner " + owner.getName() + ", permissions "
                        + PosixFilePermissions.toString(perms) + "); remove it, or point java.io.tmpdir elsewhere");
            }
        }
        return root;
    }

    /** Copies {@code in} to {@code target}, returning the SHA-256 of the bytes copied. */
    static String copyHashing(InputStream in, Path target) throws IOException {
        MessageDigest md = sha256();
        try (DigestInputStream d = new DigestInputStream(in, md)) {
            Files.copy(d, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The marker text: the source signature, then one hash line per file. */
    static String marker(String signature, Map<String, String> hashes) {
        StringBuilder b = new StringBuilder(signature);
        hashes.forEach((name, h) -> b.append('\n').append(HASH).append(h).append(' ').append(name));
        return b.append('\n').toString();
    }

    /**
     * Whether {@code local} is a complete copy of the source with this signature whose files all
     * still have the hashes its marker records; null when it is, else why not.
     */
    static String problem(Path local, String signature) throws IOException {
        Path done = local.resolve(".complete");
        if (!Files.exists(done)) {
            return "no .complete marker";
        }
        String text = Files.readString(done, StandardCharsets.UTF_8);
        if (!text.startsWith(signature + "\n" + HASH)) {
            return "its marker is for another source or has no file hashes";
        }
        Map<String, String> recorded = new TreeMap<>();
        for (String line : text.substring(signature.length() + 1).split("\n")) {
            if (line.startsWith(HASH)) {
                String rest = line.substring(HASH.length());
                recorded.put(rest.substring(rest.indexOf(' ') + 1), rest.substring(0, rest.indexOf(' ')));
            }
        }
        for (Map.Entry<String, String> e : recorded.entrySet()) {
            Path f = local.resolve(e.getKey());
            if (!Files.isRegularFile(f)) {
                return e.getKey() + " is missing";
            }
            String actual;
            try (InputStream in = Files.newInputStream(f)) {
                MessageDigest md = sha256();
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
                actual = HexFormat.of().formatHex(md.digest());
            }
            if (!actual.equals(e.getValue())) {
                return e.getKey() + " has SHA-256 " + actual + ", not the " + e.getValue() + " copied";
            }
        }
        return null;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
