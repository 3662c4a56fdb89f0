package dev.understudy.job.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TarGzTest {
    private static final String LONG = "package/data/" + "a".repeat(60) + "/" + "b".repeat(60) + ".txt";

    private static List<TarGz.Entry> read(byte[] tgz) throws Exception {
        return TarGz.read(new ByteArrayInputStream(tgz), "test.tgz", n -> true);
    }

    @Test
    void readsRegularFilesInOrderAndSkipsDirectories() throws Exception {
        byte[] big = new byte[1300]; // spans three blocks, with padding
        Arrays.fill(big, (byte) 'x');
        Map<String, byte[]> files = TestArchives.files("package/a.txt", "alpha", "package/empty.txt", "");
        files.put("package/big.bin", big);
        files.put("package/z.txt", "zulu".getBytes(StandardCharsets.UTF_8));

        List<TarGz.Entry> entries = read(TestArchives.tgz(files));

        assertThat(entries).extracting(TarGz.Entry::name)
                .containsExactly("package/a.txt", "package/empty.txt", "package/big.bin", "package/z.txt");
        assertThat(new String(entries.get(0).data(), StandardCharsets.UTF_8)).isEqualTo("alpha");
        assertThat(entries.get(1).data()).isEmpty();
        assertThat(entries.get(2).data()).isEqualTo(big);
        assertThat(new String(entries.get(3).data(), StandardCharsets.UTF_8)).isEqualTo("zulu");
    }

    @Test
    void filterSkipsUnwantedEntriesWithoutLosingPosition() throws Exception {
        Map<String, byte[]> files = TestArchives.files("package/a.txt", "a".repeat(700), "package/b.json", "[1]",
                "package/c.txt", "c".repeat(513), "package/d.json", "[2]");
        List<TarGz.Entry> entries = TarGz.read(new ByteArrayInputStream(TestArchives.tgz(files)), "t", n -> n.endsWith(".json"));
        assertThat(entries).extracting(e -> e.name() + "=" + new String(e.data(), StandardCharsets.UTF_8))
                .containsExactly("package/b.json=[1]", "package/d.json=[2]");
    }

    @ParameterizedTest
    @EnumSource(TestArchives.LongNames.class)
    void longNamesFromPaxHeadersUstarPrefixAndGnuLongLinks(TestArchives.LongNames style) throws Exception {
        Map<String, byte[]> files = TestArchives.files(LONG, "long", "package/short.txt", "short");
        List<TarGz.Entry> entries = read(TestArchives.tgz(files, style));
        assertThat(entries).extracting(TarGz.Entry::name).containsExactly(LONG, "package/short.txt");
        assertThat(new String(entries.get(0).data(), StandardCharsets.UTF_8)).isEqualTo("long");
    }

    @Test
    void archiveWithoutEndMarkerEndsAtEndOfStream() throws Exception {
        byte[] full = TestArchives.tgz(TestArchives.files("package/a.txt", "alpha"));
        byte[] tar = gunzip(full);
        byte[] noMarker = Arrays.copyOf(tar, tar.length - 1024);
        assertThat(read(gzip(noMarker))).extracting(TarGz.Entry::name).containsExactly("package/a.txt");
    }

    @Test
    void truncatedArchiveFailsNamingIt() throws Exception {
        byte[] tar = gunzip(TestArchives.tgz(TestArchives.files("package/a.txt", "a".repeat(2000))));
        byte[] cut = Arrays.copyOf(tar, 512 * 2 + 700); // dir header, file header, part of the data
        assertThatThrownBy(() -> read(gzip(cut))).isInstanceOf(DatasetException.class)
                .hasMessageContaining("test.tgz is truncated or corrupt").hasMessageContaining("fetch it again");
    }

    @Test
    void corruptHeaderFailsOnItsChecksum() throws Exception {
        byte[] tar = gunzip(TestArchives.tgz(TestArchives.files("package/a.txt", "alpha")));
        tar[512 + 3] ^= 1; // flip a bit in the second header's name
        assertThatThrownBy(() -> read(gzip(tar))).isInstanceOf(DatasetException.class)
                .hasMessageContaining("test.tgz is not a tar archive or is corrupt: header at byte 512");
    }

    @Test
    void notGzipFailsNamingTheFile() {
        byte[] plain = "{\"not\": \"gzip\"}".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> read(plain)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("test.tgz is not a gzip file");
    }

    private static byte[] gunzip(byte[] gz) throws Exception {
        try (var in = new java.util.zip.GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }

    private static byte[] gzip(byte[] raw) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }
}
