package dev.understudy.partition;

import java.util.Arrays;

/**
 * Integer apportionment: split a whole number of rows over parties in proportion to real weights,
 * so that the parts sum <em>exactly</em> to the total.
 *
 * <p>Largest-remainder (Hamilton) method with optional upper caps: parties whose proportional share
 * reaches their cap get the cap and drop out, the rest is re-shared among the others
 * ("water-filling"), then every remaining party gets the floor of its share and the leftover units
 * go, one each, to the largest fractional parts. Ties between equal fractional parts are broken by a
 * seeded pseudo-random priority, so no party (e.g. client 0) is favoured systematically.
 *
 * <p>Deterministic: Java floating point is strict since 17, and only {@code +,-,*,/} are used.
 */
final class Apportion {

    private Apportion() {}

    /** Uncapped largest remainder; parties with weight 0 get 0. */
    static long[] largestRemainder(long total, double[] weights, long tieSeed) {
        return largestRemainder(total, weights, null, tieSeed);
    }

    /**
     * Capped largest remainder.
     *
     * @param total the number of units to split, ≥ 0
     * @param weights non-negative finite weights; parties with weight 0 get 0
     * @param caps per-party upper bounds, or null for none
     * @param tieSeed seed for breaking ties between equal fractional parts
     * @return parts with {@code sum == total}, {@code 0 <= part[i] <= caps[i]}
     * @throws IllegalArgumentException if the positive-weight parties cannot hold {@code total}
     */
    static long[] largestRemainder(long total, double[] weights, long[] caps, long tieSeed) {
        int n = weights.length;
        if (total < 0) {
            throw new IllegalArgumentException("total must be >= 0, got " + total);
        }
        if (caps != null && caps.length != n) {
            throw new IllegalArgumentException("caps has " + caps.length + " entries, weights " + n);
        }
        long[] parts = new long[n];
        if (total == 0) {
            return parts;
        }
        boolean[] active = new boolean[n];
        long capacity = 0;
        for (int i = 0; i < n; i++) {
            double w = weights[i];
            if (!(w >= 0) || Double.isInfinite(w)) {
                throw new IllegalArgumentException("weight " + i + " must be finite and >= 0, got " + w);
            }
            long cap = cap(caps, i);
            active[i] = w > 0 && cap > 0;
            if (active[i]) {
                capacity = saturatingAdd(capacity, cap);
            }
        }
        if (capacity < total) {
            throw new IllegalArgumentException(
                    "cannot apportion " + total + " units: the parties with positive weight hold only " + capacity);
        }

        // 1) Water-filling: parties whose share reaches their cap are fixed at the cap. Removing them
        //    can only raise the others' shares, so a fixed party never needs to be revisited.
        long remaining = total;
        double weightSum;
        while (true) {
            weightSum = 0;
            for (int i = 0; i < n; i++) {
                if (active[i]) {
                    weightSum += weights[i];
                }
            }
            boolean capped = false;
            long removed = 0;
            for (int i = 0; i < n; i++) {
                if (active[i] && share(remaining, weights[i], weightSum) >= cap(caps, i)) {
                    parts[i] = cap(caps, i);
                    removed += parts[i];
                    active[i] = false;
                    capped = true;
                }
            }
            remaining -= removed;
            if (!capped || remaining == 0) {
                break;
            }
        }
        if (remaining == 0) {
            return parts;
        }

        // 2) Floors, then the leftover to the largest fractional parts.
        int activeCount = 0;
        double[] fraction = new double[n];
        long floorSum = 0;
        for (int i = 0; i < n; i++) {
            if (!active[i]) {
                continue;
            }
            activeCount++;
            double s = share(remaining, weights[i], weightSum);
            long f = Math.min((long) Math.floor(s), cap(caps, i));
            parts[i] = f;
            fraction[i] = s - f;
            floorSum += f;
        }
        int[] order = orderByFractionDescending(active, activeCount, fraction, tieSeed);
        long leftover = remaining - floorSum;
        // Rounding in the shares can make the leftover exceed the party count or go negative by a few
        // units; the loops below still terminate because capacity >= remaining and parts >= 0.
        while (leftover > 0) {
            for (int k = 0; k < order.length && leftover > 0; k++) {
                int i = order[k];
                if (parts[i] < cap(caps, i)) {
                    parts[i]++;
                    leftover--;
                }
            }
        }
        while (leftover < 0) {
            for (int k = order.length - 1; k >= 0 && leftover < 0; k--) {
                int i = order[k];
                if (parts[i] > 0) {
                    parts[i]--;
                    leftover++;
                }
            }
        }
        return parts;
    }

    private static double share(long total, double weight, double weightSum) {
        return total * (weight / weightSum);
    }

    private static long cap(long[] caps, int i) {
        return caps == null ? Long.MAX_VALUE : caps[i];
    }

    private static long saturatingAdd(long a, long b) {
        long s = a + b;
        return s < 0 ? Long.MAX_VALUE : s;
    }

    private static int[] orderByFractionDescending(boolean[] active, int activeCount, double[] fraction, long tieSeed) {
        // Sort (fraction desc, priority asc) on boxed indices: party counts here are at most the
        // client count (thousands) and this runs once per stratum, so boxing is cheap enough.
        Integer[] idx = new Integer[activeCount];
        long[] priority = new long[fraction.length];
        int k = 0;
        for (int i = 0; i < fraction.length; i++) {
            if (active[i]) {
                idx[k++] = i;
                priority[i] = SeededRandom.mix64(tieSeed + i * 0x9E3779B97F4A7C15L);
            }
        }
        Arrays.sort(idx, (a, b) -> {
            int c = Double.compare(fraction[b], fraction[a]);
            return c != 0 ? c : Long.compare(priority[a], priority[b]);
        });
        int[] order = new int[activeCount];
        for (int i = 0; i < activeCount; i++) {
            order[i] = idx[i];
        }
        return order;
    }
}
