package dev.understudy.partition;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Seeded synthetic data sets for property tests. */
final class TestData {

    private TestData() {}

    /**
     * A random labelled data set: {@code numRows} rows, {@code numLabels} labels with random skew
     * (every label at least {@code minPerLabel} rows), {@code numIds} natural-id values (each used),
     * and keys that include non-ASCII characters.
     */
    static List<Row> random(long seed, int numRows, int numLabels, int minPerLabel, int numIds) {
        Random r = new Random(seed);
        double[] weights = new double[numLabels];
        for (int l = 0; l < numLabels; l++) {
            weights[l] = 0.2 + r.nextDouble();
        }
        List<Row> rows = new ArrayList<>(numRows);
        for (int i = 0; i < numRows; i++) {
            int label;
            if (i < numLabels * minPerLabel) {
                label = i % numLabels;
            } else {
                label = pick(weights, r);
            }
            int id = i < numIds ? i : r.nextInt(numIds);
            String key = (i % 7 == 0 ? "clé-é" : i % 11 == 0 ? "键-\uD83D\uDE00" : "row-") + Long.toString(seed, 36) + "-" + i;
            rows.add(Row.withNaturalId(key, "user-" + id, "label-" + label));
        }
        // The generator emits rows grouped in a meaningful order; shuffle so tests see no order.
        Collections.shuffle(rows, r);
        return rows;
    }

    /** Rows sorted by label: the worst case for an IID partitioner that does not shuffle. */
    static List<Row> sortedByLabel(int numLabels, int perLabel) {
        List<Row> rows = new ArrayList<>();
        for (int l = 0; l < numLabels; l++) {
            for (int i = 0; i < perLabel; i++) {
                rows.add(Row.labelled("k" + l + "-" + i, "label-" + l));
            }
        }
        return rows;
    }

    static List<Row> shuffled(List<Row> rows, long seed) {
        List<Row> copy = new ArrayList<>(rows);
        Collections.shuffle(copy, new Random(seed));
        return copy;
    }

    private static int pick(double[] weights, Random r) {
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        double u = r.nextDouble() * total;
        for (int i = 0; i < weights.length; i++) {
            u -= weights[i];
            if (u < 0) {
                return i;
            }
        }
        return weights.length - 1;
    }
}
