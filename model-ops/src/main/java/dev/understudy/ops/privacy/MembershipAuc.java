package dev.understudy.ops.privacy;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import java.io.Serializable;
import java.util.Arrays;

/**
 * ROC AUC of a membership-inference score: the probability that a random member (a client's
 * training row) scores higher than a random non-member (a held-out row of the same clients), ties
 * counting half (the Mann–Whitney U statistic / (n₁n₀)). With the loss-threshold attack of Yeom et
 * al. 2018 ("Privacy Risk in Machine Learning: Analyzing the Connection to Overfitting") the score
 * is the negated loss; with the likelihood ratio against the base model (Carlini et al. 2022,
 * "Membership Inference Attacks From First Principles", with the base as the reference) it is
 * {@code loss_base − loss_model}. AUC 0.5: nothing learnt about membership.
 *
 * <p>{@link Histogram} is the mergeable form for executors: per-bin counts of member and
 * non-member scores, so only counts reach the driver.
 */
public final class MembershipAuc {
    private MembershipAuc() {}

    /** Exact AUC by sorting, O((n₁ + n₀) log). */
    public static double auc(double[] members, double[] nonMembers) {
        checkNotNull(members, "member scores");
        checkNotNull(nonMembers, "non-member scores");
        checkArgument(members.length > 0 && nonMembers.length > 0,
                "An AUC needs members and non-members, got %s and %s", members.length, nonMembers.length);
        double[] m = members.clone();
        double[] o = nonMembers.clone();
        Arrays.sort(m);
        Arrays.sort(o);
        // for each member: non-members strictly below + half of those equal
        double u = 0;
        int lo = 0;
        int hi = 0;
        for (double x : m) {
            checkArgument(!Double.isNaN(x), "A member score is NaN");
            while (lo < o.length && o[lo] < x) {
                lo++;
            }
            hi = Math.max(hi, lo);
            while (hi < o.length && o[hi] <= x) {
                hi++;
            }
            u += lo + 0.5 * (hi - lo);
        }
        return u / ((double) m.length * o.length);
    }

    /**
     * Counts of member and non-member scores in {@code bins} equal bins over [lo, hi) (scores outside
     * go to the end bins). The AUC from it treats scores in one bin as tied, so it is exact when no
     * bin holds both a member and a non-member, and otherwise off by at most half the share of such
     * pairs. Mergeable: {@link #merge}.
     */
    public static final class Histogram implements Serializable {
        private static final long serialVersionUID = 1L;
        private final double lo;
        private final double hi;
        private final long[] members;
        private final long[] nonMembers;

        public Histogram(double lo, double hi, int bins) {
            checkArgument(hi > lo && bins >= 1, "A histogram needs lo < hi and bins ≥ 1, got [%s, %s), %s", lo, hi, bins);
            this.lo = lo;
            this.hi = hi;
            this.members = new long[bins];
            this.nonMembers = new long[bins];
        }

        private int bin(double score) {
            checkArgument(!Double.isNaN(score), "A membership score is NaN");
            int b = (int) Math.floor((score - lo) / (hi - lo) * members.length);
            return Math.max(0, Math.min(members.length - 1, b));
        }

        public Histogram add(double score, boolean member) {
            (member ? members : nonMembers)[bin(score)]++;
            return this;
        }

        public Histogram merge(Histogram other) {
            checkArgument(other.lo == lo && other.hi == hi && other.members.length == members.length,
                    "Cannot merge histograms with different bins");
            for (int b = 0; b < members.length; b++) {
                members[b] += other.members[b];
                nonMembers[b] += other.nonMembers[b];
            }
            return this;
        }

        public long memberCount() {
            return Arrays.stream(members).sum();
        }

        public long nonMemberCount() {
            return Arrays.stream(nonMembers).sum();
        }

        /** AUC with scores in one bin as ties; NaN without members or non-members. */
        public double auc() {
            long n1 = memberCount();
            long n0 = nonMemberCount();
            if (n1 == 0 || n0 == 0) {
                return Double.NaN;
            }
            double u = 0;
            long below = 0; // non-members in lower bins
            for (int b = 0; b < members.length; b++) {
                u += members[b] * (below + 0.5 * nonMembers[b]);
                below += nonMembers[b];
            }
            return u / ((double) n1 * n0);
        }
    }
}
