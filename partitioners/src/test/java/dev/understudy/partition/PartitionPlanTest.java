package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PartitionPlanTest {

    /** Stratum "a": client 0 ranks [0,3), client 2 ranks [3,4); stratum "b": client 1 ranks [0,5). */
    private static PartitionPlan handPlan() {
        return PartitionPlan.builder("test", Map.of("k", 1), 7, Stratification.LABEL, 3)
                .stratum("a", new int[] {0, 2}, new long[] {3, 1})
                .stratum("b", new long[] {0, 5, 0})
                .build();
    }

    @Test
    void clientForRankFollowsCumulativeQuotasInClientOrder() {
        PartitionPlan plan = handPlan();
        assertThat(plan.clientForRank("a", 0)).isZero();
        assertThat(plan.clientForRank("a", 2)).isZero();
        assertThat(plan.clientForRank("a", 3)).isEqualTo(2);
        assertThat(plan.clientForRank("b", 0)).isEqualTo(1);
        assertThat(plan.clientForRank("b", 4)).isEqualTo(1);
        assertThatThrownBy(() -> plan.clientForRank("a", 4)).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("which has 4 rows");
        assertThatThrownBy(() -> plan.clientForRank("c", 0)).hasMessageContaining("no stratum 'c'");
    }

    @Test
    void derivedViewsAgreeWithTheQuotas() {
        PartitionPlan plan = handPlan();
        assertThat(plan.clientSizes()).containsExactly(3, 5, 1);
        assertThat(plan.numRows()).isEqualTo(9);
        assertThat(plan.quotas("a")).containsExactly(new PartitionPlan.Quota(0, 3), new PartitionPlan.Quota(2, 1));
        assertThat(plan.labelHistogram().clientCounts(2)).containsExactly(1, 0);
        assertThat(plan.isMapping()).isFalse();
        assertThatThrownBy(plan::mapping).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void jsonAndJavaSerializationRoundTrip() throws Exception {
        PartitionPlan plan = new DirichletConfig(5, 0.4, 1, 10, false, 3).create()
                .plan(StratumCounts.of(Map.of("x", 40, "y", 31, "é", 17)));

        assertThat(PartitionPlan.fromJson(plan.toJson())).isEqualTo(plan);
        assertThat(PartitionPlan.fromJson(plan.toJson()).toJson()).isEqualTo(plan.toJson());

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(plan);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            PartitionPlan copy = (PartitionPlan) in.readObject();
            assertThat(copy).isEqualTo(plan);
            assertThat(copy.clientForRank("y", 30)).isEqualTo(plan.clientForRank("y", 30));
        }
    }

    @Test
    void labelPlansApplyOnlyToTheRowsTheyWereBuiltFrom() {
        List<Row> rows = TestData.random(1, 300, 3, 10, 5);
        PartitionPlan plan = new IidConfig(4, 1).create().plan(StratumCounts.ofRows(rows, Stratification.LABEL));

        assertThatThrownBy(() -> plan.assign(rows.subList(1, rows.size())))
                .hasMessageContaining("were given; the rows changed since the plan was built");
        List<Row> extra = new java.util.ArrayList<>(rows);
        extra.add(Row.labelled("new", "label-unknown"));
        assertThatThrownBy(() -> plan.assign(extra)).hasMessageContaining("has no quota for");
    }

    @Test
    void builderRejectsMalformedQuotas() {
        assertThatThrownBy(() -> PartitionPlan.builder("t", Map.of(), 1, Stratification.LABEL, 2)
                        .stratum("b", new long[] {1, 1}).stratum("a", new long[] {1, 1}).build())
                .hasMessageContaining("KEY_ORDER");
        assertThatThrownBy(() -> PartitionPlan.builder("t", Map.of(), 1, Stratification.LABEL, 2)
                        .stratum("a", new int[] {1, 0}, new long[] {1, 1}).build())
                .hasMessageContaining("ascending");
        assertThatThrownBy(() -> PartitionPlan.builder("t", Map.of(), 1, Stratification.LABEL, 2)
                        .stratum("a", new int[] {2}, new long[] {1}).build())
                .hasMessageContaining("ascending in [0, 2)");
    }
}
