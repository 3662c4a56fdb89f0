package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.job.testing.StandaloneCluster;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded application jar on a real standalone cluster: a master and two one-core workers on
 * 127.0.0.1 (separate JVMs over a SPARK_HOME holding only Spark's jars), the job submitted through
 * {@code SparkSubmit} in client mode with {@code conf/spark-defaults.conf}, two executor JVMs that
 * get DJL and the PyTorch natives from the application jar alone (offline, empty native cache).
 * The adapter must be byte-identical to the same job on the test JVM's {@code local[2]}: clients'
 * updates are summed per partition in partition order, so with the same partition count (and the
 * executors' torch intra-op thread count, which the cluster-test execution gives the test JVM) the result
 * does not depend on where tasks ran.
 *
 * <p>Runs after {@code package} (the {@code cluster-test} surefire execution of spark-job's pom),
 * because it needs the shaded jar. Logs of every JVM stay in {@code target/cluster-test/<time>/}.
 */
@Tag("cluster")
class StandaloneClusterTest extends SparkTestBase {
    static final int PARTITIONS = 2; // local[2]'s default parallelism; set on the cluster explicitly

    @TempDir
    static Path tmp;
    static Path model;
    static Path data;

    @BeforeAll
    static void setUp() throws Exception {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
        model = tmp.resolve("model");
        HfModels.createRandom(ModelConfig.llama(spec.vocabSize(), 32, 2, 4, 2, 64, 128), 3, spec, model);
        String[] good = {"lovely cake", "warm sun", "great song", "kind gift", "bright smile"};
        String[] bad = {"cold mud", "grey rain", "nasty bug", "thick dust", "damp fog"};
        SplittableRandom r = new SplittableRandom(9);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 240; i++) {
            boolean g = r.nextBoolean();
            rows.add(RowFactory.create((g ? good : bad)[r.nextInt(5)] + " " + i % 7, g ? 1 : 0));
        }
        StructType schema = new StructType().add("text", DataTypes.StringType).add("label", DataTypes.IntegerType);
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        data = tmp.resolve("reviews.parquet");
        df.coalesce(2).write().parquet(data.toString());
    }

    /** FederatedJobTest's configuration (Dirichlet split over 8 clients, 3 rounds of FedAvg). */
    static List<String> settings(Path out) {
        return List.of("data.path=" + data.toUri(), "data.kind=classification", "data.template={text} is",
                "data.label_words={0: ' bad', 1: ' good'}", "data.max_length=48",
                "partitioning={type: dirichlet, num_clients: 8, alpha: 0.5, min_size: 5, eval_fraction: 0.2}",
                "model.base=" + model.toUri(), "model.lora.rank=4", "model.lora.target_modules=[q_proj, v_proj, down_proj]",
                "model.lora.dropout=0.0", "client.local_steps=5", "client.batch_size=4", "client.lr=0.02",
                "server.rounds=3", "server.clients_per_round=6", "output.dir=" + out.toUri(), "seed=5");
    }

    @Test
    void clientModeSubmitOnTwoWorkersGivesTheLocalAdapterBitForBit() throws Exception {
        Path jar = Path.of(property("understudy.shadedJar"));
        assertThat(jar).as("the shaded jar (built by mvn package; this test runs after it)").isRegularFile();
        Path logs = Files.createDirectories(Path.of(property("understudy.buildDir"), "cluster-test",
                LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS"))));

        // reference: the same job on the test JVM's local[2]
        assertThat(spark.sparkContext().defaultParallelism()).isEqualTo(PARTITIONS);
        Path localOut = tmp.resolve("local");
        FederatedJob.JobResult local = FederatedJob.run(spark, ConfigLoader.load(null, List.of(), settings(localOut)), false);
        assertThat(local.rounds()).hasSize(3);

        List<Path> sparkJars = Arrays.stream(Files.readString(Path.of(property("understudy.sparkHomeClasspath"))).trim().split(":"))
                .map(Path::of).toList();
        assertThat(sparkJars).as("SPARK_HOME must not provide what the application jar has to carry")
                .noneMatch(p -> p.toString().contains("/ai/djl/") || p.toString().contains("/dev/understudy/"));
        List<String> jvmFlags = List.of(property("understudy.sparkJvmFlags").trim().split("\\s+"));
        Path nativeCache = logs.resolve("djl-cache"); // empty: natives can only come from the jar
        Properties defaults = new Properties();
        Path defaultsFile = Path.of(property("understudy.confDir"), "spark-defaults.conf");
        try (var in = Files.newBufferedReader(defaultsFile)) {
            defaults.load(in);
        }
        // the repo's executor flags, a fresh native cache, and C1-only JIT: short-lived JVMs on 2 cores
        // bit-identity holds per torch thread count: the reference ran with the executors' count
        String executorFlags = defaults.getProperty("spark.executor.extraJavaOptions");
        assertThat(executorFlags).as("executor flags in %s", defaultsFile)
                .contains("-Dai.djl.pytorch.num_threads=" + System.getProperty("ai.djl.pytorch.num_threads"));
        String djlFlags = defaults.getProperty("spark.executor.extraJavaOptions").trim() + " -DENGINE_CACHE_DIR=" + nativeCache
                + " " + StandaloneCluster.QUICK_JVM;
        Path clusterOut = tmp.resolve("cluster");
        Path events = Files.createDirectories(logs.resolve("events"));
        Path cwd = Files.createDirectories(logs.resolve("driver-cwd")); // no conf/defaults.yaml, as in the local run

        long t0 = System.nanoTime();
        try (StandaloneCluster cluster = StandaloneCluster.start(sparkJars, logs, 2, jvmFlags)) {
            long started = System.nanoTime();
            List<String> submit = new ArrayList<>(List.of("--deploy-mode", "client", "--class", "dev.understudy.job.Main",
                    "--properties-file", defaultsFile.toString(),
                    "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                    "--conf", "spark.executor.cores=1", "--conf", "spark.cores.max=2", "--conf", "spark.executor.memory=768m",
                    "--conf", "spark.executor.extraJavaOptions=" + djlFlags,
                    "--conf", "spark.default.parallelism=" + PARTITIONS, "--conf", "spark.sql.shuffle.partitions=4",
                    // start tasks only when both executors are up, so both do work
                    "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
                    "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=120s",
                    "--conf", "spark.ui.enabled=false", "--conf", "spark.eventLog.enabled=true",
                    "--conf", "spark.eventLog.dir=" + events.toUri(), "--conf", "spark.eventLog.compress=false",
                    "--conf", "spark.eventLog.rolling.enabled=false",
                    jar.toString(), "run"));
            settings(clusterOut).forEach(s -> submit.addAll(List.of("--set", s)));
            Path submitLog = logs.resolve("submit.log");
            List<String> driverJvm = new ArrayList<>(List.of("-Xmx1g"));
            driverJvm.addAll(List.of(djlFlags.split("\\s+")));
            Process p = cluster.submit(driverJvm, submit, submitLog, cwd);
            boolean done = p.waitFor(6, TimeUnit.MINUTES);
            assertThat(done).as("spark-submit finished within 6 minutes; log tail:\n%s", StandaloneCluster.tail(submitLog, 60)).isTrue();
            assertThat(p.exitValue()).as("spark-submit exit code; log tail:\n%s", StandaloneCluster.tail(submitLog, 80)).isZero();
            System.out.printf("cluster: started in %.1f s, job in %.1f s; logs in %s%n", (started - t0) / 1e9,
                    (System.nanoTime() - started) / 1e9, logs);
            assertTwoExecutorsWithNativesFromTheJar(cluster, events, jar.getFileName().toString());
            try (Stream<Path> s = Files.walk(nativeCache)) {
                List<String> names = s.map(f -> f.getFileName().toString()).toList();
                assertThat(names).as("natives extracted into the empty cache").contains("libtorch_cpu.so", "libtokenizers.so")
                        .anyMatch(n -> n.endsWith("libdjl_torch.so"));
            }
        } finally {
            deleteLargeFiles(logs, nativeCache); // ~0.5 GB of natives and a copy of the jar per executor
        }

        for (int r = 1; r <= 3; r++) {
            String global = "rounds/round-0000" + r + "/global.safetensors";
            assertThat(Files.mismatch(localOut.resolve(global), clusterOut.resolve(global))).as("first differing byte of %s", global)
                    .isEqualTo(-1L);
        }
        for (String f : List.of("adapter/adapter_model.safetensors", "adapter/adapter_config.json")) {
            assertThat(Files.mismatch(localOut.resolve(f), clusterOut.resolve(f))).as("first differing byte of %s", f).isEqualTo(-1L);
        }
        List<String> metrics = Files.readAllLines(clusterOut.resolve("metrics.jsonl"));
        assertThat(metrics).hasSize(3);
        for (int i = 0; i < 3; i++) {
            JsonObject m = JsonParser.parseString(metrics.get(i)).getAsJsonObject();
            assertThat(m.get("trainLoss").getAsDouble()).as("round %d train loss", i + 1).isEqualTo(local.rounds().get(i).trainLoss());
        }
        JsonObject last = JsonParser.parseString(metrics.get(2)).getAsJsonObject();
        assertThat(last.get("evalLoss").getAsDouble()).as("final eval loss").isEqualTo(local.rounds().get(2).evalLoss());
        assertThat(last.get("evalAccuracy").getAsDouble()).as("final eval accuracy").isEqualTo(local.rounds().get(2).evalAccuracy());
    }

    /** One executor per worker (two JVMs), both ran tasks and found the natives in the application jar. */
    private static void assertTwoExecutorsWithNativesFromTheJar(StandaloneCluster cluster, Path events, String jarName)
            throws IOException {
        for (int w = 1; w <= 2; w++) {
            List<Path> executorDirs;
            try (Stream<Path> s = Files.find(cluster.workerDir(w), 2, (f, a) -> a.isDirectory()
                    && f.getParent().getFileName().toString().startsWith("app-"))) {
                executorDirs = s.toList();
            }
            assertThat(executorDirs).as("executor directories of worker %d", w).hasSize(1);
            assertThat(executorDirs.get(0).resolve("stderr")).content()
                    .contains("Found matching platform from: jar:file:")
                    .contains(jarName + "!/native/lib/pytorch.properties");
        }
        TreeSet<String> added = new TreeSet<>();
        TreeSet<String> ranTasks = new TreeSet<>();
        for (String line : Files.readAllLines(single(events), StandardCharsets.UTF_8)) {
            JsonObject e = JsonParser.parseString(line).getAsJsonObject();
            switch (e.get("Event").getAsString()) {
                case "SparkListenerExecutorAdded" -> added.add(e.get("Executor ID").getAsString());
                case "SparkListenerTaskEnd" -> ranTasks.add(e.getAsJsonObject("Task Info").get("Executor ID").getAsString());
                default -> { }
            }
        }
        assertThat(added).as("executors registered").hasSize(2);
        assertThat(ranTasks).as("executors that ran tasks").isEqualTo(added);
    }

    private static void deleteLargeFiles(Path logs, Path nativeCache) throws IOException {
        if (Files.exists(nativeCache)) {
            deleteTree(nativeCache);
        }
        try (Stream<Path> s = Files.find(logs, 5, (f, a) -> a.isRegularFile() && f.toString().endsWith(".jar"))) {
            for (Path f : s.toList()) {
                Files.delete(f);
            }
        }
    }

    private static String property(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException("system property " + name + " is not set; run this test through Maven"
                    + " (spark-job's cluster-test surefire execution sets it)");
        }
        return v;
    }

    private static Path single(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> files = s.toList();
            assertThat(files).as("event logs in %s", dir).hasSize(1);
            return files.get(0);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
