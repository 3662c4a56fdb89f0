package dev.understudy.job.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.job.engine.RoundEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparison's bookkeeping that needs no Spark: eval-row quotas, clients per round, directory URIs, reuse. */
class FedPtBenchmarkPartsTest {
    @Test
    void evalQuotasAreProportionalByLargestRemainder() {
        Map<String, Long> sizes = new TreeMap<>(Map.of("a", 10L, "b", 20L, "c", 30L));
        // cap 7 of 60: exact 7/6 = 1.167, 2.333, 3.5 → floors 1, 2, 3 (6), the largest remainder (c, 0.5) gets the 7th
        assertThat(FedPtBenchmark.evalQuotas(sizes, 7)).containsExactlyEntriesOf(new TreeMap<>(Map.of("a", 1, "b", 2, "c", 4)));
        // cap 5: exact 0.833, 1.667, 2.5 → floors 0, 1, 2 (3); remainders a 0.833, b 0.667 get the rest
        assertThat(FedPtBenchmark.evalQuotas(sizes, 5)).containsExactlyEntriesOf(new TreeMap<>(Map.of("a", 1, "b", 2, "c", 2)));
        assertThat(FedPtBenchmark.evalQuotas(sizes, 0)).containsExactlyEntriesOf(new TreeMap<>(Map.of("a", 10, "b", 20, "c", 30)));
        assertThat(FedPtBenchmark.evalQuotas(sizes, 600)).containsExactlyEntriesOf(new TreeMap<>(Map.of("a", 10, "b", 20, "c", 30)));
        // equal remainders: ties by client id; never more than a client has
        Map<String, Integer> q = FedPtBenchmark.evalQuotas(new TreeMap<>(Map.of("x", 1L, "y", 1L, "z", 1L)), 2);
        assertThat(q).containsExactlyEntriesOf(new TreeMap<>(Map.of("x", 1, "y", 1, "z", 0)));
    }

    @Test
    void clientsPerRoundFollowsTheRoundEngine() {
        assertThat(FedPtBenchmark.clientsPerRound(10, 0, 1.0, 1)).isEqualTo(10);
        assertThat(FedPtBenchmark.clientsPerRound(10, 4, 1.0, 1)).isEqualTo(4);
        assertThat(FedPtBenchmark.clientsPerRound(10, 0, 0.25, 1)).isEqualTo(3); // ceil(2.5)
        assertThat(FedPtBenchmark.clientsPerRound(10, 0, 0.05, 2)).isEqualTo(2);
        assertThat(FedPtBenchmark.clientsPerRound(3, 8, 1.0, 1)).isEqualTo(3);
        var o = new RoundEngine.Options(5, 0, 0.25, 1, 1, 0.5, 7, 0);
        assertThat(RoundEngine.sample(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"),
                1, o)).hasSize(FedPtBenchmark.clientsPerRound(10, 0, 0.25, 1));
    }

    @Test
    void directoryUrisDoNotDependOnWhetherTheDirectoryExists(@TempDir Path tmp) throws Exception {
        Path d = tmp.resolve("run");
        String before = FedPtBenchmark.dirUri(d);
        Files.createDirectories(d);
        assertThat(FedPtBenchmark.dirUri(d)).isEqualTo(before).endsWith("/run/");
    }

    @Test
    void largestClientBreaksTiesByTheSmallestId() {
        assertThat(FedPtBenchmark.largestClient(Map.of("c", 5L, "a", 9L, "b", 9L))).isEqualTo("a");
        assertThat(FedPtBenchmark.largestClient(Map.of("c", 10L, "a", 9L))).isEqualTo("c");
    }

    @Test
    void reuseIsRefusedWhenTheRecordedDataSettingsDiffer(@TempDir Path tmp) throws Exception {
        Path runs = tmp.resolve("runs");
        Path split = tmp.resolve("data").resolve(FedPtBenchmark.SPLIT_FILE);
        Map<String, String> now = new LinkedHashMap<>();
        now.put("bench.dataset", "uci-sentiment");
        now.put("bench.where", null);
        now.put("bench.sample_rows", "0");
        FedPtBenchmark.checkReuse(split, now, runs); // nothing to reuse yet
        Files.createDirectories(runs.resolve("fedpt"));
        assertThatThrownBy(() -> FedPtBenchmark.checkReuse(split, now, runs))
                .hasMessageContaining(split + " is missing").hasMessageContaining("drop --reuse")
                .hasMessageContaining("\"bench.sample_rows\": \"0\"");
        Files.createDirectories(split.getParent());
        Files.writeString(split, FedPtBenchmark.splitJson(now));
        FedPtBenchmark.checkReuse(split, now, runs); // the same settings
        Map<String, String> later = new LinkedHashMap<>(now);
        later.put("bench.where", "label = 1");
        later.put("bench.sample_rows", "500");
        assertThatThrownBy(() -> FedPtBenchmark.checkReuse(split, later, runs))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("(bench.where null -> label = 1; bench.sample_rows 0 -> 500, per " + split + ")")
                .hasMessageContaining("Drop --reuse").hasMessageContaining("use another --out");
        Files.writeString(split, "{not json");
        assertThatThrownBy(() -> FedPtBenchmark.checkReuse(split, now, runs)).hasMessageContaining("cannot read " + split);
    }
}
