package dev.understudy.job.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.job.config.JobConfig;
import dev.understudy.job.testing.SparkTestBase;
import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quickstart's pieces that need neither the registry nor pretraining. */
class QuickstartPartsTest extends SparkTestBase {
    @TempDir
    Path tmp;

    static final Path CONF = Path.of("..", "conf");

    @Test
    void serverSplitIsDisjointCompleteAndStable() throws Exception {
        StructType schema = new StructType().add("text", DataTypes.StringType).add("label", DataTypes.IntegerType)
                .add("domain", DataTypes.StringType);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            rows.add(RowFactory.create("review number " + i, i % 2, i % 3 == 0 ? "imdb" : "yelp"));
        }
        Path all = tmp.resolve("all");
        spark.createDataFrame(rows, schema).write().parquet(all.toUri().toString());

        long[] a = Quickstart.splitServerSet(spark, all, tmp.resolve("c1"), tmp.resolve("s1"));
        long[] b = Quickstart.splitServerSet(spark, all, tmp.resolve("c2"), tmp.resolve("s2"));
        assertThat(a[0] + a[1]).isEqualTo(1000);
        assertThat(a).containsExactly(b);
        // about 10% for the server (binomial: 100 +- 3 sigma)
        assertThat(a[1]).isBetween(70L, 130L);
        Set<String> server = texts(tmp.resolve("s1"));
        Set<String> clients = texts(tmp.resolve("c1"));
        assertThat(server).doesNotContainAnyElementsOf(clients);
        assertThat(texts(tmp.resolve("s2"))).isEqualTo(server);
    }

    @Test
    void shippedQuickstartConfigResolvesForBothRuns() {
        Quickstart.Options o = new Quickstart.Options(tmp, tmp.resolve("family"), tmp.resolve("cache"), CONF, List.of(),
                List.of(), true, false, new PrintStream(new ByteArrayOutputStream()), false);
        JobConfig fedavg = Quickstart.jobConfig(o, tmp.resolve("clients"), "file:///m/small", tmp.resolve("r1"),
                List.of("method=fedavg_lora"));
        assertThat(fedavg.partitioning().partitioner().type()).isEqualTo("grouped_dirichlet");
        assertThat(fedavg.model().base()).isEqualTo("file:///m/small");
        assertThat(fedavg.server().rounds() % fedavg.server().evalEvery())
                .as("the last round must be evaluated (server.rounds a multiple of server.eval_every)").isZero();
        JobConfig fedpt = Quickstart.jobConfig(o, List.of("quickstart.yaml", "quickstart-fedpt.yaml"),
                tmp.resolve("clients"), "file:///m/small", tmp.resolve("r2"),
                List.of("method_params.large=file:///m/large", "method_params.kd_data=file:///d/server"));
        assertThat(fedpt.method()).isEqualTo("fedpt");
        assertThat(fedpt.methodParams()).containsEntry("large", "file:///m/large").containsKey("ce_weight");
        assertThat(dev.understudy.job.method.FedPtConfig.parse(fedpt.methodParams()).ceWeight()).isEqualTo(0.5);
        // user overrides come last
        Quickstart.Options o2 = new Quickstart.Options(tmp, tmp, tmp, CONF, List.of("server.rounds=3", "server.eval_every=1",
                "method_params.alpha=0.5"),
                List.of(), true, false, new PrintStream(new ByteArrayOutputStream()), false);
        JobConfig overridden = Quickstart.jobConfig(o2, tmp, "file:///m/small", tmp, List.of());
        assertThat(overridden.server().rounds()).isEqualTo(3);
        assertThat(overridden.methodParams()).as("method_params overrides go to the FedPT run only").isEmpty();
    }

    private Set<String> texts(Path p) {
        Set<String> out = new HashSet<>();
        for (Row r : spark.read().parquet(p.toUri().toString()).select("text").collectAsList()) {
            out.add(r.getString(0));
        }
        return out;
    }
}
