package dev.understudy.job.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonElement;
import dev.understudy.job.FederatedJob;
import dev.understudy.job.method.FedPt;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.pretrain.Digests;
import dev.understudy.ops.pretrain.ModelFamily;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench fedpt} end to end on tiny random models (a small and a large LLaMA sharing one
 * byte-level tokenizer, written as a model family): every run on one split, every row evaluated on
 * the same held-out rows, the report's arithmetic and the resource figures.
 */
class FedPtBenchmarkTest extends SparkTestBase {
    @TempDir
    static Path tmp;
    static Path family;

    @BeforeAll
    static void setUp() throws Exception {
        var spec = ByteLevelBpeTrainer.byteLevel(List.of("<|pad|>", "<|bos|>", "<|eos|>"));
        family = tmp.resolve("family");
        ModelConfig small = ModelConfig.llama(spec.vocabSize(), 32, 2, 4, 2, 64, 128);
        ModelConfig large = ModelConfig.llama(spec.vocabSize(), 64, 2, 4, 2, 128, 128);
        HfModels.createRandom(small, 3, spec, family.resolve("small"));
        HfModels.createRandom(large, 4, spec, family.resolve("large"));
        String sha = Digests.sha256Hex(Files.readAllBytes(family.resolve("small/tokenizer.json")));
        List<ModelFamily.Member> members = List.of(member("small", small, sha), member("large", large, sha));
        new ModelFamily("test", spec.vocabSize(), sha, sha, new ModelFamily.Corpus(sha, 1, 1, 0, 1, 1, 0, List.of()), 1,
                members, null).write(family);
    }

    static ModelFamily.Member member(String name, ModelConfig c, String sha) {
        return new ModelFamily.Member(name, name, c.vocabSize(), sha, 1, 1, c.hiddenSize(), c.numLayers(), 4, 2, 64, 128,
                1e-3, 1, 1, 1, 1, 5, Math.exp(5), 1);
    }

    static Path sentiment() {
        String[] good = {"lovely cake", "warm sun", "great song", "kind gift", "bright smile"};
        String[] bad = {"cold mud", "grey rain", "nasty bug", "thick dust", "damp fog"};
        SplittableRandom r = new SplittableRandom(11);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            boolean g = r.nextBoolean();
            rows.add(RowFactory.create((g ? good : bad)[r.nextInt(5)] + " " + i, g ? 1 : 0, i % 2 == 0 ? "a" : "b"));
        }
        StructType schema = new StructType().add("text", DataTypes.StringType).add("label", DataTypes.IntegerType)
                .add("domain", DataTypes.StringType);
        Path p = tmp.resolve("data-sentiment");
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(p.toString());
        return p;
    }

    static Path glosses() {
        String[] words = {"dog", "cat", "sun", "rain", "song", "gift", "mud", "bug"};
        String[] defs = {"a loyal animal", "a small animal", "the star we orbit", "water from the sky", "music with words",
            "something given", "wet earth", "a small insect"};
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 160; i++) {
            int w = i % words.length;
            rows.add(RowFactory.create("Define \"" + words[w] + "\" (" + i + ").", defs[w] + " " + (i % 3), "s" + i));
        }
        StructType schema = new StructType().add("prompt", DataTypes.StringType).add("response", DataTypes.StringType)
                .add("synset_id", DataTypes.StringType);
        Path p = tmp.resolve("data-glosses");
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(p.toString());
        return p;
    }

    static FedPtBenchmark.Result run(String name, String yaml, List<String> sets) throws Exception {
        return run(name, yaml, sets, false);
    }

    static FedPtBenchmark.Result run(String name, String yaml, List<String> sets, boolean reuse) throws Exception {
        Path conf = tmp.resolve(name + ".yaml");
        Files.writeString(conf, yaml, StandardCharsets.UTF_8);
        FedPtBenchmark.Options o = new FedPtBenchmark.Options(tmp.resolve(name), null, List.of(conf), sets, family, null,
                tmp.resolve("cache"), reuse, "understudy bench fedpt --conf " + conf,
                new PrintStream(new ByteArrayOutputStream()));
        return FedPtBenchmark.run(spark, o);
    }

    static final String COMMON = """
            partitioning: {type: dirichlet, num_clients: 4, alpha: 1.0, min_size: 5, eval_fraction: 0.2}
            model: {lora: {rank: 4, alpha: 8, dropout: 0.0, target_modules: [q_proj, v_proj]}}
            client: {local_steps: 3, batch_size: 4, lr: 0.02}
            server: {rounds: 2, eval_every: 1}
            method_params: {alpha: 1.0, kd_steps: 3, kd_batch_size: 8, kd_lr: 0.005}
            seed: 7
            """;

    @Test
    void sentimentComparisonEvaluatesEveryRowOnTheRunsOwnHeldOutRows() throws Exception {
        String yaml = """
                data: {kind: classification, template: "{text} is", label_words: {0: " bad", 1: " good"}, max_length: 32}
                """ + COMMON + """
                bench: {dataset: uci-sentiment, data: '%s', split_columns: [text, domain], alphas: [0.0, 0.5]}
                """.formatted(sentiment().toUri());
        // FedPT with the variant expert, so that the proxy row below checks proxyExpert against the run's own figures
        FedPtBenchmark.Result res = run("sentiment", yaml, List.of("method_params.expert=client_updates",
                "bench.central_lr=0.0123"));
        FedPtReport r = res.report();
        float[] offset = res.runs().get("fedpt").methodState().get(FedPt.EXPERT_OFFSET);
        assertThat(offset).isNotNull();
        double offsetNorm = 0;
        for (float v : offset) {
            offsetNorm += v * v;
        }
        assertThat(offsetNorm).as("distillation moved the adapter, so the expert is not the final adapter").isPositive();
        assertThat(r.row("fedpt_proxy").training()).isEqualTo("FedPT: proxy-tuned large (α=1.00, expert = client updates)");
        assertThat(r.setup().get("FedPT")).startsWith("α=1.0, expert=client_updates, ");
        assertThat(r.metricName()).isEqualTo("accuracy");
        assertThat(r.rows()).extracting(FedPtReport.Row::id).containsExactly("large_base", "small_base", "fedavg_small",
                "fedpt_small", "fedpt_proxy", "proxy_fedavg_small", "fedavg_large", "central_large");
        long heldOut = res.runs().get("fedavg-small").heldOutRows(); // rows of the global hold-out (none here)
        assertThat(heldOut).isZero();
        long examples = r.rows().get(0).examples();
        assertThat(examples).isPositive();
        assertThat(r.rows()).allSatisfy(row -> {
            assertThat(row.examples()).isEqualTo(examples);
            assertThat(row.metric()).isBetween(0.0, 1.0);
            assertThat(row.loss()).isPositive();
        });
        // every tuned row is evaluated on the rows the run evaluated itself (its last round)
        for (FedPtReport.Row row : r.rows().subList(2, r.rows().size())) {
            if (row.id().equals("proxy_fedavg_small")) {
                continue; // no run of its own
            }
            assertThat(row.metric()).as(row.id()).isCloseTo(row.runMetric(), within(1e-9));
            assertThat(row.loss()).as(row.id()).isCloseTo(row.runLoss(), within(1e-6));
        }
        // the same split for every run; the centralised one pools it into one client
        FederatedJob.JobResult fedavgLarge = res.runs().get("fedavg-large");
        FederatedJob.JobResult central = res.runs().get("central-large");
        assertThat(res.runs().get("fedpt").trainRows()).isEqualTo(fedavgLarge.trainRows());
        assertThat(central.clients()).isEqualTo(1);
        assertThat(central.trainRows()).isEqualTo(fedavgLarge.trainRows());
        assertThat(tmp.resolve("sentiment/runs/central-large/config.yaml")).content().contains("local_steps: "
                + 3 * fedavgLarge.clients()).contains("lr: 0.0123");
        assertThat(tmp.resolve("sentiment/runs/fedavg-large/config.yaml")).content().doesNotContain("lr: 0.0123");
        assertThat(fedavgLarge.rounds()).allSatisfy(m -> assertThat(m.sampled()).isEqualTo(fedavgLarge.clients()));

        // the gap in results.json, by hand from the table's rows (undefined when FedAvg-large ties the base)
        double base = r.row("large_base").loss();
        double proxy = r.row("fedpt_proxy").loss();
        double target = r.row("fedavg_large").loss();
        JsonObject gap = JsonParser.parseString(Files.readString(res.json())).getAsJsonObject()
                .getAsJsonObject("gap_closed");
        assertThat(target).isNotEqualTo(base);
        assertThat(gap.get("eval_loss").getAsDouble()).isCloseTo((proxy - base) / (target - base), within(1e-12));
        assertThat(gap.get("eval_loss_reached").getAsBoolean()).isEqualTo((proxy - base) / (target - base) >= 0.7 - 1e-9);
        double accBase = r.row("large_base").metric();
        double accTarget = r.row("fedavg_large").metric();
        JsonElement reached = gap.get("metric_reached");
        if (accTarget == accBase) {
            assertThat(reached.isJsonNull()).isTrue();
        } else {
            double closed = (r.row("fedpt_proxy").metric() - accBase) / (accTarget - accBase);
            assertThat(gap.get("metric").getAsDouble()).isCloseTo(closed, within(1e-12));
            assertThat(reached.getAsBoolean()).isEqualTo(closed >= 0.7 - 1e-9);
        }
        // the ablation's α values (neither is the main run's α = 1, so every figure is evaluated afresh):
        // α = 0 is the large base itself, with either adapter; α = 0.5 is neither the base nor the main proxy
        assertThat(r.ablation()).extracting(FedPtReport.AblationRow::alpha).containsExactly(0.0, 0.5);
        FedPtReport.AblationRow a0 = r.ablation().get(0);
        assertThat(a0.evalOnly().loss()).isCloseTo(r.row("large_base").loss(), within(1e-5));
        assertThat(a0.evalOnly().metric()).isEqualTo(r.row("large_base").metric());
        assertThat(a0.noKd().loss()).isCloseTo(r.row("large_base").loss(), within(1e-5));
        FedPtReport.AblationRow half = r.ablation().get(1);
        assertThat(half.evalOnly().loss()).isNotCloseTo(r.row("large_base").loss(), within(1e-4))
                .isNotCloseTo(r.row("fedpt_proxy").loss(), within(1e-4));
        assertThat(half.noKd().loss()).isNotCloseTo(r.row("proxy_fedavg_small").loss(), within(1e-4));

        // bytes: 4 bytes per adapter float each way
        FedPtReport.Traffic fedpt = r.traffic("fedpt");
        FedPtReport.Traffic large = r.traffic("fedavg_large");
        assertThat(fedpt.downPerClient()).isEqualTo(4.0 * fedpt.adapterParams());
        assertThat(fedpt.upPerClient()).isEqualTo(4.0 * fedpt.adapterParams());
        assertThat(large.upPerClient()).isEqualTo(4.0 * large.adapterParams());
        assertThat(r.ratios().get("bytes_up_per_client"))
                .isCloseTo((double) fedpt.adapterParams() / large.adapterParams(), within(1e-12));
        // memory: both probes ran; the large client holds more tensor state
        MemoryProbe.Result ms = r.memory("fedpt").result();
        MemoryProbe.Result ml = r.memory("fedavg_large").result();
        assertThat(ms.peakRss()).isPositive();
        // (the native-heap figure is not asserted here: on these tiny models training adds less native
        // memory than the JVM's own malloc traffic moves; MemoryProbeTest checks the measurement itself)
        assertThat(ms.steps()).isEqualTo(3);
        assertThat(ml.tensorStateBytes()).isGreaterThan(ms.tensorStateBytes());
        assertThat(ml.adapterParams()).isEqualTo(large.adapterParams());

        JsonObject json = JsonParser.parseString(Files.readString(res.json())).getAsJsonObject();
        assertThat(json.getAsJsonArray("rows")).hasSize(8);
        assertThat(json.get("command").getAsString()).startsWith("understudy bench fedpt --conf");
        assertThat(Files.readString(res.markdown())).contains("gap closed (accuracy)").contains("### α ablation")
                .contains("seed: 7").contains("- FedPT: α=1.0, expert=client_updates, ");
        assertThat(tmp.resolve("sentiment/bench.yaml")).content().contains("alphas: [0.0, 0.5]");
    }

    @Test
    void glossesComparisonGeneratesAndScoresWithRougeL() throws Exception {
        String yaml = """
                data: {kind: instruction, max_length: 64}
                """ + COMMON + """
                bench: {dataset: wordnet-glosses, data: '%s', split_columns: [synset_id], eval_rows: 12,
                        max_new_tokens: 4, alphas: [0.0, 1.0], memory_probe: false, skip: [fedavg_small, central_large]}
                """.formatted(glosses().toUri());
        FedPtReport r = run("glosses", yaml, List.of()).report();
        assertThat(r.metricName()).isEqualTo("ROUGE-L");
        assertThat(r.rows()).extracting(FedPtReport.Row::id).containsExactly("large_base", "small_base", "fedpt_small",
                "fedpt_proxy", "fedavg_large");
        assertThat(r.rows()).allSatisfy(row -> {
            assertThat(row.examples()).isEqualTo(12);
            assertThat(row.metric()).isBetween(0.0, 1.0);
            assertThat(row.loss()).isPositive();
        });
        // α = 0: the proxy generates exactly what the large base generates
        assertThat(r.ablation().get(0).evalOnly().metric()).isEqualTo(r.row("large_base").metric());
        assertThat(r.ablation().get(0).evalOnly().loss()).isCloseTo(r.row("large_base").loss(), within(1e-5));
        assertThat(r.samples()).containsKeys("large_base", "fedpt_proxy");
        assertThat(r.samples().get("large_base").get(0)[0]).startsWith("Define \"");
        assertThat(r.memory()).isEmpty();
        assertThat(r.ratios().get("bytes_up_per_client")).isBetween(0.0, 1.0);

        // --reuse: the runs are found complete and resumed, not retrained; the table is the same
        FedPtBenchmark.Result again = run("glosses", yaml, List.of(), true);
        assertThat(again.runs().values()).allSatisfy(x -> assertThat(x.resumedFrom()).isEqualTo(2));
        assertThat(again.report().rows()).isEqualTo(r.rows());
        // ... but not when the data split would differ: the runs' configurations name the same data paths
        assertThat(tmp.resolve("glosses/data/split.json")).content().contains("\"bench.sample_rows\": \"0\"");
        assertThatThrownBy(() -> run("glosses", yaml, List.of("bench.sample_rows=100", "bench.server_percent=20"), true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bench.sample_rows 0 -> 100; bench.server_percent 10 -> 20")
                .hasMessageContaining("Drop --reuse").hasMessageContaining("another --out");
    }

    @Test
    void theFixedSampleIsTheSameRowsWhateverTheInputOrder() throws Exception {
        // 40 rows with the same split column tie on the sample's hash: the other columns decide
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            rows.add(RowFactory.create("same", i));
        }
        StructType schema = new StructType().add("key", DataTypes.StringType).add("i", DataTypes.IntegerType);
        List<Row> reversed = new ArrayList<>(rows);
        Collections.reverse(reversed);
        Dataset<Row> forward = spark.createDataFrame(rows, schema);
        Dataset<Row> backward = spark.createDataFrame(reversed, schema).repartition(3);
        List<Integer> first = ids(FedPtBenchmark.sample(spark, forward, List.of("key"), 10, tmp.resolve("sample-a")));
        List<Integer> again = ids(FedPtBenchmark.sample(spark, forward, List.of("key"), 10, tmp.resolve("sample-b")));
        List<Integer> other = ids(FedPtBenchmark.sample(spark, backward, List.of("key"), 10, tmp.resolve("sample-c")));
        assertThat(first).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(again).isEqualTo(first);
        assertThat(other).isEqualTo(first);
        assertThat(tmp.resolve("sample-a/_SUCCESS")).exists(); // materialised once
        assertThat(FedPtBenchmark.sample(spark, forward, List.of("key"), 0, tmp.resolve("sample-d")).count()).isEqualTo(40);
    }

    static List<Integer> ids(Dataset<Row> rows) {
        List<Integer> out = new ArrayList<>(rows.collectAsList().stream().map(x -> x.getInt(1)).toList());
        out.sort(Comparator.naturalOrder());
        return out;
    }
}
