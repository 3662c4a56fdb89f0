package dev.understudy.job.datasets;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Builds small synthetic .tgz and .jar files in the layouts the registries ship. */
final class TestArchives {
    private TestArchives() {}

    /** How a long entry name is stored. */
    enum LongNames {
        PAX,
        USTAR_PREFIX,
        GNU
    }

    /** A gzip'd tar with a directory entry for {@code package/} and one regular file per map entry. */
    static byte[] tgz(Map<String, byte[]> files, LongNames longNames) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            writeEntry(gz, "package/", '5', new byte[0]);
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                String name = e.getKey();
                if (name.length() > 100) {
                    switch (longNames) {
                        case PAX -> {
                            byte[] rec = paxRecord("path", name);
                            writeEntry(gz, "PaxHeader/x", 'x', rec);
                            writeEntry(gz, name.substring(0, 100), '0', e.getValue());
                        }
                        case GNU -> {
                            writeEntry(gz, "././@LongLink", 'L', (name + "\0").getBytes(StandardCharsets.UTF_8));
                            writeEntry(gz, name.substring(0, 100), '0', e.getValue());
                        }
                        case USTAR_PREFIX -> {
                            int slash = name.lastIndexOf('/', name.length() - 2);
                            writeUstar(gz, name.substring(slash + 1), name.substring(0, slash), '0', e.getValue());
                        }
                    }
                } else {
                    writeEntry(gz, name, '0', e.getValue());
                }
            }
            gz.write(new byte[1024]); // end-of-archive: two zero blocks
        }
        return bytes.toByteArray();
    }

    static byte[] tgz(Map<String, byte[]> files) throws IOException {
        return tgz(files, LongNames.PAX);
    }

    static Path writeTgz(Path file, Map<String, byte[]> files) throws IOException {
        Files.write(file, tgz(files));
        return file;
    }

    /** A jar (zip) with the given entries. */
    static Path writeJar(Path file, Map<String, byte[]> files) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return file;
    }

    static Map<String, byte[]> files(String... nameThenContent) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int i = 0; i < nameThenContent.length; i += 2) {
            m.put(nameThenContent[i], nameThenContent[i + 1].getBytes(StandardCharsets.UTF_8));
        }
        return m;
    }

    private static byte[] paxRecord(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int len = body.getBytes(StandardCharsets.UTF_8).length;
        int total = len + String.valueOf(len).length();
        if (String.valueOf(total).length() != String.valueOf(len).length()) {
            total++;
        }
        return (total + body).getBytes(StandardCharsets.UTF_8);
    }

    private static void writeEntry(OutputStream out, String name, char type, byte[] data) throws IOException {
        writeUstar(out, name, "", type, data);
    }

    private static void writeUstar(OutputStream out, String name, String prefix, char type, byte[] data) throws IOException {
        byte[] h = new byte[512];
        put(h, 0, 100, name);
        put(h, 100, 8, "0000644");
        put(h, 108, 8, "0000000");
        put(h, 116, 8, "0000000");
        put(h, 124, 12, String.format("%011o", data.length));
        put(h, 136, 12, String.format("%011o", 499162500L));
        h[156] = (byte) type;
        put(h, 257, 6, "ustar");
        put(h, 263, 2, "00");
        put(h, 345, 155, prefix);
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, 8, String.format("%06o", sum));
        h[155] = ' ';
        out.write(h);
        out.write(data);
        int pad = (512 - data.length % 512) % 512;
        out.write(new byte[pad]);
    }

    private static void put(byte[] h, int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > len) {
            throw new IllegalArgumentException("'" + s + "' does not fit in " + len + " bytes");
        }
        System.arraycopy(b, 0, h, off, b.length);
    }
}
