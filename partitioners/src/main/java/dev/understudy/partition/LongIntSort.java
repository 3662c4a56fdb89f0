package dev.understudy.partition;

/**
 * Sorts a range of {@code long} keys (signed order) and carries an {@code int} payload along,
 * without boxing: LSD radix sort for large ranges, insertion sort for small ones.
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
     * @param tmpKeys scratch space of at least {@code to - from} entries
     * @param tmpValues scratch space of at least {@code to - from} entries
     */
    static void sort(long[] keys, int[] values, int from, int to, long[] tmpKeys, int[] tmpValues) {
        int n = to - from;
        if (n <= INSERTION_LIMIT) {
            insertionSort(keys, values, from, to);
            return;
        }
        // Large ranges: 4 passes of 16 bits; medium ranges: 8 passes of 8 bits (smaller count tables).
        int bits = n >= (1 << 16) ? 16 : 8;
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
            // A pass where every key has the same digit would only copy; skip it.
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
            int to2 = srcOff;
            srcOff = dstOff;
            dstOff = to2;
        }
        if (srcK != keys) {
            System.arraycopy(srcK, srcOff, keys, from, n);
            System.arraycopy(srcV, srcOff, values, from, n);
        }
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
