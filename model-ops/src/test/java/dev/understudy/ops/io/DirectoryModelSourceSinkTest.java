package dev.understudy.ops.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryModelSourceSinkTest {

    @TempDir
    Path dir;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private long filesUnder(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void sourceReadsFilesAndNamesMissingOnes() throws IOException {
        Files.createDirectories(dir.resolve("sub"));
        Files.write(dir.resolve("sub/a.txt"), utf8("hello"));
        DirectoryModelSource src = new DirectoryModelSource(dir);
        try (InputStream in = src.open("sub/a.txt")) {
            assertThat(in.readAllBytes()).isEqualTo(utf8("hello"));
        }
        assertThat(src.exists("sub/a.txt")).isTrue();
        assertThat(src.exists("sub/b.txt")).isFalse();
        assertThat(src.exists("sub")).isFalse(); // directories are not files
        assertThat(src.describe()).startsWith("file:/").contains(dir.getFileName().toString());
        assertThat(src.describe("sub/a.txt")).endsWith("/sub/a.txt");
        assertThat(src.localPath("sub/a.txt")).contains(dir.toAbsolutePath().resolve("sub/a.txt"));
        assertThatThrownBy(() -> src.open("sub/b.txt"))
                .isInstanceOf(FileNotFoundException.class)
                .hasMessageContaining(dir.toAbsolutePath().resolve("sub/b.txt").toString());
        assertThatThrownBy(() -> src.open("sub"))
                .isInstanceOf(FileNotFoundException.class)
                .hasMessageContaining("not a regular file");
    }

    @Test
    void pathsMayNotEscapeTheDirectory() {
        DirectoryModelSource src = new DirectoryModelSource(dir);
        DirectoryModelSink sink = new DirectoryModelSink(dir);
        for (String bad : new String[] {"../x", "a/../../x", "/etc/passwd", "", "a//b", "./a"}) {
            assertThatThrownBy(() -> src.open(bad)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> sink.create(bad)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void sinkPublishesOnlyOnClose() throws IOException {
        DirectoryModelSink sink = new DirectoryModelSink(dir.resolve("out"));
        Path target = dir.resolve("out/a/b/file.bin");
        OutputStream out = sink.create("a/b/file.bin");
        out.write(utf8("partial"));
        out.flush();
        assertThat(target).doesNotExist();
        out.write(utf8("+rest"));
        out.close();
        out.close(); // idempotent
        assertThat(Files.readAllBytes(target)).isEqualTo(utf8("partial+rest"));
        assertThat(filesUnder(dir)).isEqualTo(1); // no temporary file left
        assertThatThrownBy(() -> out.write(1)).isInstanceOf(IOException.class).hasMessageContaining("closed");

        // Replacing keeps the old content visible until the new one is complete.
        OutputStream again = sink.create("a/b/file.bin");
        again.write(utf8("new"));
        assertThat(Files.readAllBytes(target)).isEqualTo(utf8("partial+rest"));
        again.close();
        assertThat(Files.readAllBytes(target)).isEqualTo(utf8("new"));
    }

    @Test
    void failedWriteIsDiscarded() throws IOException {
        DirectoryModelSink sink = new DirectoryModelSink(dir);
        Files.write(dir.resolve("keep.bin"), utf8("old"));
        assertThatThrownBy(() -> sink.write("keep.bin", out -> {
                    out.write(utf8("half"));
                    throw new IOException("network down");
                }))
                .hasMessage("network down");
        assertThatThrownBy(() -> sink.write("fresh.bin", out -> {
                    throw new IllegalStateException("bug");
                }))
                .hasMessage("bug");
        assertThat(Files.readAllBytes(dir.resolve("keep.bin"))).isEqualTo(utf8("old"));
        assertThat(dir.resolve("fresh.bin")).doesNotExist();
        assertThat(filesUnder(dir)).isEqualTo(1);

        sink.write("fresh.bin", out -> out.write(utf8("ok")));
        assertThat(Files.readAllBytes(dir.resolve("fresh.bin"))).isEqualTo(utf8("ok"));
    }
}
