package dev.understudy.job.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Spark standalone cluster on 127.0.0.1 made of separate JVMs started from Maven jars (stack.md
 * §2): a {@code Master} and {@code n} {@code Worker}s with one core each, all on ephemeral ports,
 * over a hand-made SPARK_HOME whose {@code jars/} holds symlinks to the given jars. Every process
 * writes its output to a log file under {@code workDir}; {@link #close} destroys the process trees.
 *
 * <pre>
 * try (StandaloneCluster c = StandaloneCluster.start(sparkJars, workDir, 2, jvmFlags)) {
 *     Process p = c.submit(List.of("-Xmx1g"), List.of("--class", "Main", "app.jar"), workDir.resolve("submit.log"), cwd);
 * }
 * </pre>
 */
public final class StandaloneCluster implements AutoCloseable {
    /** JVM flags for short-lived test JVMs: C1 only, serial GC (less compile and GC work on 2 cores). */
    public static final String QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Pattern MASTER_URL = Pattern.compile("Starting Spark master at (spark://[\\w.]+:\\d+)");

    private final Path workDir;
    private final Path sparkHome;
    private final List<String> jvmFlags;
    private final List<Process> processes = new ArrayList<>();
    private final Thread reaper = new Thread(this::destroyAll, "standalone-cluster-reaper");
    private String masterUrl;

    private StandaloneCluster(Path workDir, Path sparkHome, List<String> jvmFlags) {
        this.workDir = workDir;
        this.sparkHome = sparkHome;
        this.jvmFlags = jvmFlags;
    }

    /**
     * Starts a master and {@code workers} one-core workers and waits until every worker has
     * registered.
     *
     * @param sparkJars the jars of the Spark distribution to emulate (SPARK_HOME/jars)
     * @param workDir logs, worker work directories and SPARK_HOME go here
     * @param jvmFlags flags for every JVM started (the Spark 4 {@code --add-opens} list)
     */
    public static StandaloneCluster start(List<Path> sparkJars, Path workDir, int workers, List<String> jvmFlags)
            throws IOException, InterruptedException {
        Path home = workDir.resolve("spark-home");
        Files.createDirectories(home.resolve("jars"));
        Files.createDirectories(home.resolve("conf")); // empty: no site settings leak in
        Set<String> names = new HashSet<>();
        for (Path jar : sparkJars) {
            if (!Files.isRegularFile(jar)) {
                throw new IllegalArgumentException("Spark jar " + jar + " does not exist; rebuild with mvn package");
            }
            String name = jar.getFileName().toString();
            if (!names.add(name)) {
                name = names.size() + "-" + name;
                names.add(name);
            }
            Files.createSymbolicLink(home.resolve("jars").resolve(name), jar.toAbsolutePath());
        }
        StandaloneCluster c = new StandaloneCluster(workDir, home, jvmFlags);
        Runtime.getRuntime().addShutdownHook(c.reaper); // a killed test JVM leaves no cluster behind
        try {
            Path masterLog = workDir.resolve("master.log");
            c.launch(daemonJvm(), List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", "0",
                    "--webui-port", "0"), masterLog, workDir);
            c.masterUrl = c.await(masterLog, MASTER_URL, "the master to start").group(1);
            List<Path> workerLogs = new ArrayList<>();
            for (int i = 1; i <= workers; i++) {
                Path dir = Files.createDirectories(workDir.resolve("worker-" + i));
                Path log = workDir.resolve("worker-" + i + ".log");
                c.launch(daemonJvm(), List.of("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--port", "0",
                        "--webui-port", "0", "--cores", "1", "--memory", "1g", "--work-dir", dir.toString(), c.masterUrl), log, dir);
                workerLogs.add(log);
            }
            for (Path log : workerLogs) {
                c.await(log, Pattern.compile("Successfully registered with master"), "a worker to register (" + log + ")");
            }
            return c;
        } catch (IOException | InterruptedException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private static List<String> daemonJvm() {
        List<String> a = new ArrayList<>(List.of("-Xmx256m"));
        a.addAll(List.of(QUICK_JVM.split(" ")));
        return a;
    }

    /** {@code spark://127.0.0.1:PORT}. */
    public String masterUrl() {
        return masterUrl;
    }

    /** The work directory of worker {@code i} (1-based): {@code app-*}/{@code <executor id>}/ per executor it ran. */
    public Path workerDir(int i) {
        return workDir.resolve("worker-" + i);
    }

    /**
     * Starts {@code org.apache.spark.deploy.SparkSubmit} in its own JVM with SPARK_HOME/jars as its
     * classpath, as the {@code spark-submit} script does.
     */
    public Process submit(List<String> driverJvmArgs, List<String> submitArgs, Path log, Path cwd) throws IOException {
        List<String> main = new ArrayList<>(List.of("org.apache.spark.deploy.SparkSubmit", "--master", masterUrl));
        main.addAll(submitArgs);
        return launch(driverJvmArgs, main, log, cwd);
    }

    private Process launch(List<String> jvmArgs, List<String> mainAndArgs, Path log, Path cwd) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(sparkHome.resolve("jars") + "/*");
        cmd.addAll(mainAndArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SPARK_") || k.startsWith("HADOOP_") || k.equals("PYSPARK_PYTHON"));
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_CONF_DIR", sparkHome.resolve("conf").toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("JAVA_HOME", System.getProperty("java.home")); // workers launch executors with it
        Process p = pb.start();
        synchronized (processes) {
            processes.add(p);
        }
        return p;
    }

    private Matcher await(Path log, Pattern pattern, String what) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            Matcher m = pattern.matcher(text);
            if (m.find()) {
                return m;
            }
            if (processes.stream().anyMatch(p -> !p.isAlive())) {
                throw new IllegalStateException("a cluster process exited while waiting for " + what + "; see the logs in "
                        + workDir + "\n" + tail(log, 40));
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("timed out after " + START_TIMEOUT.toSeconds() + " s waiting for " + what
                + "; see the logs in " + workDir + "\n" + tail(log, 40));
    }

    /** The last {@code lines} lines of a log, for assertion messages. */
    public static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** Stops every process started (newest first: submit, workers with their executors, master). */
    @Override
    public void close() {
        destroyAll();
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
    }

    private void destroyAll() {
        List<Process> all;
        synchronized (processes) {
            all = new ArrayList<>(processes);
            processes.clear();
        }
        for (int i = all.size() - 1; i >= 0; i--) {
            Process p = all.get(i);
            List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
            tree.add(p.toHandle());
            tree.forEach(ProcessHandle::destroy);
            for (ProcessHandle h : tree) {
                try {
                    h.onExit().get(15, TimeUnit.SECONDS);
                } catch (Exception e) {
                    h.destroyForcibly();
                }
            }
        }
    }
}
