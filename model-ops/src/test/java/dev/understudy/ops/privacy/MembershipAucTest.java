package dev.understudy.ops.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MembershipAucTest {
    @Test
    void exactAucCountsPairsAndHalvesTies() {
        // members {3, 1}, non-members {2, 1, 0}: pairs won: 3 beats all 3; 1 beats 0, ties 1 → 3 + 1.5 = 4.5 of 6
        assertThat(MembershipAuc.auc(new double[] {3, 1}, new double[] {2, 1, 0})).isEqualTo(0.75);
        assertThat(MembershipAuc.auc(new double[] {5, 6}, new double[] {1, 2})).isEqualTo(1.0);
        assertThat(MembershipAuc.auc(new double[] {1, 2}, new double[] {5, 6})).isEqualTo(0.0);
        assertThat(MembershipAuc.auc(new double[] {1, 1}, new double[] {1})).isEqualTo(0.5);
        assertThatThrownBy(() -> MembershipAuc.auc(new double[0], new double[] {1})).hasMessageContaining("members");
    }

    @Test
    void exactAucMatchesBruteForce() {
        SplittableRandom r = new SplittableRandom(3);
        double[] m = new double[300];
        double[] o = new double[200];
        for (int i = 0; i < m.length; i++) {
            m[i] = Math.round(r.nextGaussian(0.3, 1) * 4) / 4.0; // coarse: many ties
        }
        for (int i = 0; i < o.length; i++) {
            o[i] = Math.round(r.nextGaussian() * 4) / 4.0;
        }
        double u = 0;
        for (double x : m) {
            for (double y : o) {
                u += x > y ? 1 : x == y ? 0.5 : 0;
            }
        }
        assertThat(MembershipAuc.auc(m, o)).isCloseTo(u / (m.length * o.length), within(1e-12));
    }

    @Test
    void histogramAucMergesAndEqualsTheExactOneWhenBinsSeparate() {
        double[] m = {0.15, 0.35, 0.75};
        double[] o = {0.05, 0.55, 0.95, 0.25};
        MembershipAuc.Histogram a = new MembershipAuc.Histogram(0, 1, 10);
        MembershipAuc.Histogram b = new MembershipAuc.Histogram(0, 1, 10);
        a.add(m[0], true).add(o[0], false).add(o[1], false);
        b.add(m[1], true).add(m[2], true).add(o[2], false).add(o[3], false);
        MembershipAuc.Histogram merged = a.merge(b);
        assertThat(merged.memberCount()).isEqualTo(3);
        assertThat(merged.nonMemberCount()).isEqualTo(4);
        assertThat(merged.auc()).isEqualTo(MembershipAuc.auc(m, o));
        // one shared bin: the pair counts half
        MembershipAuc.Histogram tie = new MembershipAuc.Histogram(0, 1, 2).add(0.1, true).add(0.2, false);
        assertThat(tie.auc()).isEqualTo(0.5);
        assertThat(new MembershipAuc.Histogram(0, 1, 2).add(0.1, true).auc()).isNaN();
    }
}
