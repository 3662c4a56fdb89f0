package dev.understudy.job.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * An S3 server for tests: s3proxy with its in-memory {@code transient} backend, run as a separate
 * JVM on 127.0.0.1 and a free port (its Jetty 11 and jclouds clash with Spark's classpath; the
 * {@code filesystem*} backends answer a HEAD on a "directory" with 200, which breaks S3A; see
 * stack.md §6b). Buckets are created with the AWS SDK, since S3A cannot create them; {@link
 * #configure} points S3A at a bucket with per-bucket keys ({@code fs.s3a.bucket.NAME.*}), so
 * several servers can live in one JVM and the global {@code fs.s3a.*} settings stay untouched.
 *
 * <p>The jar comes from {@code -Dunderstudy.s3proxy.jar} (set by the spark-job build, which copies
 * {@code org.gaul:s3proxy:jar-with-dependencies} to {@code target/s3proxy/s3proxy.jar}).
 *
 * <pre>
 * try (S3ProxyServer s3 = S3ProxyServer.start(tmp)) {
 *     String bucket = s3.createBucket("runs");                 // a unique name: runs-1a2b3c4d
 *     s3.configure(spark.sparkContext().hadoopConfiguration(), bucket);
 *     String out = "s3a://" + bucket + "/exp1";
 * }
 * </pre>
 */
public final class S3ProxyServer implements AutoCloseable {
    /** Test-only credentials of the local server. */
    public static final String ACCESS_KEY = "local-test-access";
    public static final String SECRET_KEY = "local-test-secret";

    private final Process process;
    private final int port;
    private final Path log;
    private final List<Map.Entry<Configuration, String>> configured = new CopyOnWriteArrayList<>(); // (conf, bucket)

    private S3ProxyServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts a server whose properties file and log go to {@code workDir}; waits until it listens. */
    public static S3ProxyServer start(Path workDir) throws IOException {
        Path jar = s3proxyJar();
        Files.createDirectories(workDir);
        int port = freePort();
        Path props = workDir.resolve("s3proxy.properties");
        Files.writeString(props, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=transient",
                "jclouds.identity=" + ACCESS_KEY,
                "jclouds.credential=" + SECRET_KEY) + "\n");
        Path log = workDir.resolve("s3proxy.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx256m", "-jar", jar.toString(), "--properties", props.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        S3ProxyServer server = new S3ProxyServer(p, port, log);
        try {
            server.awaitListening(30_000);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private static Path s3proxyJar() {
        String prop = System.getProperty("understudy.s3proxy.jar");
        for (Path candidate : prop != null ? List.of(Path.of(prop)) : List.of(Path.of("target/s3proxy/s3proxy.jar"),
                Path.of("spark-job/target/s3proxy/s3proxy.jar"))) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("no s3proxy jar at " + (prop != null ? prop : "target/s3proxy/s3proxy.jar")
                + "; build spark-job with Maven (its generate-test-resources phase copies it) or set"
                + " -Dunderstudy.s3proxy.jar=<s3proxy-VERSION-jar-with-dependencies.jar>");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void awaitListening(long timeoutMs) throws IOException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("s3proxy exited with status " + process.exitValue() + " before listening on port "
                        + port + "; its log " + log + ":\n" + logTail());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return;
            } catch (IOException notYet) {
                sleep(100);
            }
        }
        throw new IOException("s3proxy did not listen on port " + port + " within " + timeoutMs + " ms; its log " + log
                + ":\n" + logTail());
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** {@code http://127.0.0.1:PORT}. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Creates a bucket named {@code prefix-<8 random hex digits>} and returns its name. */
    public String createBucket(String prefix) {
        String name = (prefix + "-" + UUID.randomUUID().toString().substring(0, 8)).toLowerCase(Locale.ROOT);
        try (S3Client s3 = S3Client.builder().endpointOverride(endpoint()).forcePathStyle(true).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build()) {
            s3.createBucket(b -> b.bucket(name));
        }
        return name;
    }

    /**
     * Sets the S3A settings of stack.md §6b for {@code bucket} on {@code conf}, as per-bucket keys;
     * on Spark, the same keys without {@code bucket.NAME.} go in {@code spark.hadoop.fs.s3a.*}.
     */
    public void configure(Configuration conf, String bucket) {
        String p = "fs.s3a.bucket." + bucket + ".";
        conf.set(p + "endpoint", endpoint().toString());
        conf.set(p + "endpoint.region", "us-east-1");
        conf.set(p + "path.style.access", "true");
        conf.set(p + "connection.ssl.enabled", "false");
        conf.set(p + "aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        conf.set(p + "access.key", ACCESS_KEY);
        conf.set(p + "secret.key", SECRET_KEY);
        conf.set(p + "change.detection.version.required", "false");
        configured.add(Map.entry(conf, bucket));
    }

    /**
     * Closes the cached S3A clients of the configured buckets, removes the settings {@link
     * #configure} made (a shared SparkSession outlives this server) and stops the server process.
     */
    @Override
    public void close() throws IOException {
        try {
            for (Map.Entry<Configuration, String> c : configured) {
                FileSystem.get(URI.create("s3a://" + c.getValue() + "/"), c.getKey()).close(); // drop the cached client
                String prefix = "fs.s3a.bucket." + c.getValue() + ".";
                List<String> keys = new ArrayList<>();
                c.getKey().forEach(e -> {
                    if (e.getKey().startsWith(prefix)) {
                        keys.add(e.getKey());
                    }
                });
                keys.forEach(c.getKey()::unset);
            }
        } finally {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted while waiting for s3proxy", e));
        }
    }
}
