package dev.understudy.partition.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.junit.jupiter.api.Test;

class PartitionStatsTest {

    @Test
    void summaryOfAHandBuiltHistogram() {
        // Prepare: client 0 = (a:2, b:0), client 1 = (a:0, b:2), client 2 = (a:1, b:1); global (1/2, 1/2).
        LabelHistogram h = new LabelHistogram(List.of("a", "b"), new long[][] {{2, 0}, {0, 2}, {1, 1}});
        // Execute
        PartitionStats s = PartitionStats.of(h);
        // Assert: clients 0 and 1 have JS divergence 0.3112781 to (1/2, 1/2), client 2 has 0.
        assertThat(s.meanJsDivergence()).isCloseTo(2 * 0.3112781 / 3, within(1e-7));
        assertThat(s.meanJsDistance()).isCloseTo(2 * Math.sqrt(0.3112781) / 3, within(1e-7));
        assertThat(s.meanEffectiveLabels()).isCloseTo((1 + 1 + 2) / 3.0, within(1e-12));
        assertThat(s.globalEffectiveLabels()).isCloseTo(2.0, within(1e-12));
        assertThat(s.minDistinctLabels()).isEqualTo(1);
        assertThat(s.maxDistinctLabels()).isEqualTo(2);
        assertThat(s.minSize()).isEqualTo(2);
        assertThat(s.medianSize()).isEqualTo(2.0);
        assertThat(s.stdSize()).isZero();
        assertThat(s.hasOrdinalLabels()).isFalse();
        assertThat(s.meanEmd()).isNaN();
    }

    @Test
    void numericLabelsGetEarthMoversDistance() {
        // Labels 1, 2, 10 (sorted numerically, not as strings): client 0 all at 1, client 1 all at 10.
        LabelHistogram h = new LabelHistogram(List.of("1", "10", "2"), new long[][] {{4, 0, 0}, {0, 4, 0}});
        PartitionStats s = PartitionStats.of(h);
        // Global = half at 1, half at 10: each client moves half its mass 9 units → 4.5.
        assertThat(s.hasOrdinalLabels()).isTrue();
        assertThat(s.meanEmd()).isCloseTo(4.5, within(1e-12));
    }

    @Test
    void emptyClientsAreCountedAndLeftOutOfMeans() {
        LabelHistogram h = new LabelHistogram(List.of("a", "b"), new long[][] {{1, 1}, {0, 0}});
        PartitionStats s = PartitionStats.of(h);
        assertThat(s.emptyClients()).isEqualTo(1);
        assertThat(s.meanJsDivergence()).isCloseTo(0.0, within(1e-12));
        assertThat(s.medianSize()).isEqualTo(1.0);
    }

    @Test
    void tableAndJsonCarryTheNumbers() {
        LabelHistogram h = new LabelHistogram(List.of("a", "b"), new long[][] {{2, 0}, {0, 2}, {1, 1}});
        PartitionStats s = PartitionStats.of(h);

        String table = s.toTable(2);
        assertThat(table).contains("Partition statistics: 3 clients, 6 rows, 2 labels")
                .contains("labels per client  min 1 | mean 1.33 | max 2")
                .contains("a:2")
                .contains("(1 more clients; toJson() has them all)");
        JsonObject json = JsonParser.parseString(s.toJson()).getAsJsonObject();
        assertThat(json.get("num_clients").getAsInt()).isEqualTo(3);
        assertThat(json.get("mean_js_divergence").getAsDouble()).isCloseTo(s.meanJsDivergence(), within(1e-15));
        assertThat(json.getAsJsonArray("clients")).hasSize(3);
        assertThat(json.getAsJsonArray("clients").get(1).getAsJsonObject().getAsJsonArray("label_counts").toString())
                .isEqualTo("[0,2]");
        // Fixed field order: the JSON text of equal statistics is identical.
        assertThat(PartitionStats.of(new LabelHistogram(List.of("a", "b"), new long[][] {{2, 0}, {0, 2}, {1, 1}})).toJson())
                .isEqualTo(s.toJson());
    }
}
