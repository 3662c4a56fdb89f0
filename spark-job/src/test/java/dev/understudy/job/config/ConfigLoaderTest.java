package dev.understudy.job.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.train.LrSchedule;
import dev.understudy.partition.DirichletConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    static final String MINIMAL = """
            data:
              path: file:///tmp/understudy/train.parquet
            partitioning:
              type: iid
              num_clients: 4
            model:
              base: file:///tmp/understudy/model
            output:
              dir: file:///tmp/understudy/run
            """;

    @TempDir
    Path dir;

    static Path write(Path dir, String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private JobConfig load(List<String> sets, String... confs) throws IOException {
        List<Path> files = new java.util.ArrayList<>();
        files.add(write(dir, "minimal.yaml", MINIMAL));
        for (int i = 0; i < confs.length; i++) {
            files.add(write(dir, "conf" + i + ".yaml", confs[i]));
        }
        return ConfigLoader.load(null, files, sets);
    }

    private JobConfig load(String... sets) throws IOException {
        return load(List.of(sets));
    }

    @Test
    void recordDefaultsFillEverythingNotSet() throws IOException {
        JobConfig c = load();
        assertThat(c.data().format()).isEqualTo(DataConfig.Format.PARQUET);
        assertThat(c.data().kind()).isEqualTo(DataConfig.Kind.TEXT);
        assertThat(c.model().lora()).isEqualTo(new LoraConfig(8, 16, 0.05, List.of("q_proj", "v_proj")));
        assertThat(c.client().localSteps()).isEqualTo(10);
        assertThat(c.client().schedule()).isEqualTo(LrSchedule.Kind.COSINE);
        assertThat(c.client().lr()).isEqualTo(2e-4);
        assertThat(c.server().strategy()).isEqualTo("fedavg");
        assertThat(c.seed()).isEqualTo(42);
        assertThat(c.partitioning().seed()).as("partitioning.seed defaults to seed").isEqualTo(42);
        assertThat(c.method()).isEqualTo("fedavg_lora");
    }

    @Test
    void precedenceIsRecordDefaultsThenDefaultsFileThenConfFilesThenSets() throws IOException {
        Path defaults = write(dir, "defaults.yaml", """
                client: {batch_size: 16, lr: 0.001, grad_accum_steps: 2}
                server: {rounds: 5, fraction: 0.5, min_clients: 2}
                """);
        Path conf1 = write(dir, "a.yaml", MINIMAL + "client: {lr: 0.002, grad_accum_steps: 3}\nserver: {rounds: 6, fraction: 0.25}\n");
        Path conf2 = write(dir, "b.yaml", "server: {rounds: 7}\nclient: {grad_accum_steps: 4}\n");
        JobConfig c = ConfigLoader.load(defaults, List.of(conf1, conf2),
                List.of("server.rounds=8", "server.rounds=9", "client.grad_accum_steps=5"));
        assertThat(c.client().weightDecay()).as("record default").isEqualTo(0.0);
        assertThat(c.client().batchSize()).as("defaults.yaml").isEqualTo(16);
        assertThat(c.server().minClients()).as("defaults.yaml").isEqualTo(2);
        assertThat(c.client().lr()).as("first --conf over defaults.yaml").isEqualTo(0.002);
        assertThat(c.server().fraction()).as("first --conf").isEqualTo(0.25);
        assertThat(c.server().rounds()).as("last --set").isEqualTo(9);
        assertThat(c.client().gradAccumSteps()).as("--set over second --conf").isEqualTo(5);

        JobConfig withoutSets = ConfigLoader.load(defaults, List.of(conf1, conf2), List.of());
        assertThat(withoutSets.server().rounds()).as("second --conf over first").isEqualTo(7);
        assertThat(withoutSets.client().gradAccumSteps()).isEqualTo(4);
    }

    @Test
    void unknownTopLevelKeySuggestsTheNearestKey() throws IOException {
        assertThatThrownBy(() -> load(List.of(), "seeed: 3\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("Unknown config key 'seeed' (from ")
                .hasMessageContaining("conf0.yaml line 1")
                .hasMessageContaining("did you mean 'seed'?")
                .hasMessageContaining("Valid top-level keys: data, partitioning, model, client, server, output, seed,"
                        + " method, method_params");
        assertThatThrownBy(() -> load("lr=0.1"))
                .hasMessageContaining("Unknown config key 'lr' (from --set lr=0.1); did you mean 'client.lr'?");
    }

    @Test
    void unknownNestedKeyNamesFileAndSuggestsSibling() throws IOException {
        assertThatThrownBy(() -> load(List.of(), "client:\n  batch_size: 4\n  learning_rate: 0.1\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("Unknown config key 'client.learning_rate' (from ")
                .hasMessageContaining("conf0.yaml line 3); did you mean 'client.lr'? Valid keys in 'client': local_steps,"
                        + " local_epochs, batch_size");
        assertThatThrownBy(() -> load("model.lora.ranks=4"))
                .hasMessage("Unknown config key 'model.lora.ranks' (from --set model.lora.ranks=4); did you mean"
                        + " 'model.lora.rank'? Valid keys in 'model.lora': rank, alpha, dropout, target_modules");
    }

    @Test
    void freeFormMapsAcceptAnyKey() throws IOException {
        JobConfig c = load("server.strategy_params.server_lr=0.5", "server.strategy_params.nested.beta=[1, 2]",
                "method_params={anything: true}", "partitioning.eval_fraction=0.2");
        assertThat(c.server().strategyParams()).isEqualTo(Map.of("server_lr", 0.5, "nested", Map.of("beta", List.of(1, 2))));
        assertThat(c.methodParams()).isEqualTo(Map.of("anything", true));
        assertThat(c.partitioning().evalFraction()).isEqualTo(0.2);
    }

    @Test
    void typeErrorsNameKeyValueOriginAndExpectedType() throws IOException {
        assertThatThrownBy(() -> load("client.batch_size=abc"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("Cannot set client.batch_size to 'abc' (from --set client.batch_size=abc): expected an integer");
        assertThatThrownBy(() -> load("client.batch_size=2.5")).hasMessageContaining("expected an integer");
        assertThatThrownBy(() -> load(List.of(), "client:\n  lr: [1]\n"))
                .hasMessageContaining("Cannot set client.lr to a list [1] (from ")
                .hasMessageContaining("conf0.yaml line 2): expected a number");
        assertThatThrownBy(() -> load("server.accept_failures=maybe")).hasMessageContaining("expected true or false");
        assertThatThrownBy(() -> load("data.kind=regression"))
                .hasMessageContaining("Cannot set data.kind to 'regression'")
                .hasMessageContaining("expected one of text, instruction, classification");
        assertThatThrownBy(() -> load("data.text_column=true")).hasMessageContaining("expected a string");
        assertThatThrownBy(() -> load("client=3"))
                .hasMessageContaining("Cannot set client to 3 (from --set client=3): expected a section");
        assertThatThrownBy(() -> load("data.path.x=1")).hasMessageContaining("data.path is a value");
        assertThatThrownBy(() -> load("nokey")).hasMessageContaining("expected key=value");
    }

    @Test
    void invalidValuesNameFullKeyValueAndOrigin() throws IOException {
        assertThatThrownBy(() -> load("client.lr=-0.1"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("Cannot set client.lr to -0.1: the value must be positive (from --set client.lr=-0.1)");
        assertThatThrownBy(() -> load("model.lora.rank=0"))
                .hasMessageContaining("Cannot set model.lora.rank to 0")
                .hasMessageContaining("(from --set model.lora.rank=0)");
        assertThatThrownBy(() -> load("partitioning.num_clients=-1"))
                .hasMessageContaining("partitioning.num_clients")
                .hasMessageContaining("(from --set partitioning.num_clients=-1)");
        assertThatThrownBy(() -> load("output.dir=null"))
                .hasMessageContaining("Missing required key output.dir");
    }

    @Test
    void stringsAreAcceptedForNumbers() throws IOException {
        JobConfig c = load(List.of("client.batch_size='4'"), "client:\n  lr: 2e-4\n  warmup_steps: \"5\"\n");
        assertThat(c.client().lr()).isEqualTo(2e-4);
        assertThat(c.client().warmupSteps()).isEqualTo(5);
        assertThat(c.client().batchSize()).isEqualTo(4);
    }

    @Test
    void setParsesListsNullsAndPlainText() throws IOException {
        JobConfig c = load("model.lora.target_modules=[q_proj,k_proj, v_proj]", "data.template={text} Label:",
                "data.kind=classification", "data.label_words={0: neg, 1: \" pos\"}", "client.schedule=linear");
        assertThat(c.model().lora().targetModules()).containsExactly("q_proj", "k_proj", "v_proj");
        assertThat(c.data().template()).isEqualTo("{text} Label:");
        assertThat(c.data().labelWords()).isEqualTo(Map.of("0", "neg", "1", " pos"));
        assertThat(c.client().schedule()).isEqualTo(LrSchedule.Kind.LINEAR);
        assertThat(load("model.lora.target_modules=c_attn,c_proj").model().lora().targetModules())
                .containsExactly("c_attn", "c_proj");

        JobConfig reset = load(List.of("data.client_column=null"), "data: {client_column: user_id}\n");
        assertThat(reset.data().clientColumn()).isNull();
        assertThat(reset.usesPartitioner()).isTrue();
    }

    @Test
    void setNullOnAWholeSectionRestoresRecordDefaults() throws IOException {
        JobConfig c = load(List.of("client=null"), "client: {batch_size: 32}\n");
        assertThat(c.client().batchSize()).isEqualTo(8);
    }

    @Test
    void localStepsAndLocalEpochsAreMutuallyExclusive() throws IOException {
        assertThatThrownBy(() -> load(List.of(), "client: {local_steps: 5, local_epochs: 2}\n"))
                .hasMessageContaining("Cannot set client.local_epochs to 2: client.local_steps is also set (5)")
                .hasMessageContaining("conf0.yaml line 1");
        assertThatThrownBy(() -> load("client.local_steps=0"))
                .hasMessageContaining("Cannot set client.local_steps to 0")
                .hasMessageContaining("set exactly one of them > 0");
        JobConfig epochs = load(List.of(), "client: {local_epochs: 2}\n");
        assertThat(epochs.client().localEpochs()).isEqualTo(2);
        assertThat(epochs.client().localSteps()).as("the higher layer wins").isZero();
        JobConfig steps = load(List.of("client.local_steps=7"), "client: {local_epochs: 2}\n");
        assertThat(steps.client().localSteps()).isEqualTo(7);
        assertThat(steps.client().localEpochs()).isZero();
    }

    @Test
    void partitioningIsRequiredExactlyWhenClientColumnIsNull() throws IOException {
        assertThatThrownBy(() -> load("partitioning=null"))
                .hasMessageContaining("Missing partitioning section: data.client_column is null");
        JobConfig natural = load(List.of("partitioning=null"), "data: {client_column: user_id}\n");
        assertThat(natural.usesPartitioner()).isFalse();
        assertThat(natural.partitioning()).isNull();
        JobConfig both = load(List.of(), "data: {client_column: user_id}\n");
        assertThat(both.usesPartitioner()).as("partitioning is ignored").isFalse();
        assertThatThrownBy(() -> load("partitioning.alpha=0.3"))
                .hasMessageContaining("partitioning.alpha")
                .hasMessageContaining("(from --set partitioning.alpha=0.3)");
    }

    @Test
    void partitioningInheritsSeedAndClassificationLabelColumn() throws IOException {
        JobConfig c = load(List.of("seed=7", "data.kind=classification", "data.label_column=sentiment"),
                "partitioning: {type: dirichlet, num_clients: 3, alpha: 0.3}\n");
        assertThat(c.partitioning().partitioner()).isInstanceOf(DirichletConfig.class);
        assertThat(c.partitioning().seed()).isEqualTo(7);
        assertThat(c.partitioning().labelColumn()).isEqualTo("sentiment");
        assertThatThrownBy(() -> load("data.kind=classification", "partitioning.label_column=other"))
                .hasMessageContaining("Cannot set partitioning.label_column to 'other'");
    }

    @Test
    void formatIsInferredFromTheExtension() throws IOException {
        assertThat(load("data.path=s3a://b/train.jsonl.gz").data().format()).isEqualTo(DataConfig.Format.JSONL);
        assertThat(load("data.path=hdfs:///d/train.csv").data().format()).isEqualTo(DataConfig.Format.CSV);
        assertThat(load("data.path=hdfs:///d/train", "data.format=jsonl").data().format())
                .isEqualTo(DataConfig.Format.JSONL);
        assertThatThrownBy(() -> load("data.path=hdfs:///d/train"))
                .hasMessageContaining("cannot be inferred from data.path 'hdfs:///d/train'; set data.format");
    }

    @Test
    void resolvedYamlRoundTrips() throws IOException {
        JobConfig c = load(List.of("model.lora.target_modules=[c_attn]", "data.kind=classification",
                "data.label_words={0: \" negative\", 1: \"yes\", true: \"1.5\"}", "data.template=Review: {text}\\n\"Label\":",
                "data.eval_path=file:///tmp/eval.parquet", "server.strategy_params={server_lr: 1.0e-3, tags: [a, 'null', 3]}",
                "method_params.x=2e-4", "partitioning={type: size, num_clients: 5, distribution: log_normal, sigma: 2}",
                "client.local_epochs=1", "client.lr=3.0E-5", "seed=12345678901"));
        String yaml = ConfigLoader.toYaml(c);
        assertThat(ConfigLoader.fromYaml(yaml, "resolved.yaml")).isEqualTo(c);
        Path file = write(dir, "resolved.yaml", yaml);
        assertThat(ConfigLoader.load(null, List.of(file), List.of())).isEqualTo(c);
        assertThat(ConfigLoader.toYaml(ConfigLoader.load(null, List.of(file), List.of()))).isEqualTo(yaml);

        Map<String, Object> map = ConfigLoader.toMap(c);
        assertThat(map.keySet()).containsExactly("data", "partitioning", "model", "client", "server", "output", "seed",
                "method", "method_params", "privacy", "attack");
        assertThat(ConfigTree.cast(map.get("partitioning"))).containsEntry("eval_fraction", 0.1).containsEntry("seed", 12345678901L);
        assertThat(ConfigTree.cast(map.get("client"))).containsEntry("local_steps", 0).containsEntry("schedule", "cosine");
    }

    @Test
    void unreadableFilesAreReported() throws IOException {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("missing.yaml"), List.of(), List.of()))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("missing.yaml: no such file");
        Path list = write(dir, "list.yaml", "- a\n- b\n");
        assertThatThrownBy(() -> ConfigLoader.load(null, List.of(list), List.of()))
                .hasMessageContaining("the top level must be a map");
        Path dup = write(dir, "dup.yaml", "seed: 1\nseed: 2\n");
        assertThatThrownBy(() -> ConfigLoader.load(null, List.of(dup), List.of()))
                .hasMessageContaining("Cannot parse config file").hasMessageContaining("duplicate");
    }
}
