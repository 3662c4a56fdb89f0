package dev.understudy.ops.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds safetensors bytes by hand from the spec (u64 LE header length, JSON, data), independently
 * of {@link SafetensorsWriter}, so that reader tests do not just check the writer against itself.
 */
final class HandBuilt {
    private HandBuilt() {}

    /** File bytes for {@code headerJson} (padded with spaces to a multiple of {@code padTo}) and {@code data}. */
    static byte[] file(String headerJson, byte[] data, int padTo) {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        int padded = padTo <= 1 ? header.length : (header.length + padTo - 1) / padTo * padTo;
        return file(padded, header, padded - header.length, data);
    }

    /** File bytes with an explicit (possibly wrong) header length prefix. */
    static byte[] file(long declaredHeaderLength, byte[] header, int spaces, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(declaredHeaderLength).array());
        out.writeBytes(header);
        out.writeBytes(" ".repeat(spaces).getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(data);
        return out.toByteArray();
    }

    static Path write(Path dir, String name, byte[] bytes) throws java.io.IOException {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file;
    }

    static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
