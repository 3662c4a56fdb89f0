package dev.understudy.job.method;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.job.config.ConfigException;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FedPtConfigTest {
    @Test
    void defaultsFollowTheProjectChoicesOfMethodsMd() {
        FedPtConfig c = FedPtConfig.parse(Map.of("large", "file:///m/large", "kd_data", "file:///kd.parquet"));
        assertThat(c.alpha()).isEqualTo(1.0);
        assertThat(c.temperature()).isEqualTo(1.0);
        assertThat(c.ceWeight()).isEqualTo(0.0);
        assertThat(c.kdLr()).isEqualTo(0.0); // = client.lr
        assertThat(c.distill()).isTrue();
        assertThat(c.expert()).isEqualTo(FedPtConfig.Expert.AGGREGATE);
    }

    @Test
    void theExpertIsAggregateOrClientUpdates() {
        assertThat(FedPtConfig.parse(Map.of("large", "x", "kd_data", "y", "expert", "client_updates")).expert())
                .isEqualTo(FedPtConfig.Expert.CLIENT_UPDATES);
        assertThatThrownBy(() -> FedPtConfig.parse(Map.of("large", "x", "kd_data", "y", "expert", "distilled")))
                .hasMessageContaining("method_params.expert").hasMessageContaining("client_updates");
    }

    @Test
    void unknownKeysSuggestTheNearestAndBadValuesNameTheKey() {
        assertThatThrownBy(() -> FedPtConfig.parse(Map.of("large", "x", "kd_data", "y", "alpah", 1)))
                .hasMessageContaining("method_params.alpah").hasMessageContaining("method_params.alpha");
        assertThatThrownBy(() -> FedPtConfig.parse(Map.of("large", "x", "kd_data", "y", "temperature", 0)))
                .hasMessageContaining("method_params.temperature");
        assertThatThrownBy(() -> FedPtConfig.parse(Map.of("large", "x")))
                .hasMessageContaining("method_params.kd_data");
        assertThat(FedPtConfig.parse(Map.of("large", "x", "distill", "false")).distill()).isFalse();
        assertThatThrownBy(() -> FedPtConfig.parse(Map.of("large", "x", "distill", "maybe")))
                .hasMessageContaining("true or false");
    }

    // ---- method_params bound when the job's configuration is loaded (config.MethodParams) ----

    private static final String JOB = """
            data:
              path: file:///tmp/understudy/train.parquet
            partitioning:
              type: iid
              num_clients: 4
            model:
              base: file:///tmp/understudy/model
            output:
              dir: file:///tmp/understudy/run
            method: fedpt
            method_params:
              large: file:///tmp/understudy/large
              kd_data: file:///tmp/understudy/kd.parquet
            """;

    @TempDir
    Path dir;

    private JobConfig load(String extra, String... sets) throws IOException {
        Path f = Files.writeString(dir.resolve("job.yaml"), JOB + extra);
        return ConfigLoader.load(null, List.of(f), List.of(sets));
    }

    @Test
    void aTypoInTheFileNamesTheKeyItsLineAndTheNearestKey() {
        assertThatThrownBy(() -> load("  alpah: 2\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("Unknown config key 'method_params.alpah'")
                .hasMessageContaining("job.yaml line 14")
                .hasMessageContaining("did you mean 'method_params.alpha'")
                .hasMessageContaining("kd_max_examples");
    }

    @Test
    void aBadValueNamesTheKeyAndWhereItCameFrom() {
        assertThatThrownBy(() -> load("  kd_steps: 0\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("method_params.kd_steps").hasMessageContaining("≥ 1")
                .hasMessageContaining("job.yaml line 14");
        assertThatThrownBy(() -> load("", "method_params.kd_batch_size=many")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("Cannot set method_params.kd_batch_size to 'many'")
                .hasMessageContaining("--set method_params.kd_batch_size=many").hasMessageContaining("an integer");
        assertThatThrownBy(() -> load("  expert: distilled\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("method_params.expert").hasMessageContaining("client_updates")
                .hasMessageContaining("job.yaml line 14");
    }

    @Test
    void theLoadedParametersBindAsParseBindsThem() throws IOException {
        JobConfig c = load("  alpha: 0.5\n  expert: client_updates\n", "method_params.kd_steps=7");
        FedPtConfig p = FedPtConfig.parse(c.methodParams());
        assertThat(p).isEqualTo(new FedPtConfig("file:///tmp/understudy/large", 0.5, 1.0, 0.0, 7, 0.0, 8,
                "file:///tmp/understudy/kd.parquet", 0, true, FedPtConfig.Expert.CLIENT_UPDATES));
        // the resolved config (written next to every round) reads back to the same parameters
        JobConfig again = ConfigLoader.fromYaml(ConfigLoader.toYaml(c), "config.yaml");
        assertThat(FedPtConfig.parse(again.methodParams())).isEqualTo(p);
    }
}
