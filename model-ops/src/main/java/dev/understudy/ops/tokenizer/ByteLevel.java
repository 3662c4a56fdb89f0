package dev.understudy.ops.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2 byte-level pre-tokenization: the split regex and the byte ↔ printable-char alphabet, as in
 * HF tokenizers' {@code ByteLevel} pre-tokenizer ({@code add_prefix_space=false, use_regex=true}).
 *
 * <p>Every byte maps to one printable char: printable Latin-1 bytes map to themselves, the other 68
 * to U+0100.. in byte order (space → 'Ġ' U+0120, newline → 'Ċ' U+010A). A token string is therefore a
 * sequence of byte-chars, never contains a space, and its bytes are recovered char by char.
 */
final class ByteLevel {
    private ByteLevel() {}

    /**
     * GPT-2's split pattern. {@code UNICODE_CHARACTER_CLASS} makes {@code \s} Unicode White_Space, as
     * in the Oniguruma regex HF tokenizers uses (Java's default {@code \s} is ASCII only).
     */
    static final Pattern GPT2_SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        // GPT-2 bytes_to_unicode(): keep '!'..'~', '¡'..'¬', '®'..'ÿ'; shift the rest to 256 + n.
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** The char that stands for byte {@code b} (0..255). */
    static char byteChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a byte-char stands for, or -1 when {@code c} is not in the alphabet. */
    static int charByte(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /**
     * Replaces each unpaired UTF-16 surrogate with U+FFFD. Java strings may hold them, UTF-8 cannot:
     * Java's encoder would write '?', and the JNI bridge to the natives writes three U+FFFD, so all
     * encoders here normalise first to get one well-defined answer.
     */
    static String replaceLoneSurrogates(String text) {
        int n = text.length();
        int i = 0;
        while (i < n && !Character.isSurrogate(text.charAt(i))) {
            i++;
        }
        if (i == n) {
            return text;
        }
        StringBuilder sb = new StringBuilder(n).append(text, 0, i);
        for (; i < n; i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                sb.append(c).append(text.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                sb.append('\uFFFD');
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Splits {@code text} with the GPT-2 regex; the pieces concatenate back to {@code text}. */
    static List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        Matcher m = GPT2_SPLIT.matcher(text);
        while (m.find()) {
            pieces.add(m.group());
        }
        return pieces;
    }

    /** UTF-8 bytes of {@code piece} written as byte-chars, e.g. {@code " the"} → {@code "Ġthe"}. */
    static String toByteChars(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /**
     * Appends the bytes of a token string. Like HF's ByteLevel decoder, a token holding any char
     * outside the alphabet (an added token such as {@code "<|eos|>"} is inside it) contributes its raw
     * UTF-8 bytes instead.
     */
    static void appendBytes(String token, java.io.ByteArrayOutputStream out) {
        for (int i = 0; i < token.length(); i++) {
            if (charByte(token.charAt(i)) < 0) {
                byte[] raw = token.getBytes(StandardCharsets.UTF_8);
                out.write(raw, 0, raw.length);
                return;
            }
        }
        for (int i = 0; i < token.length(); i++) {
            out.write(charByte(token.charAt(i)));
        }
    }
}
