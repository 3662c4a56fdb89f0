package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.job.testing.TinyJob;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to a real driver JVM ({@code Main run} in a child process, local[2]) while it trains: the
 * round in progress is committed or not at all, the process says where it stopped and exits 143, the
 * lease is released, and {@code resume} continues from the last committed round to the end.
 */
class SigtermStopTest extends SparkTestBase {
    @TempDir
    static Path tmp;

    @Test
    void sigtermFinishesTheRoundReleasesTheLeaseAndResumeContinues() throws Exception {
        TinyJob job = TinyJob.create(spark, tmp.resolve("job"));
        Path out = tmp.resolve("out");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-javaagent") && !a.startsWith("-agentlib")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of("-Dspark.master=local[2]", "-Dspark.ui.enabled=false", "-Dspark.driver.host=127.0.0.1",
                "-Dspark.driver.bindAddress=127.0.0.1", "-Dspark.sql.shuffle.partitions=4", "-cp",
                System.getProperty("java.class.path"), "dev.understudy.job.Main", "run", "--defaults",
                MainInputErrorsTest.DefaultsPath.get().toString()));
        for (String s : sets(job, out)) {
            cmd.add("--set");
            cmd.add(s);
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder log = new StringBuilder();
        int stoppedAfter = -1;
        Pattern stopped = Pattern.compile("stopped after round (\\d+) of 4 \\(SIGTERM\\)");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            boolean signalled = false;
            for (String line; (line = r.readLine()) != null; ) {
                log.append(line).append('\n');
                if (!signalled && line.startsWith("round 1/4:")) {
                    p.toHandle().destroy(); // SIGTERM, as a scheduler sends it (Process.destroy would also close our pipe)
                    signalled = true;
                }
                Matcher m = stopped.matcher(line);
                if (m.find()) {
                    stoppedAfter = Integer.parseInt(m.group(1));
                }
            }
        } finally {
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
            }
        }
        assertThat(p.exitValue()).as(log.toString()).isEqualTo(143);
        assertThat(stoppedAfter).as(log.toString()).isBetween(1, 3);
        assertThat(log.toString()).doesNotContain("Exception").contains("continue with: understudy resume");
        // committed rounds are whole, nothing of a later round exists, the lease is gone
        for (int k = 1; k <= stoppedAfter; k++) {
            assertThat(out.resolve(String.format("rounds/round-%05d/_MANIFEST.json", k))).exists();
        }
        assertThat(out.resolve(String.format("rounds/round-%05d", stoppedAfter + 1))).doesNotExist();
        try (Stream<Path> s = Files.list(out)) {
            assertThat(s.map(f -> f.getFileName().toString())).noneMatch(n -> n.startsWith("_LEASE"));
        }

        // resume, by the same command line
        cmd.set(cmd.indexOf("run"), "resume");
        Process q = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String resumeLog = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(q.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(q.exitValue()).as(resumeLog).isZero();
        assertThat(resumeLog).doesNotContain("round " + stoppedAfter + "/4:").contains("round 4/4:");
        assertThat(out.resolve("rounds/round-00004/_MANIFEST.json")).exists();
        assertThat(out.resolve("adapter")).exists();
    }

    /** TinyJob's settings as --set arguments, 4 rounds. */
    private static List<String> sets(TinyJob job, Path out) {
        return List.of("data.path=" + job.data.toUri(), "data.kind=classification", "data.template={text} is",
                "data.label_words={0: ' bad', 1: ' good'}", "data.max_length=48", "data.bad_rows=skip",
                "partitioning={type: dirichlet, num_clients: 8, alpha: 0.5, min_size: 5, eval_fraction: 0.2}",
                "model.base=" + job.model.toUri(), "model.lora.rank=4", "model.lora.target_modules=[q_proj, v_proj, down_proj]",
                "model.lora.dropout=0.0", "client.local_steps=5", "client.batch_size=4", "client.lr=0.02",
                "server.rounds=4", "server.clients_per_round=6", "output.dir=" + out.toUri(), "seed=5");
    }
}
