package dev.understudy.job.datasets;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict text decoding for package files. */
final class Texts {
    private Texts() {}

    /** {@code bytes} as UTF-8; malformed input fails naming {@code where} instead of being replaced silently. */
    static String utf8(byte[] bytes, String where) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new DatasetException(where + " is not valid UTF-8 (" + e + ")");
        }
    }

    /** The file name of a path inside an archive, without folders. */
    static String baseName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** {@link #baseName} without its extension. */
    static String stem(String path) {
        String b = baseName(path);
        int dot = b.lastIndexOf('.');
        return dot > 0 ? b.substring(0, dot) : b;
    }
}
