package dev.understudy.job.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code privacy} and {@code attack} sections: YAML, --set, unknown keys and bad values. */
class PrivacyConfigTest {
    @TempDir
    Path dir;

    JobConfig load(String extra, String... sets) throws Exception {
        Path conf = ConfigLoaderTest.write(dir, "run.yaml", ConfigLoaderTest.MINIMAL + extra);
        return ConfigLoader.load(null, List.of(conf), List.of(sets));
    }

    @Test
    void offByDefault() throws Exception {
        JobConfig c = load("");
        assertThat(c.privacy().enabled()).isFalse();
        assertThat(c.attack().active()).isFalse();
    }

    @Test
    void yamlThenSetOverrides() throws Exception {
        JobConfig c = load("privacy:\n  enabled: true\n  clip_norm: 0.5\n  noise_multiplier: 1.2\n",
                "privacy.noise_multiplier=0.8", "privacy.epsilon_budget=8", "attack={kind: sign_flip, fraction: 0.3}");
        assertThat(c.privacy()).isEqualTo(new PrivacyConfig(true, 0.5, 0.8, 1e-5, 8, 0, 0.2, 0));
        assertThat(c.attack()).isEqualTo(new AttackConfig("sign_flip", 0.3, 1.0, 0));
        // the resolved config round-trips
        assertThat(ConfigLoader.toYaml(c)).contains("privacy:").contains("noise_multiplier: 0.8");
    }

    @Test
    void unknownKeysAndBadValuesAreRejectedByName() {
        assertThatThrownBy(() -> load("privacy:\n  noise: 1.0\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("Unknown config key 'privacy.noise'")
                .hasMessageContaining("noise_multiplier");
        assertThatThrownBy(() -> load("", "privacy.delta=1.5")).hasMessageContaining("privacy.delta")
                .hasMessageContaining("in (0, 1)");
        assertThatThrownBy(() -> load("", "privacy.noise_multiplier=0", "privacy.epsilon_budget=3"))
                .hasMessageContaining("privacy.epsilon_budget");
        assertThatThrownBy(() -> load("", "attack.kind=flip")).hasMessageContaining("attack.kind")
                .hasMessageContaining("sign_flip");
        assertThatThrownBy(() -> load("", "attack.fraction=0.2")).hasMessageContaining("attack.fraction")
                .hasMessageContaining("attack.kind is none");
    }
}
