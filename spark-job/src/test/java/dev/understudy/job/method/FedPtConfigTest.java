package dev.understudy.job.method;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

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
}
