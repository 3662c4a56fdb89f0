package dev.understudy.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.job.storage.RunStore;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.job.testing.TinyJob;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.privacy.Rdp;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The privacy and attack sections through the real job (LoRA training), and the audit command. */
class PrivacyJobTest extends SparkTestBase {
    @TempDir
    static Path tmp;

    static TinyJob job;

    @BeforeAll
    static void data() throws Exception {
        job = TinyJob.create(spark, tmp);
    }

    @Test
    void aDpRunReportsTheAccountantsEpsilonAndTheAuditScoresIt() throws Exception {
        String out = tmp.resolve("dp").toUri().toString();
        FederatedJob.JobResult r = FederatedJob.run(spark, job.config(out, "server.rounds=2", "privacy.enabled=true",
                "privacy.clip_norm=0.5", "privacy.noise_multiplier=0.8", "privacy.delta=1e-3"), false);
        double q = 6 / 8.0;
        for (int round = 1; round <= 2; round++) {
            assertThat(r.rounds().get(round - 1).methodMetrics().get("dp_epsilon"))
                    .isEqualTo(Rdp.epsilon(q, 0.8, round, 1e-3).epsilon());
            assertThat(r.rounds().get(round - 1).updated()).isTrue();
        }
        AuditJob.Result a = AuditJob.run(spark, job.config(out), null);
        assertThat(a.round()).isEqualTo(2);
        assertThat(a.members()).isGreaterThan(100);
        assertThat(a.nonMembers()).isGreaterThan(20);
        assertThat(a.lossAuc()).isBetween(0.0, 1.0);
        assertThat(a.ratioAuc()).isBetween(0.0, 1.0);
        assertThat(a.epsilon()).isEqualTo(r.rounds().get(1).methodMetrics().get("dp_epsilon"));
        assertThat(tmp.resolve("dp/audit-round-2.json")).exists();
    }

    @Test
    void labelFlippingAttackersTrainOnFlippedRows() throws Exception {
        String out = tmp.resolve("flip").toUri().toString();
        FederatedJob.JobResult r = FederatedJob.run(spark, job.config(out, "server.rounds=1",
                "server.clients_per_round=8", "attack={kind: label_flip, fraction: 0.25, seed: 1}"), false);
        assertThat(r.rounds().get(0).methodMetrics().get("attack_clients")).isEqualTo(2.0);
        RunStore store = new RunStore(java.net.URI.create(out), new Configuration());
        Map<String, double[]> stats = new LinkedHashMap<>();
        SafetensorsReader.stream(new ByteArrayInputStream(store.readRound(1).files().get("statistics.safetensors")),
                "statistics", t -> stats.put(t.name(), t.toDoubles()));
        assertThat(stats.get("attack.clients")[0]).isEqualTo(2.0);
        assertThat(stats.get("attack.flipped_rows")[0]).isGreaterThan(5.0); // the labels really were flipped
    }
}
