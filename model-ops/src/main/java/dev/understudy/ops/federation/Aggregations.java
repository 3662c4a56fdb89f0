package dev.understudy.ops.federation;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import java.util.Arrays;
import java.util.List;

/** Pure per-coordinate aggregation rules over equally long {@code float[]} vectors. */
public final class Aggregations {
    private Aggregations() {}

    /**
     * Weighted mean {@code Σ w_k·x_k / Σ w_k} per coordinate, the FedAvg rule of McMahan et al. 2017,
     * "Communication-Efficient Learning of Deep Networks from Decentralized Data" (arXiv:1602.05629).
     * Accumulates exactly as {@link WeightedMean}, so it gives the same bits.
     *
     * @param weights non-negative, one per vector, with a positive sum
     */
    public static float[] weightedMean(List<float[]> vectors, long[] weights) {
        int size = checkVectors(vectors);
        checkNotNull(weights, "weights");
        checkArgument(
                weights.length == vectors.size(), "Got %s vectors but %s weights", vectors.size(), weights.length);
        WeightedMean mean = WeightedMean.empty(size);
        for (int k = 0; k < weights.length; k++) {
            mean.add(vectors.get(k), weights[k]);
        }
        checkArgument(mean.totalWeight() > 0, "The weights %s sum to 0", Arrays.toString(weights));
        return mean.mean();
    }

    /**
     * Coordinate-wise median; with an even count, the mean of the two middle values. Unweighted.
     * Yin, Chen, Ramchandran, Bartlett 2018, "Byzantine-Robust Distributed Learning: Towards Optimal
     * Statistical Rates", ICML (arXiv:1803.01498), Section 3 (median-based gradient descent).
     */
    public static float[] coordinateMedian(List<float[]> vectors) {
        int size = checkVectors(vectors);
        int n = vectors.size();
        float[] column = new float[n]; // (n) one coordinate across vectors
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            fillColumn(vectors, i, column);
            Arrays.sort(column);
            // Even n: average the middle pair in double; the sum of two floats is exact there.
            out[i] = n % 2 == 1 ? column[n / 2] : (float) (((double) column[n / 2 - 1] + column[n / 2]) / 2.0);
        }
        return out;
    }

    /**
     * Coordinate-wise β-trimmed mean: per coordinate, drop the {@code ⌊β·n⌋} smallest and the
     * {@code ⌊β·n⌋} largest values and average the rest (unweighted). Yin, Chen, Ramchandran, Bartlett
     * 2018, "Byzantine-Robust Distributed Learning: Towards Optimal Statistical Rates", ICML
     * (arXiv:1803.01498), Section 3 (trimmed-mean-based gradient descent).
     *
     * @param beta fraction trimmed from each end, {@code 0 ≤ β < 0.5}
     */
    public static float[] trimmedMean(List<float[]> vectors, double beta) {
        checkArgument(beta >= 0 && beta < 0.5, "Cannot set server.beta to %s: the value must be in [0, 0.5)", beta);
        int size = checkVectors(vectors);
        int n = vectors.size();
        int cut = (int) Math.floor(beta * n);
        int kept = n - 2 * cut;
        checkArgument(kept > 0, "Trimming %s of %s values from each end leaves nothing to average", cut, n);
        float[] column = new float[n];
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            fillColumn(vectors, i, column);
            Arrays.sort(column);
            double sum = 0;
            for (int k = cut; k < n - cut; k++) {
                sum += column[k];
            }
            out[i] = (float) (sum / kept);
        }
        return out;
    }

    private static void fillColumn(List<float[]> vectors, int i, float[] column) {
        for (int k = 0; k < column.length; k++) {
            column[k] = vectors.get(k)[i];
        }
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
