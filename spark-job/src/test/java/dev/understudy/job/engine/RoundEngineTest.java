package dev.understudy.job.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.storage.RunStore;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.ops.federation.Strategies;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.PeftAdapters;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import dev.understudy.ops.tokenizer.Tokenizer;
import dev.understudy.ops.train.LrSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Tuple2;

/** End-to-end rounds on local[2]: a tiny random-init model, 8 non-IID clients, FedAvg. */
class RoundEngineTest extends SparkTestBase {
    @TempDir
    static Path tmp;

    static Path modelDir;
    static List<ClientData> clients;

    @BeforeAll
    static void makeModelAndData() throws Exception {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
        modelDir = tmp.resolve("tiny-llama");
        HfModels.createRandom(ModelConfig.llama(spec.vocabSize(), 32, 2, 4, 2, 64, 128), 7, spec, modelDir);
        // 8 clients with a skewed mix of two "labels": prompt "<word> is" -> response " good"/" bad"
        String[] good = {"cake", "sun", "song", "gift", "smile"};
        String[] bad = {"mud", "rain", "bug", "dust", "fog"};
        clients = new ArrayList<>();
        try (Tokenizer tok = Tokenizer.load(modelDir)) {
            SplittableRandom r = new SplittableRandom(3);
            for (int c = 0; c < 8; c++) {
                double pGood = (c + 0.5) / 8.0;
                List<ClientData.Tokens> train = new ArrayList<>();
                List<ClientData.Tokens> eval = new ArrayList<>();
                for (int i = 0; i < 24; i++) {
                    boolean g = r.nextDouble() < pGood;
                    String w = g ? good[r.nextInt(good.length)] : bad[r.nextInt(bad.length)];
                    var pr = tok.encodePromptResponse(w + " is", g ? " good" : " bad", 32, true, true);
                    (i < 20 ? train : eval).add(new ClientData.Tokens(pr.ids(), pr.promptLength()));
                }
                clients.add(new ClientData("client-" + c, train, eval));
            }
        }
    }

    @AfterEach
    void clearFaults() {
        FaultInjection.clear();
    }

    static TrainSettings settings() {
        return new TrainSettings(modelDir.toUri().toString(), 4, 8, 0.0, List.of("q_proj", "v_proj", "down_proj"), 5, 4, 1,
                2e-2, LrSchedule.Kind.COSINE, 2, 40, 0.1, 0.0, 1.0, 11, 0, 0);
    }

    static RoundEngine.Result run(Path out, int rounds, int stopAfter, String strategy) throws Exception {
        return run(out, rounds, stopAfter, strategy, new dev.understudy.job.method.FedAvgLora(settings().modelUri()));
    }

    static RoundEngine.Result run(Path out, int rounds, int stopAfter, String strategy,
            dev.understudy.job.engine.FederatedMethod method) throws Exception {
        Map<String, Long> sizes = new java.util.TreeMap<>();
        clients.forEach(c -> sizes.put(c.clientId(), c.numTrain()));
        List<Tuple2<String, ClientData>> pairs = clients.stream().map(c -> new Tuple2<>(c.clientId(), c)).toList();
        JavaPairRDD<String, ClientData> rdd = jsc.parallelizePairs(pairs, 3).partitionBy(ClientPacking.of(sizes, 3))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel base = HfModels.load(modelDir, m, DataType.FLOAT32)) {
            RoundEngine engine = new RoundEngine(jsc, rdd, new ArrayList<>(sizes.keySet()), settings(),
                    Strategies.create(strategy, Map.of()), method, new RunStore(out.toUri(), new Configuration()),
                    new RoundEngine.Options(rounds, 6, 1.0, 1, 1, 0.5, 5, stopAfter), "seed: 5\n", base, null, 0);
            return engine.run();
        } finally {
            rdd.unpersist(false);
        }
    }

    @Test
    void threeRoundsOfFedAvgLowerTheEvalLossAndWriteAPeftAdapter() throws Exception {
        Path out = tmp.resolve("run-e2e");
        RoundEngine.Result r = run(out, 3, 0, "fedavg");
        assertThat(r.rounds()).hasSize(3);
        assertThat(r.rounds()).allSatisfy(m -> assertThat(m.succeeded()).isEqualTo(6));
        // the clients' training time lies inside the training stage: critical path ≤ stage wall, ≤ summed client time
        assertThat(r.rounds()).allSatisfy(m -> {
            assertThat(m.trainCriticalSeconds()).isPositive().isLessThanOrEqualTo(m.trainSeconds());
            assertThat(m.trainCriticalSeconds()).isLessThanOrEqualTo(m.clientSeconds());
        });
        double first = r.rounds().get(0).evalLoss();
        double last = r.rounds().get(2).evalLoss();
        assertThat(last).isLessThan(first);
        // exact payload accounting: 6 clients × adapter floats × 4 bytes
        assertThat(r.rounds().get(0).bytesUp()).isEqualTo(6L * 4 * r.finalAdapter().length);
        assertThat(out.resolve("rounds/round-00003/_MANIFEST.json")).exists();
        assertThat(out.resolve("metrics.jsonl")).exists();
        assertThat(Files.readAllLines(out.resolve("metrics.jsonl"))).hasSize(3);
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel base = HfModels.load(modelDir, m, DataType.FLOAT32);
                LoraAdapter back = PeftAdapters.load(new DirectoryModelSource(out.resolve("adapter")), base, m)) {
            assertThat(AdapterVectors.flatten(back.exportTensors())).isEqualTo(r.finalAdapter());
        }
    }

    @Test
    void resumeAfterACommittedRoundAndAfterAHalfWrittenOneIsBitIdentical() throws Exception {
        float[] uninterrupted = run(tmp.resolve("run-full"), 4, 0, "fedadam").finalAdapter();

        Path out = tmp.resolve("run-resume");
        RoundEngine.Result stopped = run(out, 4, 2, "fedadam");
        assertThat(stopped.rounds()).hasSize(2);
        // simulate a crash in the middle of committing round 3: files but no manifest
        Files.createDirectories(out.resolve("rounds/round-00003"));
        Files.writeString(out.resolve("rounds/round-00003/global.safetensors"), "partial");
        RoundEngine.Result resumed = run(out, 4, 0, "fedadam");
        assertThat(resumed.resumedFrom()).isEqualTo(2);
        assertThat(resumed.rounds()).hasSize(4);
        assertThat(resumed.finalAdapter()).isEqualTo(uninterrupted);
    }

    @Test
    void aRetriedTaskGivesTheIdenticalResult() throws Exception {
        float[] clean = run(tmp.resolve("run-clean"), 2, 0, "fedavg").finalAdapter();
        List<String> sampled = RoundEngine.sample(clients.stream().map(ClientData::clientId).sorted().toList(), 1,
                new RoundEngine.Options(2, 6, 1.0, 1, 1, 0.5, 5, 0));
        FaultInjection.failFirstAttempt(1, sampled.get(0));
        float[] retried = run(tmp.resolve("run-retried"), 2, 0, "fedavg").finalAdapter();
        assertThat(retried).isEqualTo(clean);
    }

    /**
     * A method that damps every aggregated adapter and counts its calls in its state: the hooks run
     * in order, their result is what gets committed, and their state survives a resume.
     */
    static final class DampingMethod implements dev.understudy.job.engine.FederatedMethod {
        final List<String> calls = new ArrayList<>();
        float count;

        @Override
        public String name() {
            return "damping";
        }

        @Override
        public String clientModelUri() {
            return settings().modelUri();
        }

        @Override
        public void beforeFederation(dev.understudy.job.engine.MethodContext ctx) throws java.io.IOException {
            calls.add("before");
            ctx.store().writeString("method/prepared.txt", "ok");
        }

        @Override
        public float[] afterAggregation(dev.understudy.job.engine.MethodContext ctx, int round, float[] aggregated) {
            calls.add("after " + round);
            count++;
            float[] out = aggregated.clone();
            for (int i = 0; i < out.length; i++) {
                out[i] *= 0.5f;
            }
            return out;
        }

        @Override
        public Map<String, Double> evaluateServer(dev.understudy.job.engine.MethodContext ctx, int round, float[] global) {
            return Map.of("server_calls", (double) count);
        }

        @Override
        public Map<String, float[]> state() {
            return Map.of("count", new float[] {count});
        }

        @Override
        public void restoreState(Map<String, float[]> state) {
            calls.add("restore");
            count = state.get("count")[0];
        }

        @Override
        public void finish(dev.understudy.job.engine.MethodContext ctx, float[] global) throws java.io.IOException {
            calls.add("finish");
            ctx.store().writeString("method/finished.txt", Float.toString(count));
        }
    }

    @Test
    void methodHooksRunAroundTheLoopAndTheirStateSurvivesAResume() throws Exception {
        DampingMethod full = new DampingMethod();
        RoundEngine.Result r = run(tmp.resolve("run-method-full"), 4, 0, "fedavg", full);
        assertThat(full.calls).containsExactly("before", "after 1", "after 2", "after 3", "after 4", "finish");
        assertThat(r.rounds().get(3).methodMetrics()).containsEntry("server_calls", 4.0);
        assertThat(tmp.resolve("run-method-full/method/finished.txt")).hasContent("4.0");
        assertThat(r.finalAdapter()).isNotEqualTo(run(tmp.resolve("run-method-plain"), 4, 0, "fedavg").finalAdapter());

        Path out = tmp.resolve("run-method-resume");
        DampingMethod first = new DampingMethod();
        run(out, 4, 2, "fedavg", first);
        assertThat(first.calls).containsExactly("before", "after 1", "after 2");
        DampingMethod second = new DampingMethod();
        RoundEngine.Result resumed = run(out, 4, 0, "fedavg", second);
        assertThat(second.calls).containsExactly("restore", "after 3", "after 4", "finish");
        assertThat(resumed.finalAdapter()).isEqualTo(r.finalAdapter());
        assertThat(resumed.rounds()).extracting(RoundEngine.RoundMetrics::round).containsExactly(1, 2, 3, 4);
        assertThat(out.resolve("method/finished.txt")).hasContent("4.0");
    }

    @Test
    void criticalPathSchedulesTasksInPartitionOrderOnTheFirstFreeSlot() {
        // 2 slots: 3 | 1, then 2 joins the slot free at 1 → ends at 3; max(3, 3) = 3
        assertThat(RoundEngine.criticalPath(new double[] {3, 1, 2}, 2)).isEqualTo(3.0);
        // 2 slots: 1 | 1, 1 → slot A (2), 1 → slot B (2), 4 → slot A (6)
        assertThat(RoundEngine.criticalPath(new double[] {1, 1, 1, 1, 4}, 2)).isEqualTo(6.0);
        // no more tasks than slots: the longest task; one slot: the sum
        assertThat(RoundEngine.criticalPath(new double[] {2.5, 4, 1}, 8)).isEqualTo(4.0);
        assertThat(RoundEngine.criticalPath(new double[] {2.5, 4, 1}, 1)).isEqualTo(7.5);
        assertThat(RoundEngine.criticalPath(new double[0], 2)).isEqualTo(0.0);
    }

    @Test
    void evaluationSummaryWeighsLossByTokensAndAccuracyByScoredExamples() {
        var e = RoundEngine.summarise(List.of(new EvalFunction.ClientEval("a", 6.0, 3, 1, 2, 2),
                new EvalFunction.ClientEval("b", 2.0, 1, 3, 3, 4)));
        assertThat(e.loss()).isEqualTo(2.0); // (6 + 2) / (3 + 1)
        assertThat(e.accuracy()).isEqualTo(0.8); // (1 + 3) / (2 + 3)
    }
}
