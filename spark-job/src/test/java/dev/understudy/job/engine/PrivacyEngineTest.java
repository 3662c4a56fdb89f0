package dev.understudy.job.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import dev.understudy.job.storage.RunStore;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.ops.federation.ByzantineAttack;
import dev.understudy.ops.federation.FederatedStrategy;
import dev.understudy.ops.federation.Strategies;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.privacy.DpClipping;
import dev.understudy.ops.privacy.PoissonSampling;
import dev.understudy.ops.privacy.Rdp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Tuple2;

/**
 * DP-FedAvg and simulated attacks in the round engine on local[2]: clipping inside the client task,
 * seeded noise on the driver, the accountant's ε in metrics.jsonl, the ε budget stop, and an attacker
 * that moves FedAvg but not Krum. The clients' "training" is a fixed update per client and round
 * ({@link FixedUpdateTask}), so every expected global is computed by hand here.
 */
class PrivacyEngineTest extends SparkTestBase {
    @TempDir
    static Path tmp;

    static EngineFixture fx;

    static final double Q = 0.5;
    static final double CLIP = 1.0;

    @BeforeAll
    static void fixture() throws Exception {
        fx = new EngineFixture(tmp);
    }

    /** The update of client {@code c} in round {@code r}: a fixed direction with norm 0.4·(c+1). */
    static float[] honestUpdate(String clientId, int round, int n) {
        int c = Integer.parseInt(clientId.substring(clientId.indexOf('-') + 1));
        float[] d = new float[n];
        double s = 0;
        for (int i = 0; i < n; i++) {
            d[i] = (float) Math.cos(0.1 * i + 0.01 * c + 0.3 * round);
            s += (double) d[i] * d[i];
        }
        double scale = 0.4 * (c + 1) / Math.sqrt(s);
        for (int i = 0; i < n; i++) {
            d[i] = (float) (d[i] * scale);
        }
        return d;
    }

    /** A client task that returns {@link #honestUpdate} instead of training (weight: its row count). */
    static final class FixedUpdateTask extends LoraClientTask {
        private static final long serialVersionUID = 1L;

        @Override
        public String name() {
            return "fixed-update";
        }

        @Override
        public ClientResult train(Round r, ClientData data) {
            return new ClientResult(data.clientId(), r.round(), data.numTrain(),
                    honestUpdate(data.clientId(), r.round(), r.global().length), 1.0, 10, 0, r.attempt(), null);
        }
    }

    static final class FixedUpdateMethod implements FederatedMethod {
        private final String uri;

        FixedUpdateMethod(String uri) {
            this.uri = uri;
        }

        @Override
        public String name() {
            return "fixed_update";
        }

        @Override
        public String clientModelUri() {
            return uri;
        }

        @Override
        public ClientTask clientTask() {
            return new FixedUpdateTask();
        }
    }

    static RoundPrivacy dp(double z, double budget) {
        return new RoundPrivacy(new RoundPrivacy.Dp(CLIP, z, 1e-5, budget, 0, 0.2, 0), ByzantineAttack.NONE, null);
    }

    static RoundEngine.Options options(int rounds, double fraction, int stopAfter) {
        return new RoundEngine.Options(rounds, 0, fraction, 1, 0, 0.5, 5, stopAfter);
    }

    RoundEngine.Result run(Path out, RoundPrivacy privacy, FederatedStrategy strategy, RoundEngine.Options o)
            throws Exception {
        Map<String, Long> sizes = new TreeMap<>();
        fx.clients.forEach(c -> sizes.put(c.clientId(), c.numTrain()));
        List<Tuple2<String, ClientData>> pairs = fx.clients.stream().map(c -> new Tuple2<>(c.clientId(), c)).toList();
        JavaPairRDD<String, ClientData> rdd = jsc.parallelizePairs(pairs, 3).partitionBy(ClientPacking.of(sizes, 3))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel base = HfModels.load(fx.modelDir, m, DataType.FLOAT32)) {
            return new RoundEngine(jsc, rdd, new ArrayList<>(sizes.keySet()), fx.settings(), strategy,
                    new FixedUpdateMethod(fx.settings().modelUri()), new RunStore(out.toUri(), new Configuration()), o,
                    "seed: 5\n", base, null, 0).withPrivacy(privacy).run();
        } finally {
            rdd.unpersist(false);
        }
    }

    static FederatedStrategy fedavg() {
        return Strategies.create("fedavg", Map.of());
    }

    static float[] initial() throws Exception {
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel base = HfModels.load(fx.modelDir, m, DataType.FLOAT32)) {
            return AdapterVectors.flatten(new LoraClientTask().initialState(base, fx.settings()));
        }
    }

    @Test
    void withoutNoiseAPrivateRoundIsTheClippedSumOverQn() throws Exception {
        RoundEngine.Result r = run(tmp.resolve("clip-only"), dp(0, 0), fedavg(), options(2, Q, 0));
        float[] g = initial();
        List<String> ids = fx.ids();
        for (int round = 1; round <= 2; round++) {
            List<String> sampled = PoissonSampling.sample(ids, Q, 5, round);
            assertThat(sampled).isNotEmpty();
            double[] sum = new double[g.length];
            int clipped = 0;
            for (String id : sampled) {
                float[] u = honestUpdate(id, round, g.length);
                DpClipping.Clipped c = DpClipping.clip(u, CLIP);
                clipped += c.clipped() ? 1 : 0;
                assertThat(DpClipping.l2Norm(c.delta())).isLessThanOrEqualTo(CLIP);
                for (int i = 0; i < g.length; i++) {
                    sum[i] += c.delta()[i];
                }
            }
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) (g[i] + sum[i] / (Q * ids.size()));
            }
            RoundEngine.RoundMetrics m = r.rounds().get(round - 1);
            assertThat(m.sampled()).isEqualTo(sampled.size());
            assertThat(m.methodMetrics().get("dp_clipped_fraction")).isEqualTo((double) clipped / sampled.size());
            assertThat(m.methodMetrics().get("dp_epsilon")).isInfinite();
        }
        for (int i = 0; i < g.length; i++) {
            assertThat(r.finalAdapter()[i]).as("element %s", i).isCloseTo(g[i], org.assertj.core.data.Offset.offset(1e-6f));
        }
        // an unclipped FedAvg run of the same updates lands elsewhere: the clipping did something
        RoundEngine.Result plain = run(tmp.resolve("no-dp"), RoundPrivacy.OFF, fedavg(), options(1, 1.0, 0));
        assertThat(plain.finalAdapter()).isNotEqualTo(r.finalAdapter());
    }

    @Test
    void epsilonPerRoundIsTheAccountantsAndTheSameSeedGivesTheSameBitsAlsoOnResume() throws Exception {
        double z = 1.1;
        Path a = tmp.resolve("dp-a");
        RoundEngine.Result r = run(a, dp(z, 0), fedavg(), options(3, Q, 0));
        for (int round = 1; round <= 3; round++) {
            double expected = Rdp.epsilon(Rdp.DEFAULT_ORDERS, Rdp.sampledGaussian(Q, z, round, Rdp.DEFAULT_ORDERS), 1e-5)
                    .epsilon();
            assertThat(r.rounds().get(round - 1).methodMetrics().get("dp_epsilon")).isEqualTo(expected);
            assertThat(r.rounds().get(round - 1).methodMetrics().get("dp_noise_sigma"))
                    .isEqualTo(z * CLIP / (Q * fx.ids().size()));
        }
        // metrics.jsonl carries the same ε
        String line = Files.readAllLines(a.resolve("metrics.jsonl")).get(2);
        JsonObject json = RoundEngine.GSON.fromJson(line, JsonObject.class);
        assertThat(json.getAsJsonObject("methodMetrics").get("dp_epsilon").getAsDouble())
                .isEqualTo(r.rounds().get(2).methodMetrics().get("dp_epsilon"));

        RoundEngine.Result again = run(tmp.resolve("dp-b"), dp(z, 0), fedavg(), options(3, Q, 0));
        assertThat(again.finalAdapter()).isEqualTo(r.finalAdapter());
        run(tmp.resolve("dp-c"), dp(z, 0), fedavg(), options(3, Q, 1)); // stops after round 1
        RoundEngine.Result resumed = run(tmp.resolve("dp-c"), dp(z, 0), fedavg(), options(3, Q, 0));
        assertThat(resumed.resumedFrom()).isEqualTo(1);
        for (int round = 1; round <= 3; round++) {
            String f = "round-" + round;
            assertThat(roundFile(tmp.resolve("dp-c"), round)).as(f).isEqualTo(roundFile(a, round));
        }
        // the noise matters: another seed's noise gives another adapter
        RoundEngine.Result other = run(tmp.resolve("dp-d"), dp(z, 0), fedavg(),
                new RoundEngine.Options(3, 0, Q, 1, 0, 0.5, 6, 0));
        assertThat(other.finalAdapter()).isNotEqualTo(r.finalAdapter());
    }

    static byte[] roundFile(Path run, int round) throws Exception {
        return new RunStore(run.toUri(), new Configuration()).readRound(round).files().get("global.safetensors");
    }

    @Test
    void theRunEndsBeforeARoundThatWouldExceedTheEpsilonBudget() throws Exception {
        double z = 1.1;
        double e2 = Rdp.epsilon(Q, z, 2, 1e-5).epsilon();
        double e3 = Rdp.epsilon(Q, z, 3, 1e-5).epsilon();
        Path out = tmp.resolve("budget");
        RoundEngine.Result r = run(out, dp(z, (e2 + e3) / 2), fedavg(), options(5, Q, 0));
        assertThat(r.rounds()).hasSize(2);
        assertThat(new RunStore(out.toUri(), new Configuration()).lastCommittedRound()).contains(2);
        assertThat(out.resolve("adapter/adapter_model.safetensors")).exists(); // ended cleanly: final adapter written
    }

    @Test
    void aSignFlippingOrScalingAttackerMovesFedAvgButNotKrum() throws Exception {
        float[] g0 = initial();
        int n = g0.length;
        // the honest mean update, example-weighted as FedAvg weighs it
        double[] honest = new double[n];
        long w = 0;
        for (ClientData c : fx.clients) {
            float[] u = honestUpdate(c.clientId(), 1, n);
            for (int i = 0; i < n; i++) {
                honest[i] += u[i] * c.numTrain();
            }
            w += c.numTrain();
        }
        for (int i = 0; i < n; i++) {
            honest[i] /= w;
        }
        for (ByzantineAttack.Kind kind : List.of(ByzantineAttack.Kind.SIGN_FLIP, ByzantineAttack.Kind.SCALE)) {
            ByzantineAttack attack = new ByzantineAttack(kind, 0.25, 10, 3);
            RoundPrivacy p = new RoundPrivacy(null, attack, null);
            assertThat(p.attackers(fx.ids())).hasSize(2);
            float[] avg = update(run(tmp.resolve("fedavg-" + kind), p, fedavg(), options(1, 1.0, 0)), g0);
            float[] krum = update(run(tmp.resolve("krum-" + kind), p,
                    Strategies.create("krum", Map.of("num_malicious_clients", 2)), options(1, 1.0, 0)), g0);
            float[] clean = update(run(tmp.resolve("clean-" + kind), RoundPrivacy.OFF, fedavg(), options(1, 1.0, 0)), g0);
            assertThat(distance(clean, honest)).isLessThan(1e-5);
            double honestNorm = norm(honest);
            assertThat(distance(avg, honest)).as("FedAvg under %s", kind).isGreaterThan(honestNorm);
            // Krum picks one honest client: within the spread of the honest updates (norms 0.4 .. 3.2)
            assertThat(attackerLike(krum, g0.length, p)).as("Krum under %s", kind).isFalse();
            assertThat(norm(krum)).isLessThanOrEqualTo(3.2 + 1e-4);
        }
    }

    /** Whether {@code u} is (close to) one of the attackers' corrupted updates. */
    static boolean attackerLike(float[] u, int n, RoundPrivacy p) {
        for (String id : p.attackers(fx.ids())) {
            float[] bad = p.attack().corrupt(honestUpdate(id, 1, n));
            if (distance(u, toDouble(bad)) < 1e-3) {
                return true;
            }
        }
        return false;
    }

    static float[] update(RoundEngine.Result r, float[] g0) {
        float[] u = new float[g0.length];
        for (int i = 0; i < u.length; i++) {
            u[i] = r.finalAdapter()[i] - g0[i];
        }
        return u;
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    static double distance(float[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    static double norm(float[] a) {
        return distance(a, new double[a.length]);
    }

    static double norm(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x * x;
        }
        return Math.sqrt(s);
    }
}
