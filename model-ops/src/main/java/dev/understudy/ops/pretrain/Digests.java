package dev.understudy.ops.pretrain;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers for cache keys, corpus fingerprints and tokenizer hashes. */
public final class Digests {
    private Digests() {}

    /** SHA-256 of the UTF-8 bytes of {@code text}, as lower-case hex. */
    public static String sha256Hex(String text) {
        return sha256Hex(text.getBytes(StandardCharsets.UTF_8));
    }

    /** SHA-256 of {@code bytes}, as lower-case hex. */
    public static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    /** SHA-256 of everything {@code in} yields (not closed), as lower-case hex. */
    public static String sha256Hex(InputStream in) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
            md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Fingerprint of an ordered list of documents: SHA-256 over each document's UTF-8 length (8
     * bytes, big-endian) followed by its bytes, so that document boundaries count.
     */
    public static String documents(Iterable<String> documents) {
        MessageDigest md = sha256();
        ByteBuffer len = ByteBuffer.allocate(8);
        for (String d : documents) {
            byte[] b = d.getBytes(StandardCharsets.UTF_8);
            len.clear();
            md.update(len.putLong(b.length).array());
            md.update(b);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("The JVM has no SHA-256", e);
        }
    }
}
