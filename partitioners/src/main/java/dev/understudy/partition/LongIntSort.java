package dev.understudy.partition;

/**
 * Sorts a range of {@code long} keys (signed order) and carries an {@code int} payload along,
 * without boxing.
 *
 * <p>This is the in-memory equivalent of Spark's sort by the hash column. The order of equal keys is
 * not specified here; {@link Ranks} resolves equal hashes by the row key.
 */
final class LongIntSort {

    private static final int INSERTION_LIMIT = 48;

    private LongIntSort() {}

    /**
     * Sorts {@code keys[from, to)} ascending, permuting {@code values} identically.
     *
     * <p>Row-order hashes are uniform, so one most-significant-digit bucket pass leaves buckets of a
     * handful of keys, which insertion sort finishes in cache: expected linear time. A bucket that is
     * unexpectedly large (skewed keys) falls back to an LSD radix sort, so the worst case stays
     * O(n · 64 / digit bits).
     *
     * @param tmpKeys scratch space of at least {@code to - from} entries
     * @param tmpValues scratch space of at least {@code to - from} entries
     */
    static void sort(long[] keys, int[] values, int from, int to, long[] tmpKeys, int[] tmpValues) {
        int n = to - from;
        if (n <= INSERTION_LIMIT) {
            insertionSort(keys, values, from, to);
            return;
        }
        // About 8 keys per bucket, between 2^4 and 2^16 buckets.
        int bits = Math.max(4, Math.min(16, 31 - Integer.numberOfLeadingZeros(n / 8)));
        int buckets = 1 << bits;
        int shift = 64 - bits;
        int[] start = new int[buckets + 1];
        for (int i = from; i < to; i++) {
            start[topDigit(keys[i], shift) + 1]++;
        }
        for (int b = 0; b < buckets; b++) {
            start[b + 1] += start[b];
        }
        int[] fill = java.util.Arrays.copyOf(start, buckets);
        for (int i = from; i < to; i++) {
            long k = keys[i];
            int pos = fill[topDigit(k, shift)]++;
            tmpKeys[pos] = k;
            tmpValues[pos] = values[i];
        }
        System.arraycopy(tmpKeys, 0, keys, from, n);
        System.arraycopy(tmpValues, 0, values, from, n);
        for (int b = 0; b < buckets; b++) {
            int lo = from + start[b];
            int hi = from + start[b + 1];
            if (hi - lo <= INSERTION_LIMIT) {
                insertionSort(keys, values, lo, hi);
            } else {
                radixSort(keys, values, lo, hi, tmpKeys, tmpValues);
            }
        }
    }

    /** LSD radix sort, 8 bits per pass; passes in which every key has the same digit are skipped. */
    static void radixSort(long[] keys, int[] values, int from, int to, long[] tmpKeys, int[] tmpValues) {
        int n = to - from;
        int bits = 8;
        int buckets = 1 << bits;
        int mask = buckets - 1;
        int[] count = new int[buckets];
        long[] srcK = keys;
        int[] srcV = values;
        int srcOff = from;
        long[] dstK = tmpKeys;
        int[] dstV = tmpValues;
        int dstOff = 0;
        for (int shift = 0; shift < 64; shift += bits) {
            java.util.Arrays.fill(count, 0);
            for (int i = 0; i < n; i++) {
                count[digit(srcK[srcOff + i], shift, mask)]++;
            }
            if (count[digit(srcK[srcOff], shift, mask)] == n) {
                continue;
            }
            int sum = 0;
            for (int b = 0; b < buckets; b++) {
                int c = count[b];
                count[b] = sum;
                sum += c;
            }
            for (int i = 0; i < n; i++) {
                long k = srcK[srcOff + i];
                int pos = dstOff + count[digit(k, shift, mask)]++;
                dstK[pos] = k;
                dstV[pos] = srcV[srcOff + i];
            }
            long[] tk = srcK;
            srcK = dstK;
            dstK = tk;
            int[] tv = srcV;
            srcV = dstV;
            dstV = tv;
            int off = srcOff;
            srcOff = dstOff;
            dstOff = off;
        }
        if (srcK != keys) {
            System.arraycopy(srcK, srcOff, keys, from, n);
            System.arraycopy(srcV, srcOff, values, from, n);
        }
    }

    private static int topDigit(long key, int shift) {
        return (int) ((key ^ Long.MIN_VALUE) >>> shift);
    }

    private static int digit(long key, int shift, int mask) {
        // Flipping the sign bit turns signed order into unsigned order for the radix passes.
        return (int) (((key ^ Long.MIN_VALUE) >>> shift) & mask);
    }

    private static void insertionSort(long[] keys, int[] values, int from, int to) {
        for (int i = from + 1; i < to; i++) {
            long k = keys[i];
            int v = values[i];
            int j = i - 1;
            while (j >= from && keys[j] > k) {
                keys[j + 1] = keys[j];
                values[j + 1] = values[j];
                j--;
            }
            keys[j + 1] = k;
            values[j + 1] = v;
        }
    }
}
