package dev.understudy.job.datasets;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * A small reader for gzip-compressed tar archives as {@code npm pack} writes them: POSIX ustar
 * headers (with the {@code prefix} field), pax extended headers ({@code path}, {@code size}) and GNU
 * long names. Only regular files are returned; directories, links and other entries are skipped.
 */
final class TarGz {
    private TarGz() {}

    private static final int BLOCK = 512;

    /** A regular file of the archive. */
    record Entry(String name, byte[] data) {}

    /** The regular files of {@code tgz} whose names pass {@code wanted}, in archive order. */
    static List<Entry> read(Path tgz, Predicate<String> wanted) throws IOException {
        try (InputStream in = Files.newInputStream(tgz)) {
            return read(in, tgz.toString(), wanted);
        }
    }

    /** As {@link #read(Path, Predicate)}; {@code label} names the archive in error messages. */
    static List<Entry> read(InputStream gzipped, String label, Predicate<String> wanted) throws IOException {
        InputStream in;
        try {
            in = new GZIPInputStream(new BufferedInputStream(gzipped, 1 << 16), 1 << 16);
        } catch (ZipException e) {
            throw new DatasetException(label + " is not a gzip file (" + e.getMessage() + ")");
        }
        List<Entry> out = new ArrayList<>();
        String paxPath = null; // from a pax 'x' header or GNU 'L' long name; applies to the next entry
        long paxSize = -1;
        long offset = 0;
        try {
            while (true) {
                byte[] h = in.readNBytes(BLOCK);
                if (h.length == 0) {
                    return out; // some writers omit the two zero blocks
                }
                if (h.length < BLOCK) {
                    throw new DatasetException(label + " is truncated: a tar header at byte " + offset + " is cut off");
                }
                if (allZero(h)) {
                    return out; // end-of-archive marker
                }
                checkHeaderChecksum(h, label, offset);
                offset += BLOCK;
                char type = (char) h[156];
                long size = paxSize >= 0 ? paxSize : octal(h, 124, 12, label, offset - BLOCK, "size");
                String name = paxPath != null ? paxPath : headerName(h);
                paxPath = null;
                paxSize = -1;
                switch (type) {
                    case 'x' -> {
                        byte[] data = readData(in, size, label, name);
                        String[] pax = parsePax(data, label, name);
                        paxPath = pax[0];
                        paxSize = pax[1] == null ? -1 : parseDecimal(pax[1], label, "pax size of " + name);
                    }
                    case 'L' -> {
                        byte[] data = readData(in, size, label, name);
                        paxPath = cString(data, 0, data.length);
                    }
                    case '0', '\0', '7' -> {
                        if (wanted.test(name)) {
                            out.add(new Entry(name, readData(in, size, label, name)));
                        } else {
                            skipData(in, size);
                        }
                    }
                    default -> skipData(in, size); // directories, links, global pax headers, ...
                }
                offset += padded(size);
            }
        } catch (EOFException | ZipException e) {
            throw new DatasetException(label + " is truncated or corrupt after byte " + offset + " of the tar stream ("
                    + e.getMessage() + "); delete it and fetch it again", e);
        }
    }

    private static String headerName(byte[] h) {
        String name = cString(h, 0, 100);
        boolean ustar = h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r';
        if (ustar) {
            String prefix = cString(h, 345, 155);
            if (!prefix.isEmpty()) {
                return prefix + "/" + name;
            }
        }
        return name;
    }

    private static byte[] readData(InputStream in, long size, String label, String name) throws IOException {
        if (size > Integer.MAX_VALUE - 8) {
            throw new DatasetException(label + ": entry " + name + " is too large to read into memory (" + size + " bytes)");
        }
        byte[] data = in.readNBytes((int) size);
        if (data.length < size) {
            throw new EOFException("entry " + name + " has " + data.length + " of its " + size + " bytes");
        }
        skipFully(in, padded(size) - size);
        return data;
    }

    private static void skipData(InputStream in, long size) throws IOException {
        skipFully(in, padded(size));
    }

    private static void skipFully(InputStream in, long n) throws IOException {
        in.skipNBytes(n); // throws EOFException when the stream ends first
    }

    private static long padded(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK;
    }

    /** pax records {@code "<len> <key>=<value>\n"}; returns {path, size} (either may be null). */
    private static String[] parsePax(byte[] data, String label, String entry) {
        String path = null;
        String size = null;
        int i = 0;
        while (i < data.length) {
            int space = indexOf(data, (byte) ' ', i);
            if (space < 0) {
                throw new DatasetException(label + ": malformed pax header " + entry + " at byte " + i);
            }
            int len = (int) parseDecimal(new String(data, i, space - i, StandardCharsets.US_ASCII), label, "pax record length");
            if (len <= space - i || i + len > data.length || data[i + len - 1] != '\n') {
                throw new DatasetException(label + ": malformed pax record in " + entry + " at byte " + i);
            }
            String record = new String(data, space + 1, i + len - space - 2, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            if (eq > 0) {
                String key = record.substring(0, eq);
                String value = record.substring(eq + 1);
                if (key.equals("path")) {
                    path = value;
                } else if (key.equals("size")) {
                    size = value;
                }
            }
            i += len;
        }
        return new String[] {path, size};
    }

    private static void checkHeaderChecksum(byte[] h, String label, long offset) {
        long stored = octal(h, 148, 8, label, offset, "checksum");
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            byte b = (i >= 148 && i < 156) ? (byte) ' ' : h[i];
            unsigned += b & 0xff;
            signed += b;
        }
        if (stored != unsigned && stored != signed) {
            throw new DatasetException(label + " is not a tar archive or is corrupt: header at byte " + offset
                    + " has checksum " + stored + ", computed " + unsigned);
        }
    }

    /** An octal numeric field (NUL/space terminated), or GNU base-256 when the high bit is set. */
    private static long octal(byte[] h, int off, int len, String label, long offset, String field) {
        if ((h[off] & 0x80) != 0) {
            long v = h[off] & 0x7f;
            for (int i = off + 1; i < off + len; i++) {
                v = (v << 8) | (h[i] & 0xff);
            }
            return v;
        }
        long v = 0;
        boolean digits = false;
        for (int i = off; i < off + len; i++) {
            byte b = h[i];
            if (b == 0 || (b == ' ' && digits)) {
                break;
            }
            if (b == ' ') {
                continue; // leading spaces
            }
            if (b < '0' || b > '7') {
                throw new DatasetException(label + " is not a tar archive or is corrupt: header at byte " + offset
                        + " has a non-octal " + field + " field");
            }
            v = v * 8 + (b - '0');
            digits = true;
        }
        return v;
    }

    private static long parseDecimal(String s, String label, String what) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new DatasetException(label + ": malformed " + what + " '" + s + "'");
        }
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static int indexOf(byte[] b, byte v, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
