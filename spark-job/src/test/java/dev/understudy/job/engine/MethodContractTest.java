package dev.understudy.job.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.method.FedAvgLora;
import dev.understudy.job.storage.RunStore;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.ops.federation.Strategies;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The method contract ({@link MethodContract}) for FedAvg-LoRA and for a method that uses every new hook. */
class MethodContractTest extends SparkTestBase {
    @TempDir
    static Path tmp;

    static EngineFixture fx;

    @BeforeAll
    static void fixture() throws Exception {
        fx = new EngineFixture(tmp);
    }

    @Test
    void fedAvgLoraKeepsTheContract() throws Exception {
        MethodContract.check(fx, jsc, tmp.resolve("fedavg"), () -> new FedAvgLora(fx.settings().modelUri()),
                () -> Strategies.create("fedadam", Map.of()));
    }

    @Test
    void aMethodThatBuildsReplacesCountsAndAggregatesItsOwnWayKeepsTheContract() throws Exception {
        Path dir = tmp.resolve("versioned");
        RoundEngine.Result r = MethodContract.check(fx, jsc, dir, () -> new VersionedTestMethod(fx.settings().modelUri()),
                () -> Strategies.create("fedavg", Map.of()));

        // the client model: v1 (built in beforeFederation) in round 1, v2 (replaced before round 2) after
        RunStore store = new RunStore(dir.resolve("full").toUri(), new Configuration());
        String v1 = dir.resolve("full/method/client-model/v1").toUri().toString();
        String v2 = dir.resolve("full/method/client-model/v2").toUri().toString();
        assertThat(clientModel(store, 1)).isEqualTo(new org.apache.hadoop.fs.Path(v1) + " v1");
        assertThat(clientModel(store, 2)).isEqualTo(new org.apache.hadoop.fs.Path(v2) + " v2");
        assertThat(clientModel(store, 3)).isEqualTo(new org.apache.hadoop.fs.Path(v2) + " v2");
        // a model inside the run directory is committed by its path there, so the run can move
        assertThat(store.readRound(2).metadata().getAsJsonObject("client_model").get("run_path").getAsString())
                .isEqualTo("method/client-model/v2");
        assertThat(store.readRound(3).metadata().get("strategy").getAsString()).isEqualTo("freeze_a_mean");
        assertThat(store.readRound(3).metadata().get("client_task").getAsString()).isEqualTo("lora+counts");
        // executors (this JVM on local[2]) dropped v1 once v2 was in force; the contract's last run
        // ("retried") is the one whose v2 is still cached; the PEFT adapter names v2
        assertThat(ExecutorModelCache.isLoaded(v1)).isFalse();
        assertThat(ExecutorModelCache.isLoaded(dir.resolve("retried/method/client-model/v1").toUri().toString()))
                .isFalse();
        assertThat(ExecutorModelCache.isLoaded(dir.resolve("retried/method/client-model/v2").toUri().toString()))
                .isTrue();
        assertThat(dir.resolve("full/adapter/adapter_config.json")).content().contains("client-model/v2");

        // the statistics equal the sums over each round's sampled clients computed here by hand
        for (int round = 1; round <= 3; round++) {
            List<String> sampled = RoundEngine.sample(fx.ids(), round, EngineFixture.options(3, 0, 0));
            double examples = 0;
            double[] hist = new double[EngineFixture.CONFIG.vocabSize()];
            for (ClientData c : fx.clients) {
                if (sampled.contains(c.clientId())) {
                    examples += c.train().size();
                    for (ClientData.Tokens t : c.train()) {
                        for (int id : t.ids()) {
                            hist[id]++;
                        }
                    }
                }
            }
            Map<String, double[]> committed = statistics(store, round);
            assertThat(committed.get("examples")).as("round %s", round).containsExactly(examples);
            assertThat(committed.get("token_counts")).as("round %s", round).containsExactly(hist);
            assertThat(committed.keySet()).containsExactly("examples", "token_counts");
        }
        assertThat(r.rounds().get(0).sampled()).isEqualTo(5);

        // the method's rule: A stays at its initial value (frozen), B moves
        Map<String, long[]> layout;
        float[] init;
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel v1Model = HfModels.load(dir.resolve("full/method/client-model/v1"), m, DataType.FLOAT32)) {
            var tensors = new LoraClientTask().initialState(v1Model, fx.settings());
            layout = AdapterVectors.layoutOf(tensors);
            init = AdapterVectors.flatten(tensors);
        }
        boolean bMoved = false;
        for (var t : dev.understudy.ops.federation.AdapterLayout.of(layout).tensors()) {
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                if (t.role() == dev.understudy.ops.federation.AdapterLayout.Role.LORA_A) {
                    assertThat(r.finalAdapter()[i]).as(t.name()).isEqualTo(init[i]);
                } else {
                    bMoved |= r.finalAdapter()[i] != init[i];
                }
            }
        }
        assertThat(bMoved).as("B tensors trained").isTrue();
    }

    @Test
    void aMethodSeesTheSameStatisticsThatAreCommitted() throws Exception {
        VersionedTestMethod m = new VersionedTestMethod(fx.settings().modelUri());
        Path out = tmp.resolve("seen");
        fx.run(jsc, out, m, Strategies.create("fedavg", Map.of()), EngineFixture.options(2, 0, 0));
        RunStore store = new RunStore(out.toUri(), new Configuration());
        assertThat(m.seen).containsOnlyKeys(1, 2);
        for (int round = 1; round <= 2; round++) {
            assertThat(m.seen.get(round).get("token_counts")).isEqualTo(statistics(store, round).get("token_counts"));
            assertThat(m.seen.get(round).clients()).isEqualTo(5);
        }
    }

    @Test
    void aStrategyThatCollectsMoreThanTheDriverBudgetFailsBeforeTheFirstRound() throws Exception {
        Path out = tmp.resolve("over-budget");
        MethodContract.Recording m = new MethodContract.Recording(new FedAvgLora(fx.settings().modelUri()));
        long perUpdate = 4L * adapterFloats();
        long budget = 2 * perUpdate + perUpdate / 2; // room for 2 of the 5 sampled clients' updates
        assertThatThrownBy(() -> fx.run(jsc, out, m, Strategies.create("fedmedian", Map.of()),
                EngineFixture.options(2, 0, budget)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("strategy fedmedian")
                .hasMessageContaining("5 clients per round × " + RoundEngine.human(perUpdate) + " per update = "
                        + RoundEngine.human(5 * perUpdate))
                .hasMessageContaining("more than the driver budget " + RoundEngine.human(budget))
                .hasMessageContaining("server.collect_budget_mb")
                .hasMessageContaining("to at most 2 clients")
                .hasMessageContaining("linear strategy");
        assertThat(m.calls).as("nothing ran").isEmpty();
        assertThat(new RunStore(out.toUri(), new Configuration()).committedRounds()).isEmpty();
        // the same run within budget goes through
        RoundEngine.Result ok = fx.run(jsc, tmp.resolve("within-budget"), new FedAvgLora(fx.settings().modelUri()),
                Strategies.create("fedmedian", Map.of()), EngineFixture.options(1, 0, 1024 * 1024));
        assertThat(ok.rounds()).hasSize(1);
    }

    static int adapterFloats() throws Exception {
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel base = HfModels.load(fx.modelDir, m, DataType.FLOAT32)) {
            return AdapterVectors.flatten(new LoraClientTask().initialState(base, fx.settings())).length;
        }
    }

    static String clientModel(RunStore store, int round) throws Exception {
        ClientModel m = ClientModel.fromManifest(store.readRound(round).metadata(), store.base(), null);
        return new org.apache.hadoop.fs.Path(m.uri()) + " v" + m.version();
    }

    static Map<String, double[]> statistics(RunStore store, int round) throws Exception {
        Map<String, double[]> out = new LinkedHashMap<>();
        byte[] bytes = store.readRound(round).files().get("statistics.safetensors");
        SafetensorsReader.stream(new ByteArrayInputStream(bytes), "statistics", t -> {
            out.put(t.name(), t.toDoubles());
        });
        return out;
    }
}
