package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RowOrderTest {

    private static long xxh64(String s, long seed) {
        return RowOrder.hash(seed, s);
    }

    @Test
    void hashMatchesXxh64ReferenceVectors() {
        // Published XXH64 vectors (xxHash's sanity checks and common test suites).
        assertThat(xxh64("", 0)).isEqualTo(0xEF46DB3751D8E999L);
        assertThat(xxh64("", 1)).isEqualTo(0xD5AFBA1336A3BE4BL);
        assertThat(xxh64("a", 0)).isEqualTo(0xD24EC4F1A98C6E5BL);
        assertThat(xxh64("as", 0)).isEqualTo(0x1C330FB2D66BE179L);
        assertThat(xxh64("asd", 0)).isEqualTo(0x631C37CE72A97393L);
        assertThat(xxh64("asdf", 0)).isEqualTo(0x415872F599CEA71EL);
        assertThat(xxh64("abc", 0)).isEqualTo(0x44BC2CF5AD770999L);
        assertThat(xxh64("Call me Ishmael.", 0)).isEqualTo(0x6D04390FC9D61A90L);
        // 39 and 46 bytes: the 32-byte stripe loop plus 8-, 4- and 1-byte tails.
        assertThat(xxh64("Nobody inspects the spammish repetition", 0)).isEqualTo(0xFBCEA83C8A378BF1L);
        assertThat(xxh64("Some years ago--never mind how long precisely-", 0)).isEqualTo(0x8F26F2B986AFDC52L);
    }

    @Test
    void hashMatchesXxh64SanityBufferVectors() {
        // Prepare: xxHash's own sanity buffer (xsum_sanity_check.c, SANITY_BUFFER_SIZE 101).
        long prime32 = 2654435761L;
        byte[] buffer = new byte[101];
        long byteGen = prime32;
        for (int i = 0; i < buffer.length; i++) {
            buffer[i] = (byte) (byteGen >>> 24);
            byteGen = (byteGen * byteGen) & 0xFFFFFFFFL;
        }
        // Execute / Assert
        assertThat(RowOrder.hash(0, buffer, 0, 0)).isEqualTo(0xEF46DB3751D8E999L);
        assertThat(RowOrder.hash(prime32, buffer, 0, 0)).isEqualTo(0xAC75FDA2929B17EFL);
        assertThat(RowOrder.hash(0, buffer, 0, 1)).isEqualTo(0x4FCE394CC88952D8L);
        assertThat(RowOrder.hash(prime32, buffer, 0, 1)).isEqualTo(0x739840CB819FA723L);
        assertThat(RowOrder.hash(0, buffer, 0, 14)).isEqualTo(0xCFFA8DB881BC3A3DL);
        assertThat(RowOrder.hash(prime32, buffer, 0, 14)).isEqualTo(0x5B9611585EFCC9CBL);
        assertThat(RowOrder.hash(0, buffer, 0, 101)).isEqualTo(0x0EAB543384F878ADL);
        assertThat(RowOrder.hash(prime32, buffer, 0, 101)).isEqualTo(0xCAA65939306F1E21L);
    }

    @Test
    void stringHashIsTheHashOfItsUtf8BytesAtAnyOffset() {
        String key = "clé-键-\uD83D\uDE00-row-12345678901234567890";
        byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
        byte[] padded = new byte[utf8.length + 5];
        System.arraycopy(utf8, 0, padded, 3, utf8.length);

        assertThat(RowOrder.hash(99, key)).isEqualTo(RowOrder.hash(99, utf8, 0, utf8.length))
                .isEqualTo(RowOrder.hash(99, padded, 3, utf8.length));
        assertThat(RowOrder.hash(98, key)).isNotEqualTo(RowOrder.hash(99, key));
    }

    @Test
    void keyOrderIsUtf8ByteOrder() {
        // Prepare: strings mixing ASCII, BMP chars above the surrogate range and supplementary chars,
        // where UTF-16 order (String.compareTo) and UTF-8 byte order disagree.
        char[] alphabet = {'a', 'b', 'é', '\uE000', '\uFFFD', '\uD83D', '\uDE00', '\uD800', '\uDC00', 'z'};
        Random r = new Random(5);
        int disagreements = 0;
        for (int t = 0; t < 20_000; t++) {
            String a = randomWellFormed(r, alphabet);
            String b = randomWellFormed(r, alphabet);
            // Execute
            int expected = Integer.signum(compareUtf8(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
            int actual = Integer.signum(RowOrder.compareKeys(a, b));
            // Assert
            assertThat(actual).as("%s vs %s", a, b).isEqualTo(expected);
            if (Integer.signum(a.compareTo(b)) != expected) {
                disagreements++;
            }
        }
        // The test data really exercises the case where UTF-16 order would be wrong.
        assertThat(disagreements).isGreaterThan(100);
        assertThat(RowOrder.compareKeys("\uE000", "\uD83D\uDE00")).isNegative();
        assertThat("\uE000".compareTo("\uD83D\uDE00")).isPositive();
    }

    @Test
    void rowOrderComparesSignedHashThenKey() {
        assertThat(RowOrder.compare(-5, "z", 3, "a")).isNegative();
        assertThat(RowOrder.compare(Long.MIN_VALUE, "a", Long.MAX_VALUE, "a")).isNegative();
        assertThat(RowOrder.compare(7, "a", 7, "b")).isNegative();
        assertThat(RowOrder.compare(7, "b", 7, "b")).isZero();
    }

    static int compareUtf8(byte[] a, byte[] b) {
        int n = Math.min(a.length, b.length);
        for (int i = 0; i < n; i++) {
            int c = Integer.compare(a[i] & 0xFF, b[i] & 0xFF);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.length, b.length);
    }

    private static String randomWellFormed(Random r, char[] alphabet) {
        StringBuilder sb = new StringBuilder();
        int len = r.nextInt(5);
        while (sb.length() < len) {
            char c = alphabet[r.nextInt(alphabet.length)];
            if (Character.isHighSurrogate(c)) {
                sb.append(c).append(r.nextBoolean() ? '\uDE00' : '\uDC00');
            } else if (!Character.isLowSurrogate(c)) {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
