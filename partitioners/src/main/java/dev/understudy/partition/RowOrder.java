package dev.understudy.partition;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;

/**
 * The stable row-order contract shared by the in-memory path and the Spark path.
 *
 * <p>Every row has a <em>row key</em>: a string that identifies the row and does not change between
 * runs (a user-supplied id column, or a content hash chosen by the Spark side). Within a stratum
 * (a label, or a natural-id value) the rows are ordered by
 *
 * <pre>
 *   (hash(seed, rowKey) ascending as a SIGNED 64-bit integer, then rowKey ascending in UTF-8 byte order)
 * </pre>
 *
 * and a row's 0-based position in that order is its <em>rank</em>. In Spark SQL this is
 * {@code row_number() over (partition by stratum order by h, key) - 1}, where {@code h} is a long
 * column computed with {@link #hash(long, String)} and {@code key} is the string key column (Spark
 * compares strings by their UTF-8 bytes, which is the order {@link #KEY_ORDER} implements).
 *
 * <p><b>Stability contract: the functions in this class must never change.</b> Changing them would
 * silently change every persisted split. {@link #hash(long, String)} is XXH64 (Yann Collet's
 * xxHash, 64-bit variant, as specified at github.com/Cyan4973/xxHash) over the UTF-8 bytes of the
 * key, with the given seed; its output is identical to any conforming XXH64 implementation, which
 * the unit tests check against the reference vectors. Strings are encoded with {@link
 * String#getBytes(java.nio.charset.Charset)} in UTF-8, which is what Spark's {@code UTF8String}
 * does too (unpaired surrogates become {@code '?'}).
 */
public final class RowOrder {

    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    /** Strings in UTF-8 byte order (equivalently, Unicode code point order), as Spark sorts them. */
    public static final Comparator<String> KEY_ORDER = RowOrder::compareKeys;

    private RowOrder() {}

    /** XXH64 of the UTF-8 bytes of {@code rowKey} with {@code seed}. Stable forever; see class doc. */
    public static long hash(long seed, String rowKey) {
        byte[] bytes = rowKey.getBytes(StandardCharsets.UTF_8);
        return hash(seed, bytes, 0, bytes.length);
    }

    /** XXH64 of {@code bytes[offset, offset + length)} with {@code seed}. */
    public static long hash(long seed, byte[] bytes, int offset, int length) {
        int p = offset;
        int end = offset + length;
        long h;
        if (length >= 32) {
            long v1 = seed + P1 + P2;
            long v2 = seed + P2;
            long v3 = seed;
            long v4 = seed - P1;
            int limit = end - 32;
            do {
                v1 = round(v1, readLong(bytes, p));
                v2 = round(v2, readLong(bytes, p + 8));
                v3 = round(v3, readLong(bytes, p + 16));
                v4 = round(v4, readLong(bytes, p + 24));
                p += 32;
            } while (p <= limit);
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = mergeRound(h, v1);
            h = mergeRound(h, v2);
            h = mergeRound(h, v3);
            h = mergeRound(h, v4);
        } else {
            h = seed + P5;
        }
        h += length;
        while (p + 8 <= end) {
            h ^= round(0, readLong(bytes, p));
            h = Long.rotateLeft(h, 27) * P1 + P4;
            p += 8;
        }
        if (p + 4 <= end) {
            h ^= (readInt(bytes, p) & 0xFFFFFFFFL) * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
            p += 4;
        }
        while (p < end) {
            h ^= (bytes[p] & 0xFFL) * P5;
            h = Long.rotateLeft(h, 11) * P1;
            p++;
        }
        // Final avalanche.
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }

    /**
     * Compares two row keys in UTF-8 byte order without encoding them. UTF-8 byte order equals code
     * point order; UTF-16 {@link String#compareTo} differs from it only when a surrogate meets a char
     * in U+E000..U+FFFF, which the fix-up below handles (the ICU "code point order" trick).
     */
    public static int compareKeys(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char ca = a.charAt(i);
            char cb = b.charAt(i);
            if (ca != cb) {
                if (ca >= 0xD800 && cb >= 0xD800) {
                    return codePointOrderFixup(ca) - codePointOrderFixup(cb);
                }
                return ca - cb;
            }
        }
        return a.length() - b.length();
    }

    /** Total row order within a stratum: signed hash first, then the key. */
    public static int compare(long hashA, String keyA, long hashB, String keyB) {
        int c = Long.compare(hashA, hashB);
        return c != 0 ? c : compareKeys(keyA, keyB);
    }

    private static int codePointOrderFixup(char c) {
        // Surrogates (D800..DFFF) encode code points above FFFF, so they must sort after E000..FFFF.
        if (c >= 0xE000) {
            return c - 0x800;
        }
        return c + 0x2000;
    }

    private static long round(long acc, long lane) {
        acc += lane * P2;
        acc = Long.rotateLeft(acc, 31);
        return acc * P1;
    }

    private static long mergeRound(long acc, long val) {
        acc ^= round(0, val);
        return acc * P1 + P4;
    }

    private static long readLong(byte[] b, int i) {
        return (b[i] & 0xFFL)
                | (b[i + 1] & 0xFFL) << 8
                | (b[i + 2] & 0xFFL) << 16
                | (b[i + 3] & 0xFFL) << 24
                | (b[i + 4] & 0xFFL) << 32
                | (b[i + 5] & 0xFFL) << 40
                | (b[i + 6] & 0xFFL) << 48
                | (b[i + 7] & 0xFFL) << 56;
    }

    private static int readInt(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24;
    }
}
