package dev.understudy.partition;

import java.util.function.IntBinaryOperator;

/**
 * Rows of each group in {@link RowOrder} order: the in-memory equivalent of {@code row_number()
 * over (partition by group order by hash, key) - 1}.
 */
final class Ranks {

    /** Row indices grouped by group and, within a group, in rank order. */
    static final class Sorted {
        /** {@code rows[start[g] + r]} is the row with rank r in group g. */
        final int[] rows;
        /** Group g occupies {@code [start[g], start[g + 1])} of {@link #rows}. */
        final int[] start;

        private Sorted(int[] rows, int[] start) {
            this.rows = rows;
            this.start = start;
        }
    }

    private Ranks() {}

    /**
     * @param hashes per-row {@link RowOrder#hash(long, String)} values
     * @param group per-row group index in {@code [0, numGroups)}
     * @param keyOrder compares the row keys of two rows (by row index) in {@link RowOrder#KEY_ORDER};
     *     called only when two rows of a group have the same hash
     * @throws IllegalArgumentException if two rows of one group have the same key
     */
    static Sorted sort(long[] hashes, int[] group, int numGroups, IntBinaryOperator keyOrder) {
        int n = hashes.length;
        if (group.length != n) {
            throw new IllegalArgumentException("hashes has " + n + " rows but group has " + group.length);
        }
        // 1) Counting sort by group, carrying the hash along (sequential reads, one write stream per group).
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
        long[] keys = new long[n];
        int[] fill = java.util.Arrays.copyOf(start, numGroups);
        for (int i = 0; i < n; i++) {
            int p = fill[group[i]]++;
            rows[p] = i;
            keys[p] = hashes[i];
        }
        // 2) Sort each group by hash, then settle equal hashes by the row key.
        long[] tmpKeys = new long[largest];
        int[] tmpRows = new int[largest];
        for (int g = 0; g < numGroups; g++) {
            LongIntSort.sort(keys, rows, start[g], start[g + 1], tmpKeys, tmpRows);
            breakTies(keys, rows, start[g], start[g + 1], keyOrder);
        }
        return new Sorted(rows, start);
    }

    /** Per-row 0-based rank within its group. */
    static int[] within(long[] hashes, int[] group, int numGroups, IntBinaryOperator keyOrder) {
        Sorted sorted = sort(hashes, group, numGroups, keyOrder);
        int[] rank = new int[hashes.length];
        for (int g = 0; g < numGroups; g++) {
            for (int p = sorted.start[g]; p < sorted.start[g + 1]; p++) {
                rank[sorted.rows[p]] = p - sorted.start[g];
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
                // A 64-bit collision: about n^2 / 2^65 expected per group; sort the run by key.
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
