package dev.understudy.partition;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The only view of the data a {@link Partitioner} gets: how many rows each stratum (label value,
 * natural-id value, or (group, label) key {@link Stratification#groupLabelKey}) has. On Spark this is one {@code groupBy(stratum).count()}; strata are kept in
 * {@link RowOrder#KEY_ORDER}, so the order never depends on how the counts were collected.
 */
public final class StratumCounts {

    private final List<String> strata;
    private final long[] counts;
    private final long total;

    private StratumCounts(TreeMap<String, Long> sorted) {
        this.strata = List.copyOf(sorted.keySet());
        this.counts = new long[strata.size()];
        long sum = 0;
        int i = 0;
        for (long c : sorted.values()) {
            counts[i++] = c;
            sum = Math.addExact(sum, c);
        }
        this.total = sum;
    }

    /**
     * @param counts stratum value → row count; counts must be positive (a stratum with no rows is
     *     simply absent)
     */
    public static StratumCounts of(Map<String, ? extends Number> counts) {
        TreeMap<String, Long> sorted = new TreeMap<>(RowOrder.KEY_ORDER);
        for (Map.Entry<String, ? extends Number> e : counts.entrySet()) {
            if (e.getKey() == null) {
                throw new IllegalArgumentException("stratum values must not be null; map nulls to a value first");
            }
            long c = e.getValue().longValue();
            if (c <= 0) {
                throw new IllegalArgumentException("stratum '" + e.getKey() + "' has count " + c + "; counts must be > 0");
            }
            sorted.put(e.getKey(), c);
        }
        return new StratumCounts(sorted);
    }

    /** Counts the rows of each stratum (label, natural-id value or (group, label) key, by {@code stratification}). */
    public static StratumCounts ofRows(Collection<Row> rows, Stratification stratification) {
        TreeMap<String, Long> sorted = new TreeMap<>(RowOrder.KEY_ORDER);
        for (Row r : rows) {
            sorted.merge(r.stratum(stratification), 1L, Long::sum);
        }
        return new StratumCounts(sorted);
    }

    /** Strata in {@link RowOrder#KEY_ORDER}. */
    public List<String> strata() {
        return strata;
    }

    public int size() {
        return strata.size();
    }

    public long count(int stratumIndex) {
        return counts[stratumIndex];
    }

    public long count(String stratum) {
        int i = Collections.binarySearch(strata, stratum, RowOrder.KEY_ORDER);
        return i >= 0 ? counts[i] : 0;
    }

    public long total() {
        return total;
    }

    /** A copy of the counts, in stratum order. */
    public long[] counts() {
        return counts.clone();
    }

    /** Stratum → count in stratum order. */
    public Map<String, Long> asMap() {
        TreeMap<String, Long> m = new TreeMap<>(RowOrder.KEY_ORDER);
        for (int i = 0; i < counts.length; i++) {
            m.put(strata.get(i), counts[i]);
        }
        return Collections.unmodifiableSortedMap(m);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StratumCounts other && strata.equals(other.strata)
                && java.util.Arrays.equals(counts, other.counts);
    }

    @Override
    public int hashCode() {
        return strata.hashCode() * 31 + java.util.Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "StratumCounts" + asMap();
    }
}
