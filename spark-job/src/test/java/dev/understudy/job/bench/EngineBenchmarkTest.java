package dev.understudy.job.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark's pure helpers (the benchmark itself prints figures and is not a test). */
class EngineBenchmarkTest {
    @Test
    void jobsAreAttributedToTheirRoundAndPhaseByGroupAndDescription() {
        assertThat(RoundStageMetrics.classify("understudy-round-3", "round 3: local training (100 clients)"))
                .isEqualTo(new RoundStageMetrics.Key(3, "local training"));
        assertThat(RoundStageMetrics.classify("understudy-round-12", "round 12: partial sums (2 partitions)"))
                .isEqualTo(new RoundStageMetrics.Key(12, "partial sums"));
        assertThat(RoundStageMetrics.classify("understudy-round-1", "round 1: server step (fedavg-lora)"))
                .isEqualTo(new RoundStageMetrics.Key(1, "server step"));
        assertThat(RoundStageMetrics.classify("understudy-round-2", "round 2: evaluation"))
                .isEqualTo(new RoundStageMetrics.Key(2, "evaluation"));
        assertThat(RoundStageMetrics.classify("understudy-metrics", "metrics summary")).isNull();
        assertThat(RoundStageMetrics.classify("understudy-round-2", null)).isNull();
        assertThat(RoundStageMetrics.classify(null, "round 2: evaluation")).isNull();
    }

    @Test
    void overheadIsTheShareOfTheWallTimeLocalTrainingDoesNotExplain() {
        assertThat(EngineBenchmark.overhead(100.0, 96.0)).isCloseTo(0.04, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(EngineBenchmark.overhead(10.0, 10.0)).isEqualTo(0.0);
        assertThat(EngineBenchmark.overhead(0.0, 0.0)).isNaN();
    }

    @Test
    void calibrationRoundsTheStepsToTheTargetAndTakesAtLeastOne() {
        assertThat(EngineBenchmark.calibratedSteps(0.012, 2.0)).isEqualTo(167); // 166.67 → 167
        assertThat(EngineBenchmark.calibratedSteps(0.5, 2.0)).isEqualTo(4);
        assertThat(EngineBenchmark.calibratedSteps(5.0, 2.0)).isEqualTo(1);
        assertThatThrownBy(() -> EngineBenchmark.calibratedSteps(0.0, 2.0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void optionsParseAndRejectBadValuesNamingTheOption() {
        EngineBenchmark.Options d = EngineBenchmark.Options.parse(new String[0]);
        assertThat(d).isEqualTo(new EngineBenchmark.Options(100, 3, 2.0, List.of(10, 1000), 2, true, true));
        EngineBenchmark.Options o = EngineBenchmark.Options.parse(new String[] {"--clients", "20", "--rounds", "2",
            "--local-seconds", "0.5", "--heap-clients", "10, 200", "--skip-timing"});
        assertThat(o).isEqualTo(new EngineBenchmark.Options(20, 2, 0.5, List.of(10, 200), 2, false, true));
        assertThat(EngineBenchmark.Options.parse(new String[] {"--help"})).isNull();
        assertThatThrownBy(() -> EngineBenchmark.Options.parse(new String[] {"--clients", "many"}))
                .hasMessageContaining("--clients").hasMessageContaining("many");
        assertThatThrownBy(() -> EngineBenchmark.Options.parse(new String[] {"--heap-clients", "10,0"}))
                .hasMessageContaining("--heap-clients");
        assertThatThrownBy(() -> EngineBenchmark.Options.parse(new String[] {"--rounds"})).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> EngineBenchmark.Options.parse(new String[] {"--fast"})).hasMessageContaining("--fast");
    }
}
