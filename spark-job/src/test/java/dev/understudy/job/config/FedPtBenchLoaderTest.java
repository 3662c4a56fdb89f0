package dev.understudy.job.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped {@code bench fedpt} configurations and the bench section's validation. */
class FedPtBenchLoaderTest {
    static final Path CONF = Path.of("..", "conf");
    static final List<String> RUN = List.of("data.path=file:///d/clients", "model.base=file:///m/small",
            "output.dir=file:///o/run", "method=fedavg_lora", "method_params={}");

    @TempDir
    Path tmp;

    static FedPtBenchLoader load(String example, String... sets) {
        return new FedPtBenchLoader(CONF.resolve("defaults.yaml"), List.of(CONF.resolve("examples").resolve(example)),
                List.of(sets));
    }

    @Test
    void sentimentExampleIsTheQuickstartSetting() {
        FedPtBenchLoader l = load("fedpt-sentiment.yaml");
        FedPtBenchConfig b = l.bench();
        assertThat(b.dataset()).isEqualTo("uci-sentiment");
        assertThat(b.splitColumns()).containsExactly("text", "domain");
        assertThat(b.alphas()).containsExactly(0.5, 1.0, 1.5);
        assertThat(b.gapTarget()).isEqualTo(0.7);
        assertThat(b.centralLr()).isEqualTo(0.001); // the pooled client needs a smaller step than the clients'
        assertThat(b.runs("central_large")).isTrue();
        JobConfig job = l.job(RUN);
        JobConfig quickstart = ConfigLoader.load(CONF.resolve("defaults.yaml"), List.of(CONF.resolve("quickstart.yaml")),
                RUN);
        // the comparison runs the quickstart's federated setting
        assertThat(job.partitioning()).isEqualTo(quickstart.partitioning());
        assertThat(job.client()).isEqualTo(quickstart.client());
        assertThat(job.server()).isEqualTo(quickstart.server());
        assertThat(job.model()).isEqualTo(quickstart.model());
        assertThat(job.data()).isEqualTo(quickstart.data());
        assertThat(job.seed()).isEqualTo(quickstart.seed());
        assertThat(job.partitioning().partitioner().parameters()).containsEntry("num_clients", 10);
        assertThat(job.server().rounds() % job.server().evalEvery()).isZero();
        assertThat(job.methodParams()).isEmpty();
        JobConfig fedpt = l.job(List.of("data.path=file:///d/clients", "model.base=file:///m/small",
                "output.dir=file:///o/fedpt", "method=fedpt", "method_params.large=file:///m/large",
                "method_params.kd_data=file:///d/server"));
        assertThat(fedpt.methodParams()).containsEntry("alpha", 1.0).containsEntry("kd_steps", 20)
                .containsEntry("large", "file:///m/large");
    }

    @Test
    void glossesExampleIsInstructionDataWithASampleAndCappedGeneration() {
        FedPtBenchLoader l = load("fedpt-glosses.yaml");
        FedPtBenchConfig b = l.bench();
        assertThat(b.dataset()).isEqualTo("wordnet-glosses");
        assertThat(b.where()).isEqualTo("source = 'gloss'");
        assertThat(b.sampleRows()).isPositive();
        assertThat(b.evalRows()).isEqualTo(200);
        assertThat(b.maxNewTokens()).isEqualTo(32);
        assertThat(b.splitColumns()).containsExactly("synset_id");
        JobConfig job = l.job(RUN);
        assertThat(job.data().kind()).isEqualTo(DataConfig.Kind.INSTRUCTION);
        assertThat(job.partitioning().partitioner().parameters()).containsEntry("num_clients", 10)
                .containsEntry("group_column", "pos");
        assertThat(job.server().rounds() % job.server().evalEvery()).isZero();
    }

    @Test
    void userOverridesApplyBelowTheRunsOwnSettings() {
        FedPtBenchLoader l = load("fedpt-sentiment.yaml", "server.rounds=2", "bench.eval_rows=50", "bench.alphas=[0, 2]",
                "method=fedpt");
        assertThat(l.bench().evalRows()).isEqualTo(50);
        assertThat(l.bench().alphas()).containsExactly(0.0, 2.0);
        JobConfig job = l.job(RUN);
        assertThat(job.server().rounds()).isEqualTo(2);
        assertThat(job.method()).isEqualTo("fedavg_lora"); // the run decides its method
        assertThat(load("fedpt-sentiment.yaml", "bench.alphas=0.5,1").bench().alphas()).containsExactly(0.5, 1.0);
    }

    @Test
    void badBenchKeysAndValuesNameTheKeyAndWhereItWasSet() throws Exception {
        assertThatThrownBy(() -> load("fedpt-sentiment.yaml", "bench.eval_row=5"))
                .hasMessageContaining("Unknown config key 'bench.eval_row'").hasMessageContaining("bench.eval_rows")
                .hasMessageContaining("--set bench.eval_row=5");
        assertThatThrownBy(() -> load("fedpt-sentiment.yaml", "bench.alphas=[1, x]"))
                .hasMessageContaining("bench.alphas").hasMessageContaining("a list of numbers");
        assertThatThrownBy(() -> load("fedpt-sentiment.yaml", "bench.alphas=[-1]"))
                .hasMessageContaining("bench.alphas").hasMessageContaining("≥ 0");
        assertThatThrownBy(() -> load("fedpt-sentiment.yaml", "bench.skip=[fedpt_large]"))
                .hasMessageContaining("bench.skip").hasMessageContaining("fedavg_large");
        assertThatThrownBy(() -> load("fedpt-sentiment.yaml", "bench.central_lr=-0.1"))
                .hasMessageContaining("bench.central_lr").hasMessageContaining("≥ 0");
        assertThatThrownBy(() -> load("fedpt-sentiment.yaml", "bench.server_percent=80"))
                .hasMessageContaining("bench.server_percent").hasMessageContaining("--set bench.server_percent=80");
        Path conf = tmp.resolve("c.yaml");
        Files.writeString(conf, "bench:\n  small: large\n");
        assertThatThrownBy(() -> new FedPtBenchLoader(null, List.of(conf), List.of()))
                .hasMessageContaining("bench.dataset");
        Files.writeString(conf, "bench:\n  dataset: x\n  small: large\n");
        assertThatThrownBy(() -> new FedPtBenchLoader(null, List.of(conf), List.of()))
                .hasMessageContaining("bench.large").hasMessageContaining("bench.small");
        // plain text has no metric the comparison could report
        Files.writeString(conf, "data:\n  kind: text\nbench:\n  dataset: x\n");
        assertThatThrownBy(() -> new FedPtBenchLoader(null, List.of(conf), List.of()))
                .hasMessageContaining("Cannot set data.kind to text (from " + conf).hasMessageContaining("classification");
        Files.writeString(conf, "bench:\n  dataset: x\n");
        assertThatThrownBy(() -> new FedPtBenchLoader(null, List.of(conf), List.of()))
                .hasMessageContaining("Cannot set data.kind to text for bench fedpt (text is the default)");
        assertThatThrownBy(() -> load("fedpt-sentiment.yaml", "data.kind=text"))
                .hasMessageContaining("data.kind").hasMessageContaining("--set data.kind=text");
        // the job keys are still checked
        assertThatThrownBy(() -> load("fedpt-sentiment.yaml", "client.lrr=1")).hasMessageContaining("client.lr");
    }

    @Test
    void skippingFedPtSkipsTheAblationAndTheResolvedSectionReadsBack() {
        FedPtBenchConfig b = load("fedpt-sentiment.yaml", "bench.skip=[fedpt, central_large]").bench();
        assertThat(b.runs("fedpt")).isFalse();
        assertThat(b.runs("ablation")).isFalse();
        assertThat(b.runs("fedavg_large")).isTrue();
        assertThat(FedPtBenchLoader.toYaml(b)).contains("bench:").contains("skip: [fedpt, central_large]")
                .contains("gap_target: 0.7");
    }
}
