package dev.understudy.job.method;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.EvaluateJob;
import dev.understudy.job.FederatedJob;
import dev.understudy.job.GenerateJob;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.ops.infer.ModelLogitSource;
import dev.understudy.ops.infer.ProxyLogitSource;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FedPT through the round engine: a small and a large random model sharing one byte-level
 * tokenizer, a labelled data set over 6 clients and a disjoint server distillation set.
 */
class FedPtJobTest extends SparkTestBase {
    @TempDir
    static Path tmp;
    static Path small;
    static Path large;
    static Path data;
    static Path kd;

    @BeforeAll
    static void setUp() throws Exception {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
        small = tmp.resolve("small");
        large = tmp.resolve("large");
        HfModels.createRandom(ModelConfig.llama(spec.vocabSize(), 32, 2, 4, 2, 64, 128), 3, spec, small);
        HfModels.createRandom(ModelConfig.llama(spec.vocabSize(), 64, 2, 4, 2, 128, 128), 4, spec, large);
        // the two models as members of one family directory (as understudy pretrain writes it)
        Files.writeString(tmp.resolve("family.json"), "{\"format\": \"understudy-model-family/1\","
                + " \"members\": [{\"name\": \"s\", \"dir\": \"small\"}, {\"name\": \"l\", \"dir\": \"large\"}]}");
        data = write("reviews.parquet", 160, 9);
        kd = write("kd.parquet", 40, 10);
    }

    static Path write(String name, int n, long seed) {
        String[] good = {"lovely cake", "warm sun", "great song", "kind gift", "bright smile"};
        String[] bad = {"cold mud", "grey rain", "nasty bug", "thick dust", "damp fog"};
        SplittableRandom r = new SplittableRandom(seed);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean g = r.nextBoolean();
            rows.add(RowFactory.create((g ? good : bad)[r.nextInt(5)] + " " + i % 5, g ? 1 : 0));
        }
        StructType schema = new StructType().add("text", DataTypes.StringType).add("label", DataTypes.IntegerType);
        Path p = tmp.resolve(name);
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(p.toString());
        return p;
    }

    static JobConfig config(String out, String... extra) {
        List<String> sets = new ArrayList<>(List.of(
                "data.path=" + data.toUri(), "data.kind=classification", "data.template={text} is",
                "data.label_words={0: ' bad', 1: ' good'}", "data.max_length=32",
                "partitioning={type: dirichlet, num_clients: 6, alpha: 1.0, min_size: 5, eval_fraction: 0.2}",
                "model.base=" + small.toUri(), "model.lora.rank=4", "model.lora.target_modules=[q_proj, v_proj]",
                "model.lora.dropout=0.0", "client.local_steps=3", "client.batch_size=4", "client.lr=0.02",
                "server.rounds=2", "server.clients_per_round=4", "output.dir=" + tmp.resolve(out).toUri(), "seed=7",
                "method=fedpt", "method_params={large: '" + large.toUri() + "', kd_data: '" + kd.toUri()
                        + "', kd_steps: 4, kd_batch_size: 8, kd_lr: 0.005}"));
        sets.addAll(List.of(extra));
        return ConfigLoader.load(null, List.of(), sets);
    }

    @Test
    void distillationLowersTheKlEveryRoundAndAResumeIsBitIdentical() throws Exception {
        FederatedJob.JobResult full = FederatedJob.run(spark, config("fedpt-full"), false);
        assertThat(full.rounds()).hasSize(2).allSatisfy(m -> {
            assertThat(m.methodMetrics()).containsKeys("kd_kl_before", "kd_kl_after", "proxy_eval_loss", "proxy_accuracy");
            assertThat(m.methodMetrics().get("kd_kl_after")).isLessThan(m.methodMetrics().get("kd_kl_before"));
            assertThat(m.methodMetrics().get("proxy_accuracy")).isBetween(0.0, 1.0);
        });
        assertThat(tmp.resolve("fedpt-full/method/proxy.json")).content().contains("\"expert_adapter\":\"adapter\"")
                .contains("\"alpha\":1.0");
        assertThat(tmp.resolve("fedpt-full/adapter/adapter_model.safetensors")).exists();
        assertThat(tmp.resolve("fedpt-full/method/proxy.json")).content().contains("\"family\":\"method/family.json\"");
        assertThat(tmp.resolve("fedpt-full/method/family.json")).hasSameTextualContentAs(tmp.resolve("family.json"));
        assertThat(FedPt.familyManifest(small.toUri().toString(), data.toUri().toString(),
                spark.sparkContext().hadoopConfiguration())).as("not a member").isNull();
        assertEvaluateMatchesTheLastRound(full, config("fedpt-full"));
        assertGenerateUsesTheProxy(full, config("fedpt-full"));

        FederatedJob.run(spark, config("fedpt-resume"), false, 1);
        FederatedJob.JobResult resumed = FederatedJob.run(spark, config("fedpt-resume"), true);
        assertThat(resumed.resumedFrom()).isEqualTo(1);
        assertThat(resumed.finalAdapter()).isEqualTo(full.finalAdapter());

        // without distillation the global adapter is plain FedAvg on the small model
        float[] noKd = FederatedJob.run(spark, config("fedpt-nokd", "method_params.distill=false"), false).finalAdapter();
        float[] fedavg = FederatedJob.run(spark, config("fedavg-small", "method=fedavg_lora", "method_params={}"), false)
                .finalAdapter();
        assertThat(noKd).isEqualTo(fedavg);
        assertThat(full.finalAdapter()).isNotEqualTo(fedavg);
    }

    @Test
    void theClientUpdatesExpertLeavesOutTheDistillationAndResumesBitIdentically() throws Exception {
        String cu = "method_params.expert=client_updates";
        // round 1: the teacher's expert is the aggregate in both modes, so the distilled adapters agree
        FederatedJob.JobResult agg1 = FederatedJob.run(spark, config("fedpt-agg-1"), false, 1);
        FederatedJob.JobResult cu1 = FederatedJob.run(spark, config("fedpt-cu", cu), false, 1);
        assertThat(cu1.finalAdapter()).isEqualTo(agg1.finalAdapter());
        assertThat(agg1.methodState()).isEmpty();
        float[] offset1 = cu1.methodState().get(FedPt.EXPERT_OFFSET);
        assertThat(offset1).hasSameSizeAs(cu1.finalAdapter());
        // the offset is what the distillation moved: aggregate − distilled ≠ 0; expert = the aggregate
        float[] expert1 = FedPt.expert(cu1.finalAdapter(), offset1);
        assertThat(expert1).isNotEqualTo(cu1.finalAdapter());

        FederatedJob.JobResult resumed = FederatedJob.run(spark, config("fedpt-cu", cu), true);
        FederatedJob.JobResult full = FederatedJob.run(spark, config("fedpt-cu-full", cu), false);
        assertThat(resumed.resumedFrom()).isEqualTo(1);
        assertThat(resumed.finalAdapter()).isEqualTo(full.finalAdapter());
        assertThat(resumed.methodState().get(FedPt.EXPERT_OFFSET)).isEqualTo(full.methodState().get(FedPt.EXPERT_OFFSET));
        // from round 2 on the teacher differs from the paper's expert, so the runs part
        FederatedJob.JobResult aggFull = FederatedJob.run(spark, config("fedpt-agg-full"), false);
        assertThat(full.finalAdapter()).isNotEqualTo(aggFull.finalAdapter());
        assertThat(full.rounds().get(1).methodMetrics().get("kd_kl_before"))
                .isNotEqualTo(aggFull.rounds().get(1).methodMetrics().get("kd_kl_before"));
        assertThat(tmp.resolve("fedpt-cu-full/method/proxy.json")).content()
                .contains("\"expert_adapter\":\"method/expert\"").contains("\"expert\":\"client_updates\"");
        assertThat(tmp.resolve("fedpt-cu-full/method/expert/adapter_model.safetensors")).exists();
        assertThat(tmp.resolve("fedpt-cu-full/method/expert/adapter_config.json")).exists();
        assertEvaluateMatchesTheLastRound(full, config("fedpt-cu-full", cu));
    }

    /**
     * {@code understudy generate} on a FedPT run decodes with the proxy: its first greedy token is the
     * argmax of the teacher-forced proxy logits (large + α (small with the final adapter − small)) at
     * the prompt's last position; {@code --small} and {@code --base} use the small model.
     */
    static void assertGenerateUsesTheProxy(FederatedJob.JobResult run, JobConfig cfg) throws Exception {
        var conf = spark.sparkContext().hadoopConfiguration();
        GenerateJob.Result g = GenerateJob.generate(conf, cfg,
                new GenerateJob.Options(List.of("warm sun 1", "cold mud 2"), null, false, false, 6, 0, 1, 0));
        assertThat(g.model()).contains("round-2").contains("proxy-tuned large");
        assertThat(g.generations()).hasSize(2).allSatisfy(x -> assertThat(x.tokens()).isBetween(1, 6));
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                Tokenizer tok = Tokenizer.load(small);
                DecoderModel s = HfModels.load(small, m, DataType.FLOAT32);
                DecoderModel l = HfModels.load(large, m, DataType.FLOAT32);
                LoraAdapter a = LoraAdapter.create(s, new LoraConfig(cfg.model().lora().rank(), cfg.model().lora().alpha(),
                        0.0, cfg.model().lora().targetModules()), 0, m)) {
            a.load(AdapterVectors.unflatten(AdapterVectors.layoutOf(a.exportTensors()), run.finalAdapter()));
            int pad = tok.padIdOrEos();
            int[] prompt = tok.encodePromptResponse("warm sun 1 is", "", 32, true, false).ids();
            NDArray logits = ProxyLogitSource.of(new ModelLogitSource(l, null, pad), s, a, 1.0, pad)
                    .sequenceLogits(List.of(prompt), m); // (1, T, V)
            int argmax = (int) logits.get(0, prompt.length - 1).argMax().getLong();
            GenerateJob.Result again = GenerateJob.generate(conf, cfg,
                    new GenerateJob.Options(List.of("warm sun 1"), null, false, false, 1, 0, 1, 0));
            assertThat(again.generations().get(0).tokens()).isEqualTo(1);
            assertThat(again.generations().get(0).ids()).containsExactly(argmax);
            assertThat(g.generations().get(0).ids().get(0)).isEqualTo(argmax);
        }
        GenerateJob.Result smallOnly = GenerateJob.generate(conf, cfg,
                new GenerateJob.Options(List.of("warm sun 1"), null, false, true, 6, 0, 1, 0));
        assertThat(smallOnly.model()).contains("adapter on");
        GenerateJob.Result base = GenerateJob.generate(conf, cfg,
                new GenerateJob.Options(List.of("warm sun 1"), null, true, false, 6, 0, 1, 0));
        assertThat(base.model()).startsWith("base base model");
        // sampling is deterministic by seed
        GenerateJob.Options sampled = new GenerateJob.Options(List.of("warm sun 1"), null, false, false, 6, 1.0, 0.9, 5);
        assertThat(GenerateJob.generate(conf, cfg, sampled).generations())
                .isEqualTo(GenerateJob.generate(conf, cfg, sampled).generations());
    }

    /** {@code understudy evaluate} on a FedPT run reports the small model and the proxy as the last round did. */
    static void assertEvaluateMatchesTheLastRound(FederatedJob.JobResult run, JobConfig cfg) throws Exception {
        var last = run.rounds().get(run.rounds().size() - 1);
        EvaluateJob.Report r = EvaluateJob.evaluate(spark, cfg, null, false);
        assertThat(r.loss()).isCloseTo(last.evalLoss(), within(1e-6));
        assertThat(r.proxy()).isNotNull();
        assertThat(r.proxy().loss()).isCloseTo(last.methodMetrics().get("proxy_eval_loss"), within(1e-6));
        assertThat(r.proxy().accuracy()).isCloseTo(last.methodMetrics().get("proxy_accuracy"), within(1e-9));
        assertThat(r.proxy().examples()).isEqualTo(r.examples());
    }

    @Test
    void modelsThatDoNotShareAVocabularyAreRejected() throws Exception {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>", "<|x|>", "<|y|>"));
        Path other = tmp.resolve("other-large");
        HfModels.createRandom(ModelConfig.llama(spec.vocabSize(), 32, 1, 4, 2, 64, 128), 5, spec, other);
        assertThatThrownBy(() -> FederatedJob.run(spark, config("fedpt-vocab", "method_params.large=" + other.toUri()),
                false)).hasMessageContaining("share one tokenizer").hasMessageContaining("method_params.large");
    }
}
