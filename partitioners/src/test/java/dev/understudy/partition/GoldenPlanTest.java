package dev.understudy.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pinned outputs. A plan must be identical on every machine, JDK and release, so persisted splits
 * and manifests stay valid. If one of these values changes, a change altered the split of existing
 * experiments: that needs a new plan format version, not an updated constant.
 */
class GoldenPlanTest {

    private static final StratumCounts LABELS =
            StratumCounts.of(Map.of("cat", 1200L, "dog", 800L, "émeu", 333L, "fox", 97L));

    private static StratumCounts ids() {
        Map<String, Long> ids = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            ids.put("user-" + i, 5L + (i * 37) % 23);
        }
        return StratumCounts.of(ids);
    }

    /** (group, label) counts: three groups of the LABELS strata, with different sizes. */
    private static StratumCounts groups() {
        Map<String, Long> m = new HashMap<>();
        String[] groups = {"amazon", "imdb", "yelp"};
        for (int g = 0; g < groups.length; g++) {
            for (int s = 0; s < LABELS.size(); s++) {
                m.put(Stratification.groupLabelKey(groups[g], LABELS.strata().get(s)), LABELS.count(s) / (g + 1));
            }
        }
        return StratumCounts.of(m);
    }

    private static String digest(PartitionerConfig config) {
        Partitioner p = config.create();
        PartitionPlan plan = p.plan(switch (p.stratification()) {
            case LABEL -> LABELS;
            case NATURAL_ID -> ids();
            case GROUP_LABEL -> groups();
        });
        return Manifest.hex(Manifest.planDigest(plan));
    }

    @Test
    void planDigestsArePinned() {
        assertThat(digest(new IidConfig(7, 42))).isEqualTo("bf7d56a249998b4e");
        assertThat(digest(new DirichletConfig(7, 0.5, 10, 10, false, 42))).isEqualTo("40cfe9df973a31d4");
        assertThat(digest(new DirichletConfig(7, 0.5, 10, 10, true, 42))).isEqualTo("53f5996f7afc25f3");
        assertThat(digest(new PathologicalConfig(7, 2, 42))).isEqualTo("57fcbb857c4ff958");
        assertThat(digest(SizeConfig.powerLaw(7, 1.0, 5, 42))).isEqualTo("609f9448df73bfcc");
        assertThat(digest(SizeConfig.logNormal(7, 1.0, 5, 42))).isEqualTo("efed9208ccef9d58");
        assertThat(digest(new InnerDirichletConfig(7, 0.5, List.of(), 42))).isEqualTo("84c72916ad83ee53");
        assertThat(digest(new NaturalIdConfig("user", 42))).isEqualTo("41d59228bf581726");
        assertThat(digest(new GroupedNaturalIdConfig("user", 7, 42))).isEqualTo("50f7d8696f28f625");
        assertThat(digest(new GroupedDirichletConfig("domain", 10, 0.5, 10, 42))).isEqualTo("2d6380edc9f19191");
    }

    @Test
    void rowRolesArePinned() {
        // Hold-out, assignment by rank and the eval split together, on 100 fixed rows.
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            rows.add(Row.labelled("r" + i, "l" + (i % 3)));
        }
        Partitioning.Result result = Partitioning.run(new PartitioningConfig(new IidConfig(4, 42), 0.2, 0.1, null, null), rows);
        StringBuilder roles = new StringBuilder();
        for (int i = 0; i < rows.size(); i++) {
            roles.append(result.role(i)).append(result.clientOf(i)).append(',');
        }
        assertThat(roles.toString()).startsWith("TRAIN1,EVAL1,TRAIN2,TRAIN2,EVAL0,EVAL2,TRAIN1,TRAIN1,TRAIN1,TRAIN3,");
        assertThat(Manifest.hex(RowOrder.hash(0, roles.toString()))).isEqualTo("74bc011234991e28");
    }
}
