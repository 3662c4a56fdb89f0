package dev.understudy.job.method;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.job.FederatedJob;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.surgery.DerivedModel;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FedOT through the round engine on local[2]: a 4-layer model, emulator 1-1-1 distilled once on a
 * public corpus, LoRA on the adapter layers only, plug-in and emulator-alone evaluation, resume.
 */
class OffsiteTuningJobTest extends SparkTestBase {
    @TempDir
    static Path tmp;
    static Path fullModel;
    static Path data;
    static Path kd;

    @BeforeAll
    static void setUp() throws Exception {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
        fullModel = tmp.resolve("full");
        HfModels.createRandom(ModelConfig.llama(spec.vocabSize(), 32, 4, 4, 2, 64, 128), 3, spec, fullModel);
        data = write("reviews.parquet", 120, 9);
        kd = write("kd.parquet", 24, 10);
    }

    /** Labelled two-word reviews (the FedPT test's kind of data). */
    static Path write(String name, int n, long seed) {
        String[] good = {"lovely cake", "warm sun", "great song", "kind gift", "bright smile"};
        String[] bad = {"cold mud", "grey rain", "nasty bug", "thick dust", "damp fog"};
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        List<org.apache.spark.sql.Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean g = r.nextBoolean();
            rows.add(org.apache.spark.sql.RowFactory.create((g ? good : bad)[r.nextInt(5)] + " " + i % 5, g ? 1 : 0));
        }
        var schema = new org.apache.spark.sql.types.StructType()
                .add("text", org.apache.spark.sql.types.DataTypes.StringType)
                .add("label", org.apache.spark.sql.types.DataTypes.IntegerType);
        Path p = tmp.resolve(name);
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(p.toString());
        return p;
    }

    static JobConfig config(String out, String... extra) {
        List<String> sets = new ArrayList<>(List.of(
                "data.path=" + data.toUri(), "data.kind=classification", "data.template={text} is",
                "data.label_words={0: ' bad', 1: ' good'}", "data.max_length=32",
                "partitioning={type: dirichlet, num_clients: 4, alpha: 1.0, min_size: 5, eval_fraction: 0.2}",
                "model.base=" + fullModel.toUri(), "model.lora.rank=4", "model.lora.target_modules=[q_proj, v_proj]",
                "model.lora.dropout=0.0", "client.local_steps=2", "client.batch_size=4", "client.lr=0.02",
                "server.rounds=2", "server.clients_per_round=3", "output.dir=" + tmp.resolve(out).toUri(), "seed=7",
                "method=fedot", "method_params={bottom: 1, middle_kept: 1, top: 1, distill: true, kd_data: '"
                        + kd.toUri() + "', kd_steps: 4, kd_batch_size: 8, kd_lr: 0.005}"));
        sets.addAll(List.of(extra));
        return ConfigLoader.load(null, List.of(), sets);
    }

    @Test
    void clientsTrainTheAdapterLayersOnlyThePlugInIsEvaluatedAndAResumeIsBitIdentical() throws Exception {
        FederatedJob.JobResult full = FederatedJob.run(spark, config("fedot-full"), false);
        Path run = tmp.resolve("fedot-full");
        // the emulator: parent layers 0 | 1 of the middle [1, 3) | 3, with its provenance
        Path emu = run.resolve("method/emulator/v1");
        assertThat(DerivedModel.readDerivation(new DirectoryModelSource(emu)).layerMap()).containsExactly(0, 1, 3);
        assertThat(HfModels.loadConfig(new DirectoryModelSource(emu)).numLayers()).isEqualTo(3);
        assertThat(full.rounds()).hasSize(2).allSatisfy(m -> {
            assertThat(m.methodMetrics()).containsKeys("plugin_eval_loss", "plugin_accuracy");
            assertThat(m.evalLoss()).isFinite(); // the emulator alone with the adapter
            assertThat(m.methodMetrics().get("plugin_eval_loss")).isFinite().isNotEqualTo(m.evalLoss());
        });
        var first = full.rounds().get(0).methodMetrics();
        assertThat(first.get("emulator_nmse_after")).isLessThan(first.get("emulator_nmse_before"));
        // LoRA only on the adapter layers: emulator blocks 0 and 2; the plug-in on full-model blocks 0 and 3
        assertThat(keys(run.resolve("adapter/adapter_model.safetensors"))).containsExactlyInAnyOrder(
                lora(0, "q_proj"), lora(0, "v_proj"), lora(2, "q_proj"), lora(2, "v_proj"));
        assertThat(keys(run.resolve("method/plugin_adapter/adapter_model.safetensors"))).containsExactlyInAnyOrder(
                lora(0, "q_proj"), lora(0, "v_proj"), lora(3, "q_proj"), lora(3, "v_proj"));
        assertThat(HfModels.loadConfig(new DirectoryModelSource(run.resolve("method/plugin"))).numLayers()).isEqualTo(4);
        assertThat(run.resolve("method/offsite.json")).content().contains("\"emulator\":\"1-1-1\"");

        FederatedJob.run(spark, config("fedot-resume"), false, 1);
        FederatedJob.JobResult resumed = FederatedJob.run(spark, config("fedot-resume"), true);
        assertThat(resumed.resumedFrom()).isEqualTo(1);
        assertThat(resumed.finalAdapter()).isEqualTo(full.finalAdapter());
        assertThat(Files.readAllBytes(tmp.resolve("fedot-resume/method/plugin_adapter/adapter_model.safetensors")))
                .isEqualTo(Files.readAllBytes(run.resolve("method/plugin_adapter/adapter_model.safetensors")));
        assertThat(resumed.rounds().get(1).methodMetrics().get("plugin_eval_loss"))
                .isEqualTo(full.rounds().get(1).methodMetrics().get("plugin_eval_loss"));
    }

    @Test
    void badEmulatorSettingsFailBeforeAnyTraining() {
        assertThatThrownBy(() -> FederatedJob.run(spark, config("fedot-bad", "method_params.middle_kept=3"), false))
                .hasStackTraceContaining("method_params.middle_kept=3 must be in [1, 2]");
        assertThat(tmp.resolve("fedot-bad/rounds/round-00001")).doesNotExist();
        assertThatThrownBy(() -> FederatedJob.run(spark, config("fedot-bad2", "method_params.top=3"), false))
                .hasStackTraceContaining("method_params.bottom=1 + method_params.top=3");
        // a target that exists in the model but in no adapter layer would leave the top adapter untrained
        assertThatThrownBy(() -> FederatedJob.run(spark, config("fedot-bad3",
                "model.lora.target_modules=[model.layers.0.self_attn.q_proj]"), false))
                .hasStackTraceContaining("matches no module of adapter layer 2 (parent layer 3");
        assertThat(tmp.resolve("fedot-bad3/rounds/round-00001")).doesNotExist();
        assertThatThrownBy(() -> OffsiteConfig.parse("fedot", java.util.Map.of("bottom", 1, "top", 1), false))
                .hasMessageContaining("method_params.middle_kept");
    }

    /**
     * FedBiOT: top adapter only, the emulator re-aligned before round 2 (client-model version 2 in
     * the committed round), a resume after round 1 bit-identical including the aligned emulator.
     */
    @Test
    void fedBiOtReAlignsTheEmulatorEachRoundAndAResumeIsBitIdentical() throws Exception {
        String[] biot = {"method=fedbiot", "client.proximal_mu=0.01", "method_params={middle_kept: 2, top: 1, kd_data: '"
                + kd.toUri() + "', kd_batch_size: 8, align_steps: 3, align_lr: 0.005}"};
        FederatedJob.JobResult full = FederatedJob.run(spark, config("fedbiot-full", biot), false);
        Path run = tmp.resolve("fedbiot-full");
        assertThat(DerivedModel.readDerivation(new DirectoryModelSource(run.resolve("method/emulator/v1"))).layerMap())
                .containsExactly(0, 2, 3); // middle [0, 3) → keep 2: 0, 2; top adapter 3
        var r2 = full.rounds().get(1).methodMetrics();
        assertThat(r2.get("emulator_version")).isEqualTo(2.0);
        assertThat(r2.get("align_nmse_after")).isLessThan(r2.get("align_nmse_before"));
        assertThat(full.rounds().get(0).methodMetrics()).doesNotContainKey("emulator_version");
        assertThat(Files.readString(run.resolve("rounds/round-00002/_MANIFEST.json"))).contains("method/emulator/v2");
        assertThat(Files.readAllBytes(run.resolve("method/emulator/v2/model.safetensors")))
                .isNotEqualTo(Files.readAllBytes(run.resolve("method/emulator/v1/model.safetensors")));
        assertThat(keys(run.resolve("adapter/adapter_model.safetensors")))
                .containsExactlyInAnyOrder(lora(2, "q_proj"), lora(2, "v_proj"));
        assertThat(keys(run.resolve("method/plugin_adapter/adapter_model.safetensors")))
                .containsExactlyInAnyOrder(lora(3, "q_proj"), lora(3, "v_proj"));

        FederatedJob.run(spark, config("fedbiot-resume", biot), false, 1);
        FederatedJob.JobResult resumed = FederatedJob.run(spark, config("fedbiot-resume", biot), true);
        assertThat(resumed.resumedFrom()).isEqualTo(1);
        assertThat(resumed.finalAdapter()).isEqualTo(full.finalAdapter());
        assertThat(Files.readAllBytes(tmp.resolve("fedbiot-resume/method/emulator/v2/model.safetensors")))
                .isEqualTo(Files.readAllBytes(run.resolve("method/emulator/v2/model.safetensors")));
        assertThat(resumed.rounds().get(1).methodMetrics().get("align_nmse_after")).isEqualTo(r2.get("align_nmse_after"));
    }

    static String lora(int layer, String module) {
        return "base_model.model.model.layers." + layer + ".self_attn." + module + ".lora_"; // prefix, see keys()
    }

    /** Tensor names of a safetensors file, cut to the part {@link #lora} names (A and B collapse). */
    static java.util.Set<String> keys(Path file) throws Exception {
        java.util.Set<String> out = new java.util.TreeSet<>();
        var f = SafetensorsReader.read(file);
        try {
            for (String k : f.names()) {
                out.add(k.substring(0, k.indexOf(".lora_") + ".lora_".length()));
            }
        } finally {
            f.close();
        }
        return out;
    }
}
