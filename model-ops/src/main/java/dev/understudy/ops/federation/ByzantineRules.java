package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Distance-based Byzantine-robust rules as pure functions over equally long {@code float[]}
 * vectors (unweighted; vector k is the k-th client in client-id order, which breaks ties).
 *
 * <p>Krum and Multi-Krum: Blanchard, El Mhamdi, Guerraoui, Stainer 2017, "Machine Learning with
 * Adversaries: Byzantine Tolerant Gradient Descent" (NeurIPS). Bulyan: El Mhamdi, Guerraoui,
 * Rouault 2018, "The Hidden Vulnerability of Distributed Learning in Byzantium" (ICML,
 * arXiv:1802.07927).
 *
 * <p>Memory: the n×n squared distances (doubles) besides the vectors themselves; no vector is
 * copied except the result.
 */
public final class ByzantineRules {
    private ByzantineRules() {}

    /** {@code d[i][j] = ‖v_i − v_j‖²}, accumulated in double. */
    public static double[][] squaredDistances(List<float[]> vectors) {
        int size = checkVectors(vectors);
        int n = vectors.size();
        double[][] d = new double[n][n];
        for (int i = 0; i < n; i++) {
            float[] a = vectors.get(i);
            for (int j = i + 1; j < n; j++) {
                float[] b = vectors.get(j);
                double s = 0;
                for (int c = 0; c < size; c++) {
                    double diff = (double) a[c] - b[c];
                    s += diff * diff;
                }
                d[i][j] = s;
                d[j][i] = s;
            }
        }
        return d;
    }

    /**
     * Krum scores of the vectors in {@code candidates}: for each, the sum of its squared distances to
     * its {@code max(1, r − f − 2)} nearest other candidates (r = number of candidates; Blanchard et
     * al. use r − f − 2, which is at least 1 whenever Krum's n ≥ 2f + 3 holds; the floor of 1 only
     * matters late in Bulyan's selection). A single candidate scores 0.
     */
    static double[] krumScores(double[][] d, List<Integer> candidates, int f) {
        int r = candidates.size();
        int neighbours = Math.max(1, r - f - 2);
        double[] scores = new double[r];
        double[] row = new double[Math.max(0, r - 1)];
        for (int a = 0; a < r; a++) {
            int i = candidates.get(a);
            int k = 0;
            for (int b = 0; b < r; b++) {
                if (b != a) {
                    row[k++] = d[i][candidates.get(b)];
                }
            }
            Arrays.sort(row);
            double s = 0;
            for (int t = 0; t < Math.min(neighbours, row.length); t++) {
                s += row[t];
            }
            scores[a] = s;
        }
        return scores;
    }

    /**
     * Indices of the {@code m} vectors with the lowest Krum scores among all n, lowest first (ties:
     * lower index first).
     *
     * @param f the assumed number of Byzantine vectors; requires n ≥ 2f + 3
     */
    public static int[] krumSelection(List<float[]> vectors, int f, int m) {
        int n = checkNotNull(vectors, "vectors").size();
        checkArgument(f >= 0, "Cannot set server.num_malicious_clients to %s: the value must be ≥ 0", f);
        checkArgument(n >= 2 * f + 3,
                "Krum with server.num_malicious_clients=%s needs at least 2f + 3 = %s client updates, got %s; lower"
                        + " num_malicious_clients or sample more clients",
                f, 2 * f + 3, n);
        checkArgument(m >= 1 && m <= n, "Multi-Krum keeps between 1 and %s updates, asked for %s", n, m);
        double[][] d = squaredDistances(vectors);
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(i);
        }
        double[] scores = krumScores(d, all, f);
        Integer[] order = all.toArray(new Integer[0]);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> scores[i]).thenComparingInt(i -> i));
        int[] out = new int[m];
        for (int t = 0; t < m; t++) {
            out[t] = order[t];
        }
        return out;
    }

    /** Krum: the single vector with the lowest score (a copy). */
    public static float[] krum(List<float[]> vectors, int f) {
        return vectors.get(krumSelection(vectors, f, 1)[0]).clone();
    }

    /** Multi-Krum: the unweighted mean of the {@code m} lowest-scoring vectors. */
    public static float[] multiKrum(List<float[]> vectors, int f, int m) {
        int[] keep = krumSelection(vectors, f, m);
        List<float[]> chosen = new ArrayList<>();
        for (int i : keep) {
            chosen.add(vectors.get(i));
        }
        long[] ones = new long[chosen.size()];
        Arrays.fill(ones, 1);
        return Aggregations.weightedMean(chosen, ones);
    }

    /**
     * Bulyan's selection: θ = n − 2f vectors picked one at a time, each the Krum choice (lowest
     * score, ties to the lower index) among the vectors not yet picked. Returns their indices in
     * pick order.
     *
     * @param f requires n ≥ 4f + 3
     */
    public static int[] bulyanSelection(List<float[]> vectors, int f) {
        int n = checkNotNull(vectors, "vectors").size();
        checkArgument(f >= 0, "Cannot set server.num_malicious_clients to %s: the value must be ≥ 0", f);
        checkArgument(n >= 4 * f + 3,
                "Bulyan with server.num_malicious_clients=%s needs at least 4f + 3 = %s client updates, got %s; lower"
                        + " num_malicious_clients or sample more clients",
                f, 4 * f + 3, n);
        double[][] d = squaredDistances(vectors);
        List<Integer> remaining = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            remaining.add(i);
        }
        int theta = n - 2 * f;
        int[] picked = new int[theta];
        for (int t = 0; t < theta; t++) {
            double[] scores = krumScores(d, remaining, f);
            int best = 0;
            for (int a = 1; a < scores.length; a++) {
                if (scores[a] < scores[best]) { // strict: ties keep the lower index
                    best = a;
                }
            }
            picked[t] = remaining.remove(best);
        }
        return picked;
    }

    /**
     * Bulyan: the {@link #bulyanSelection} of θ = n − 2f vectors, then per coordinate the mean of the
     * β = θ − 2f selected values closest to their median (median of an even count: the mean of the
     * middle pair; ties in distance: the smaller value first).
     */
    public static float[] bulyan(List<float[]> vectors, int f) {
        int[] picked = bulyanSelection(vectors, f);
        int theta = picked.length;
        int beta = theta - 2 * f;
        int size = vectors.get(0).length;
        float[] out = new float[size];
        double[] column = new double[theta];
        Double[] byDistance = new Double[theta];
        for (int c = 0; c < size; c++) {
            for (int t = 0; t < theta; t++) {
                column[t] = vectors.get(picked[t])[c];
            }
            double[] sorted = column.clone();
            Arrays.sort(sorted);
            double median = theta % 2 == 1 ? sorted[theta / 2] : (sorted[theta / 2 - 1] + sorted[theta / 2]) / 2;
            for (int t = 0; t < theta; t++) {
                byDistance[t] = sorted[t];
            }
            Arrays.sort(byDistance, Comparator.<Double>comparingDouble(v -> Math.abs(v - median))
                    .thenComparingDouble(v -> v));
            double s = 0;
            for (int t = 0; t < beta; t++) {
                s += byDistance[t];
            }
            out[c] = (float) (s / beta);
        }
        return out;
    }

    private static int checkVectors(List<float[]> vectors) {
        checkNotNull(vectors, "vectors");
        checkArgument(!vectors.isEmpty(), "Cannot aggregate an empty list of vectors");
        int size = checkNotNull(vectors.get(0), "vectors[0]").length;
        for (int k = 1; k < vectors.size(); k++) {
            float[] v = checkNotNull(vectors.get(k), "vectors[" + k + "]");
            checkArgument(v.length == size, "Vector %s has %s elements but vector 0 has %s", k, v.length, size);
        }
        return size;
    }
}
