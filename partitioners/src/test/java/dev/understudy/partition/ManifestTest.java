package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManifestTest {

    private static final PartitioningConfig CONFIG =
            new PartitioningConfig(new DirichletConfig(5, 0.5, 5, 10, false, 11), 0.1, 0.05, "id", "label");

    @Test
    void aRerunOnReorderedRowsProducesAByteIdenticalManifest() {
        List<Row> rows = TestData.random(21, 1500, 4, 30, 10);
        Manifest first = Partitioning.run(CONFIG, rows).manifest();
        Manifest rerun = Partitioning.run(CONFIG, TestData.shuffled(rows, 5)).manifest();

        assertThat(first.verify(rerun).matches()).isTrue();
        assertThat(first.verify(rerun).describe()).isEqualTo("manifests match");
        assertThat(rerun.toJson()).isEqualTo(first.toJson());
    }

    @Test
    void jsonRoundTripsAndHasAFixedLayout() {
        List<Row> rows = TestData.random(22, 800, 3, 30, 10);
        Manifest manifest = Partitioning.run(CONFIG, rows).manifest();

        Manifest parsed = Manifest.fromJson(manifest.toJson());
        assertThat(parsed.verify(manifest).matches()).isTrue();
        assertThat(parsed.toJson()).isEqualTo(manifest.toJson());

        JsonObject json = JsonParser.parseString(manifest.toJson()).getAsJsonObject();
        assertThat(new ArrayList<>(json.keySet())).containsExactly("format", "partitioner", "parameters", "seed",
                "stratification", "num_rows", "row_key_digest", "holdout_fraction", "held_out_rows", "eval_fraction",
                "plan_digest", "num_clients", "labels", "stats", "clients");
        assertThat(json.get("partitioner").getAsString()).isEqualTo("dirichlet");
        assertThat(json.get("num_rows").getAsLong()).isEqualTo(800);
        assertThat(json.get("row_key_digest").getAsString()).isEqualTo(Manifest.hex(Manifest.rowKeyDigest(rows)));
        assertThat(json.getAsJsonObject("parameters").get("alpha").getAsDouble()).isEqualTo(0.5);
        JsonObject client0 = json.getAsJsonArray("clients").get(0).getAsJsonObject();
        assertThat(new ArrayList<>(client0.keySet())).containsExactly("id", "size", "eval_size", "label_counts");
    }

    @Test
    void rowKeyDigestIsOrderIndependentAndSeesOneChangedKey() {
        List<Row> rows = TestData.random(23, 500, 3, 30, 10);
        List<Row> changed = new ArrayList<>(rows);
        changed.set(17, Row.labelled(rows.get(17).key() + "x", rows.get(17).label()));

        assertThat(Manifest.rowKeyDigest(TestData.shuffled(rows, 2))).isEqualTo(Manifest.rowKeyDigest(rows));
        assertThat(Manifest.rowKeyDigest(changed)).isNotEqualTo(Manifest.rowKeyDigest(rows));
        long xor = 0;
        for (Row r : rows) {
            xor ^= RowOrder.hash(0, r.key());
        }
        assertThat(Manifest.rowKeyDigest(rows)).isEqualTo(xor);
    }

    @Test
    void verifyExplainsWhatDiffers() {
        List<Row> rows = TestData.random(24, 1200, 4, 30, 10);
        Manifest expected = Partitioning.run(CONFIG, rows).manifest();

        // A row fewer: count, digest and some clients differ.
        Manifest missingRow = Partitioning.run(CONFIG, rows.subList(1, rows.size())).manifest();
        Manifest.Verification v = expected.verify(missingRow);
        assertThat(v.matches()).isFalse();
        assertThat(v.differences()).contains("num_rows: expected 1200, found 1199");
        assertThat(v.differences()).anySatisfy(d -> assertThat(d).startsWith("row_key_digest: expected ")
                .endsWith("(the set of row keys differs)"));
        assertThat(v.describe()).startsWith("manifests differ:\n  ");

        // Another seed: the same rows, a different split.
        PartitioningConfig otherSeed = new PartitioningConfig(new DirichletConfig(5, 0.5, 5, 10, false, 12), 0.1, 0.05, "id", "label");
        Manifest.Verification seed = expected.verify(Partitioning.run(otherSeed, rows).manifest());
        assertThat(seed.differences()).contains("seed: expected 11, found 12");
        assertThat(seed.differences()).noneMatch(d -> d.startsWith("row_key_digest"));
        assertThat(seed.differences()).anySatisfy(d -> assertThat(d).startsWith("plan_digest: expected "));
        assertThat(seed.differences()).anySatisfy(d -> assertThat(d).matches("client \\d: expected size \\d+ \\(eval \\d+\\).*"));
    }
}
