package dev.understudy.job.data;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.testing.SparkTestBase;
import dev.understudy.partition.PartitionPlan;
import dev.understudy.partition.Stratification;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Normalisation and client assignment of {@link DataPrep} on small in-memory data (no model, no
 * tokenisation): the distributed application of a partitioner plan must give exactly the plan's
 * quotas and the in-memory assignment of the partitioners module.
 */
class DataPrepTest extends SparkTestBase {

    private static final String[] DOMAINS = {"yelp", "imdb", "amazon"};

    /** 150 reviews: yelp 60, imdb 60, amazon 30 rows, labels 0/1 skewed per domain; one null and one NUL domain. */
    private static Dataset<Row> reviews() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            String domain = i < 60 ? DOMAINS[0] : i < 120 ? DOMAINS[1] : DOMAINS[2];
            int label = i % 3 == 0 || (domain.equals("imdb") && i % 2 == 0) ? 1 : 0;
            rows.add(RowFactory.create("review " + i + " about " + domain, label, domain));
        }
        rows.add(RowFactory.create("a review without a domain", 1, null));
        rows.add(RowFactory.create("a review with a bad domain", 0, "im\u0000db"));
        StructType schema = new StructType().add("text", DataTypes.StringType).add("label", DataTypes.IntegerType)
                .add("domain", DataTypes.StringType);
        return spark.createDataFrame(rows, schema);
    }

    private static JobConfig config(String partitioning) {
        return ConfigLoader.load(null, List.of(), List.of("data.path=file:///tmp/understudy-none/reviews.parquet",
                "data.kind=classification", "data.label_words={0: ' negative', 1: ' positive'}", "data.bad_rows=skip",
                "partitioning=" + partitioning, "model.base=file:///tmp/understudy-none/model",
                "output.dir=file:///tmp/understudy-none/out", "seed=11"));
    }

    @Test
    void groupedDirichletGivesEveryClientOneDomainAndThePlansQuotas() {
        // Prepare
        JobConfig cfg = config("{type: grouped_dirichlet, group_column: domain, num_clients: 10, alpha: 0.5, min_size: 2}");
        Dataset<Row> norm = DataPrep.normalise(spark, reviews(), cfg);
        Map<String, Long> bad = new TreeMap<>();
        for (Row r : norm.filter(col("bad_reason").isNotNull()).groupBy("bad_reason").count().collectAsList()) {
            bad.put(r.getString(0), r.getLong(1));
        }
        Dataset<Row> good = norm.filter(col("bad_reason").isNull());
        // Execute
        DataPrep.Assignment a = DataPrep.assignClients(spark, good, cfg);
        List<Row> rows = a.rows().select("row_key", "natural_id", "label", "client_id").collectAsList();
        // Assert: null and NUL group values are counted bad rows, not clients
        assertThat(bad).containsExactly(Map.entry("nul_in_group", 1L), Map.entry("null_group", 1L));
        PartitionPlan plan = a.plan();
        assertThat(plan.partitioner()).isEqualTo("grouped_dirichlet");
        // amazon 30 rows → 2 clients (ids 0-1), imdb 60 → 4 (2-5), yelp 60 → 4 (6-9)
        assertThat(rows).hasSize(150);
        Map<String, String> domainOfClient = new HashMap<>();
        Map<String, Map<String, Long>> cells = new HashMap<>(); // client → (group, label) stratum → rows
        for (Row r : rows) {
            String client = r.getString(3);
            String previous = domainOfClient.putIfAbsent(client, r.getString(1));
            assertThat(previous == null || previous.equals(r.getString(1))).as("client %s has rows of %s and %s", client,
                    previous, r.getString(1)).isTrue();
            cells.computeIfAbsent(client, c -> new HashMap<>())
                    .merge(Stratification.groupLabelKey(r.getString(1), r.getString(2)), 1L, Long::sum);
        }
        assertThat(domainOfClient).hasSize(10);
        for (int c = 0; c < 10; c++) {
            assertThat(domainOfClient.get(DataPrep.clientName(c))).isEqualTo(c < 2 ? "amazon" : c < 6 ? "imdb" : "yelp");
        }
        // the counts per (client, stratum) are exactly the plan's quotas
        Map<String, Map<String, Long>> expected = new HashMap<>();
        for (String stratum : plan.strata()) {
            for (PartitionPlan.Quota q : plan.quotas(stratum)) {
                expected.computeIfAbsent(DataPrep.clientName(q.clientId()), c -> new HashMap<>()).put(stratum, q.count());
            }
        }
        assertThat(cells).isEqualTo(expected);
        // and every row's client is the one the partitioners module assigns in memory
        List<dev.understudy.partition.Row> inMemory = new ArrayList<>();
        for (Row r : rows) {
            inMemory.add(dev.understudy.partition.Row.withGroup(r.getString(0), r.getString(1), r.getString(2)));
        }
        int[] clients = plan.assign(inMemory);
        for (int i = 0; i < rows.size(); i++) {
            assertThat(rows.get(i).getString(3)).isEqualTo(DataPrep.clientName(clients[i]));
        }
    }

    @Test
    void aMissingGroupColumnIsNamedWithItsKey() {
        JobConfig cfg = config("{type: grouped_dirichlet, group_column: source, num_clients: 4}");
        assertThatThrownBy(() -> DataPrep.normalise(spark, reviews(), cfg))
                .hasMessageContaining("has no column 'source'")
                .hasMessageContaining("which partitioning.group_column names; set partitioning.group_column to an"
                        + " existing column");
    }
}
