package dev.understudy.partition;

import java.util.function.IntBinaryOperator;

/**
 * Rank of every row within its group, in the {@link RowOrder} order: the in-memory equivalent of
 * {@code row_number() over (partition by group order by hash, key) - 1}.
 */
final class Ranks {

    private Ranks() {}

    /**
     * @param hashes per-row {@link RowOrder#hash(long, String)} values
     * @param group per-row group index in {@code [0, numGroups)}
     * @param keyOrder compares the row keys of two rows (by row index) in {@link RowOrder#KEY_ORDER};
     *     called only when two rows of a group have the same hash
     * @return per-row 0-based rank within its group
     * @throws IllegalArgumentException if two rows of one group have the same key
     */
    static int[] within(long[] hashes, int[] group, int numGroups, IntBinaryOperator keyOrder) {
        int n = hashes.length;
        if (group.length != n) {
            throw new IllegalArgumentException("hashes has " + n + " rows but group has " + group.length);
        }
        // 1) Counting sort of row indices by group.
        int[] start = new int[numGroups + 1];
        for (int i = 0; i < n; i++) {
            int g = group[i];
            if (g < 0 || g >= numGroups) {
                throw new IllegalArgumentException("row " + i + " has group " + g + ", expected [0, " + numGroups + ")");
            }
            start[g + 1]++;
        }
        int largest = 0;
        for (int g = 0; g < numGroups; g++) {
            largest = Math.max(largest, start[g + 1]);
            start[g + 1] += start[g];
        }
        int[] rows = new int[n];
        int[] fill = start.clone();
        for (int i = 0; i < n; i++) {
            rows[fill[group[i]]++] = i;
        }
        long[] keys = new long[n];
        for (int p = 0; p < n; p++) {
            keys[p] = hashes[rows[p]];
        }
        // 2) Sort each group by hash, then settle equal hashes by the row key.
        long[] tmpKeys = new long[largest];
        int[] tmpRows = new int[largest];
        int[] rank = new int[n];
        for (int g = 0; g < numGroups; g++) {
            int from = start[g];
            int to = start[g + 1];
            LongIntSort.sort(keys, rows, from, to, tmpKeys, tmpRows);
            breakTies(keys, rows, from, to, keyOrder);
            for (int p = from; p < to; p++) {
                rank[rows[p]] = p - from;
            }
        }
        return rank;
    }

    private static void breakTies(long[] keys, int[] rows, int from, int to, IntBinaryOperator keyOrder) {
        int runStart = from;
        for (int p = from + 1; p <= to; p++) {
            if (p < to && keys[p] == keys[runStart]) {
                continue;
            }
            if (p - runStart > 1) {
                // A 64-bit collision: about 1 in 3.7e19 / n^2; sort the run by key (insertion sort).
                for (int i = runStart + 1; i < p; i++) {
                    int r = rows[i];
                    int j = i - 1;
                    while (j >= runStart && keyOrder.applyAsInt(rows[j], r) > 0) {
                        rows[j + 1] = rows[j];
                        j--;
                    }
                    rows[j + 1] = r;
                }
                for (int i = runStart + 1; i < p; i++) {
                    if (keyOrder.applyAsInt(rows[i - 1], rows[i]) == 0) {
                        throw new IllegalArgumentException("rows " + rows[i - 1] + " and " + rows[i]
                                + " have the same row key; row keys must be unique");
                    }
                }
            }
            runStart = p;
        }
    }
}
