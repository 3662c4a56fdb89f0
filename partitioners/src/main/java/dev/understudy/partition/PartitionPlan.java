package dev.understudy.partition;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.partition.stats.LabelHistogram;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.IntBinaryOperator;

/**
 * The output of a {@link Partitioner}: for every stratum (label value, natural-id value, or (group,
 * label) key), an ordered list of (client, count) quotas that sum exactly to the stratum's row count.
 *
 * <p><b>Assignment rule.</b> A row's client is {@link #clientForRank(String, long)} of its stratum
 * and its rank, where the rank is its 0-based position within the stratum in {@link RowOrder} order
 * with the hash seed {@link #rowOrderSeed()}. Quotas are laid out in ascending client id, so ranks
 * {@code [0, q0)} go to the first client, {@code [q0, q0 + q1)} to the second, and so on. On Spark:
 *
 * <pre>
 *   h    = understudy_hash(plan.rowOrderSeed(), row_key)          -- RowOrder.hash, as a UDF
 *   rank = row_number() over (partition by stratum order by h, row_key) - 1
 *   client_id = plan.clientForRank(stratum, rank)                 -- broadcast plan, UDF
 * </pre>
 *
 * which gives exactly the assignment of {@link #assign(List)}, because both use the same functions.
 * Ranks are only meaningful over the exact set of rows the plan was built from (after the global
 * hold-out), so {@link #assignHashed} checks the per-stratum counts.
 *
 * <p><b>Natural-id plans</b> ({@link #isMapping()}): every stratum has exactly one client, so the
 * plan is a value → client mapping; apply it with a join or {@link #clientForStratum(String)}, no
 * ranks needed, and reuse it for later data sets (a test set then gets the same clients).
 *
 * <p>Plans are immutable, {@link Serializable} (for Spark broadcast) and round-trip through {@link
 * #toJson()} / {@link #fromJson(String)}.
 */
public final class PartitionPlan implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Client id of rows a plan does not cover (held out, or a natural-id value it has not seen). */
    public static final int UNASSIGNED = -1;

    static final String FORMAT = "understudy.partition-plan/1";

    private final String partitioner;
    private final SortedMap<String, Object> parameters;
    private final long seed;
    private final Stratification stratification;
    private final int numClients;
    private final String[] strata; // RowOrder.KEY_ORDER
    private final List<String> strataList;
    private final long[] stratumCounts;
    private final int[][] quotaClients; // per stratum: ascending client ids, each with a count > 0
    private final long[][] quotaEnds; // per stratum: cumulative exclusive end of each client's rank interval
    private final HashMap<String, Integer> stratumIndex;
    private final boolean mapping;

    private PartitionPlan(Builder b) {
        this.partitioner = b.partitioner;
        this.parameters = Collections.unmodifiableSortedMap(new TreeMap<>(b.parameters));
        this.seed = b.seed;
        this.stratification = b.stratification;
        this.numClients = b.numClients;
        int s = b.strata.size();
        this.strata = b.strata.toArray(new String[0]);
        this.strataList = List.of(strata);
        this.stratumCounts = new long[s];
        this.quotaClients = new int[s][];
        this.quotaEnds = new long[s][];
        this.stratumIndex = new HashMap<>(s * 2);
        for (int i = 0; i < s; i++) {
            if (i > 0 && RowOrder.compareKeys(strata[i - 1], strata[i]) >= 0) {
                throw new IllegalArgumentException("strata must be added in RowOrder.KEY_ORDER without repeats: '"
                        + strata[i - 1] + "' then '" + strata[i] + "'");
            }
            int[] clients = b.clients.get(i);
            long[] counts = b.counts.get(i);
            long[] ends = new long[clients.length];
            long sum = 0;
            for (int k = 0; k < clients.length; k++) {
                if (clients[k] < 0 || clients[k] >= numClients || (k > 0 && clients[k] <= clients[k - 1])) {
                    throw new IllegalArgumentException("stratum '" + strata[i] + "': client ids must be ascending in [0, "
                            + numClients + "), got " + Arrays.toString(clients));
                }
                if (counts[k] <= 0) {
                    throw new IllegalArgumentException("stratum '" + strata[i] + "': quota counts must be > 0");
                }
                sum = Math.addExact(sum, counts[k]);
                ends[k] = sum;
            }
            stratumCounts[i] = sum;
            quotaClients[i] = clients;
            quotaEnds[i] = ends;
            stratumIndex.put(strata[i], i);
        }
        boolean single = true;
        for (int[] clients : quotaClients) {
            single &= clients.length == 1;
        }
        this.mapping = single;
    }

    static Builder builder(String partitioner, Map<String, Object> parameters, long seed,
            Stratification stratification, int numClients) {
        return new Builder(partitioner, parameters, seed, stratification, numClients);
    }

    /** The partitioner type, e.g. {@code "dirichlet"}. */
    public String partitioner() {
        return partitioner;
    }

    /** The partitioner's parameters (snake_case keys, as in the config), seed excluded. */
    public Map<String, Object> parameters() {
        return parameters;
    }

    public long seed() {
        return seed;
    }

    public Stratification stratification() {
        return stratification;
    }

    public int numClients() {
        return numClients;
    }

    /** Strata in {@link RowOrder#KEY_ORDER}. */
    public List<String> strata() {
        return strataList;
    }

    public int numStrata() {
        return strata.length;
    }

    /** Index of {@code stratum} in {@link #strata()}, or -1 if the plan has no such stratum. */
    public int stratumIndex(String stratum) {
        Integer i = stratumIndex.get(stratum);
        return i == null ? -1 : i;
    }

    /** Rows the plan covers in {@code stratum} (0 for an unknown stratum). */
    public long stratumCount(String stratum) {
        int i = stratumIndex(stratum);
        return i < 0 ? 0 : stratumCounts[i];
    }

    /** Rows the plan covers. */
    public long numRows() {
        long total = 0;
        for (long c : stratumCounts) {
            total += c;
        }
        return total;
    }

    /** The seed of the rank hash: rows are ordered by {@code RowOrder.hash(rowOrderSeed(), key)}. */
    public long rowOrderSeed() {
        return SeededRandom.derive(seed, "row_order");
    }

    /** One (client, count) quota of a stratum. */
    public record Quota(int clientId, long count) {}

    /** The quotas of {@code stratum}, in ascending client id (the rank layout order). */
    public List<Quota> quotas(String stratum) {
        int s = requireStratum(stratum);
        List<Quota> out = new ArrayList<>(quotaClients[s].length);
        long prev = 0;
        for (int k = 0; k < quotaClients[s].length; k++) {
            out.add(new Quota(quotaClients[s][k], quotaEnds[s][k] - prev));
            prev = quotaEnds[s][k];
        }
        return out;
    }

    /** The client of the row with 0-based {@code rank} within {@code stratum}. */
    public int clientForRank(String stratum, long rank) {
        return clientForRank(requireStratum(stratum), rank);
    }

    /** As {@link #clientForRank(String, long)}, by stratum index: a binary search over the quota ends. */
    public int clientForRank(int stratumIndex, long rank) {
        long[] ends = quotaEnds[stratumIndex];
        if (rank < 0 || rank >= stratumCounts[stratumIndex]) {
            throw new IndexOutOfBoundsException("rank " + rank + " is outside stratum '" + strata[stratumIndex]
                    + "', which has " + stratumCounts[stratumIndex] + " rows");
        }
        // First quota whose exclusive end is > rank.
        int lo = 0;
        int hi = ends.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] > rank) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return quotaClients[stratumIndex][lo];
    }

    /** Whether every stratum goes to a single client (natural-id plans): a value → client mapping. */
    public boolean isMapping() {
        return mapping;
    }

    /**
     * For mapping plans: the client of every row in {@code stratum}, or {@link #UNASSIGNED} for a value
     * the plan has not seen (e.g. an author that appears only in a later data set).
     */
    public int clientForStratum(String stratum) {
        requireMapping();
        int s = stratumIndex(stratum);
        return s < 0 ? UNASSIGNED : quotaClients[s][0];
    }

    /** For mapping plans: stratum value → client id, in stratum order. */
    public Map<String, Integer> mapping() {
        requireMapping();
        TreeMap<String, Integer> m = new TreeMap<>(RowOrder.KEY_ORDER);
        for (int s = 0; s < strata.length; s++) {
            m.put(strata[s], quotaClients[s][0]);
        }
        return Collections.unmodifiableSortedMap(m);
    }

    /** Rows per client. */
    public long[] clientSizes() {
        long[] sizes = new long[numClients];
        for (int s = 0; s < strata.length; s++) {
            long prev = 0;
            for (int k = 0; k < quotaClients[s].length; k++) {
                sizes[quotaClients[s][k]] += quotaEnds[s][k] - prev;
                prev = quotaEnds[s][k];
            }
        }
        return sizes;
    }

    /**
     * For label and (group, label) plans: rows per (client, label), read off the quotas ((group,
     * label) strata are summed per label). Natural-id plans do not know labels; build their histogram
     * from the assigned rows ({@link LabelHistogram#fromAssignment}).
     */
    public LabelHistogram labelHistogram() {
        if (stratification == Stratification.NATURAL_ID) {
            throw new IllegalStateException("a " + partitioner + " plan's strata are natural-id values, not labels;"
                    + " build the histogram from the assigned rows with LabelHistogram.fromAssignment");
        }
        boolean grouped = stratification == Stratification.GROUP_LABEL;
        TreeMap<String, Integer> labelIndex = new TreeMap<>(RowOrder.KEY_ORDER);
        for (String st : strata) {
            labelIndex.put(grouped ? Stratification.labelOf(st) : st, 0);
        }
        List<String> labels = List.copyOf(labelIndex.keySet());
        for (int l = 0; l < labels.size(); l++) {
            labelIndex.put(labels.get(l), l);
        }
        long[][] counts = new long[numClients][labels.size()];
        for (int s = 0; s < strata.length; s++) {
            int l = labelIndex.get(grouped ? Stratification.labelOf(strata[s]) : strata[s]);
            long prev = 0;
            for (int k = 0; k < quotaClients[s].length; k++) {
                counts[quotaClients[s][k]][l] += quotaEnds[s][k] - prev;
                prev = quotaEnds[s][k];
            }
        }
        return new LabelHistogram(labels, counts);
    }

    /**
     * Assigns in-memory rows: the client id of each row, by position. Label plans require exactly the
     * rows the plan was built from; mapping plans accept any rows and give {@link #UNASSIGNED} to
     * unseen values.
     */
    public int[] assign(List<Row> rows) {
        int n = rows.size();
        if (isMapping()) {
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = clientForStratum(rows.get(i).stratum(stratification));
            }
            return out;
        }
        long[] hashes = new long[n];
        int[] strataOfRows = new int[n];
        long orderSeed = rowOrderSeed();
        for (int i = 0; i < n; i++) {
            Row r = rows.get(i);
            String stratum = r.stratum(stratification);
            int s = stratumIndex(stratum);
            if (s < 0) {
                throw new IllegalArgumentException("row '" + r.key() + "' is in stratum '" + stratum
                        + "', which this plan has no quota for; a label plan applies only to the rows it was built from");
            }
            strataOfRows[i] = s;
            hashes[i] = RowOrder.hash(orderSeed, r.key());
        }
        return assignHashed(hashes, strataOfRows, (a, b) -> RowOrder.compareKeys(rows.get(a).key(), rows.get(b).key()));
    }

    /**
     * The columnar core of {@link #assign(List)}: ranks rows within their strata and maps each rank
     * through {@link #clientForRank(int, long)}.
     *
     * @param hashes per-row {@code RowOrder.hash(rowOrderSeed(), key)}
     * @param stratumOfRow per-row index into {@link #strata()}
     * @param keyOrder compares two rows' keys (by row index) in {@link RowOrder#KEY_ORDER}; only called
     *     for rows of one stratum whose hashes collide
     * @return per-row client id
     * @throws IllegalArgumentException if the per-stratum row counts differ from the plan's, or two
     *     rows of a stratum share a key
     */
    public int[] assignHashed(long[] hashes, int[] stratumOfRow, IntBinaryOperator keyOrder) {
        long[] seen = new long[strata.length];
        for (int s : stratumOfRow) {
            if (s < 0 || s >= strata.length) {
                throw new IllegalArgumentException("stratum index " + s + " is outside [0, " + strata.length + ")");
            }
            seen[s]++;
        }
        for (int s = 0; s < strata.length; s++) {
            if (seen[s] != stratumCounts[s]) {
                throw new IllegalArgumentException("the plan covers " + stratumCounts[s] + " rows in stratum '" + strata[s]
                        + "' but " + seen[s] + " were given; the rows changed since the plan was built");
            }
        }
        Ranks.Sorted sorted = Ranks.sort(hashes, stratumOfRow, strata.length, keyOrder);
        int[] out = new int[hashes.length];
        // Walk each stratum in rank order: the same clientForRank calls, but cache-friendly.
        for (int s = 0; s < strata.length; s++) {
            int from = sorted.start[s];
            for (int p = from; p < sorted.start[s + 1]; p++) {
                out[sorted.rows[p]] = clientForRank(s, p - from);
            }
        }
        return out;
    }

    /** The plan as JSON (fixed field order), readable by {@link #fromJson(String)}. */
    public String toJson() {
        return new GsonBuilder().create().toJson(toJsonObject());
    }

    JsonObject toJsonObject() {
        JsonObject o = new JsonObject();
        o.addProperty("format", FORMAT);
        o.addProperty("partitioner", partitioner);
        o.add("parameters", Params.toJson(parameters));
        o.addProperty("seed", seed);
        o.addProperty("stratification", stratification.jsonName());
        o.addProperty("num_clients", numClients);
        JsonArray arr = new JsonArray();
        for (int s = 0; s < strata.length; s++) {
            JsonObject st = new JsonObject();
            st.addProperty("value", strata[s]);
            st.addProperty("count", stratumCounts[s]);
            JsonArray clients = new JsonArray();
            JsonArray counts = new JsonArray();
            long prev = 0;
            for (int k = 0; k < quotaClients[s].length; k++) {
                clients.add(quotaClients[s][k]);
                counts.add(quotaEnds[s][k] - prev);
                prev = quotaEnds[s][k];
            }
            st.add("clients", clients);
            st.add("counts", counts);
            arr.add(st);
        }
        o.add("strata", arr);
        return o;
    }

    public static PartitionPlan fromJson(String json) {
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        String format = o.get("format").getAsString();
        if (!FORMAT.equals(format)) {
            throw new IllegalArgumentException("unsupported plan format '" + format + "', expected " + FORMAT);
        }
        Builder b = builder(o.get("partitioner").getAsString(), Params.fromJson(o.getAsJsonObject("parameters")),
                o.get("seed").getAsLong(), Stratification.parse(o.get("stratification").getAsString()),
                o.get("num_clients").getAsInt());
        for (JsonElement e : o.getAsJsonArray("strata")) {
            JsonObject st = e.getAsJsonObject();
            JsonArray clients = st.getAsJsonArray("clients");
            JsonArray counts = st.getAsJsonArray("counts");
            int[] c = new int[clients.size()];
            long[] n = new long[counts.size()];
            for (int k = 0; k < c.length; k++) {
                c[k] = clients.get(k).getAsInt();
                n[k] = counts.get(k).getAsLong();
            }
            b.stratum(st.get("value").getAsString(), c, n);
            if (st.get("count").getAsLong() != Arrays.stream(n).sum()) {
                throw new IllegalArgumentException("stratum '" + st.get("value").getAsString() + "': count does not match its quotas");
            }
        }
        return b.build();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof PartitionPlan p)) {
            return false;
        }
        return partitioner.equals(p.partitioner) && parameters.equals(p.parameters) && seed == p.seed
                && stratification == p.stratification && numClients == p.numClients
                && Arrays.equals(strata, p.strata) && Arrays.deepEquals(quotaClients, p.quotaClients)
                && Arrays.deepEquals(quotaEnds, p.quotaEnds);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(new Object[] {partitioner, parameters, seed, numClients, strata, quotaEnds});
    }

    @Override
    public String toString() {
        return "PartitionPlan[" + partitioner + ", seed " + seed + ", " + numClients + " clients, "
                + strata.length + " " + stratification.jsonName() + " strata, " + numRows() + " rows]";
    }

    private int requireStratum(String stratum) {
        int s = stratumIndex(stratum);
        if (s < 0) {
            throw new IllegalArgumentException("the plan has no stratum '" + stratum + "'");
        }
        return s;
    }

    private void requireMapping() {
        if (!mapping) {
            throw new IllegalStateException("a " + partitioner + " plan splits strata over several clients;"
                    + " assign rows by rank with clientForRank");
        }
    }

    /** Collects the quotas of each stratum; strata must be added in {@link RowOrder#KEY_ORDER}. */
    static final class Builder {
        private final String partitioner;
        private final Map<String, Object> parameters;
        private final long seed;
        private final Stratification stratification;
        private final int numClients;
        private final List<String> strata = new ArrayList<>();
        private final List<int[]> clients = new ArrayList<>();
        private final List<long[]> counts = new ArrayList<>();

        private Builder(String partitioner, Map<String, Object> parameters, long seed,
                Stratification stratification, int numClients) {
            this.partitioner = partitioner;
            this.parameters = Params.normalize(parameters);
            this.seed = seed;
            this.stratification = stratification;
            this.numClients = numClients;
        }

        /** Adds a stratum from a dense per-client count vector (zeros are dropped). */
        Builder stratum(String value, long[] countByClient) {
            int nonZero = 0;
            for (long c : countByClient) {
                if (c < 0) {
                    throw new IllegalArgumentException("stratum '" + value + "': negative quota " + c);
                }
                if (c > 0) {
                    nonZero++;
                }
            }
            int[] ids = new int[nonZero];
            long[] n = new long[nonZero];
            int k = 0;
            for (int c = 0; c < countByClient.length; c++) {
                if (countByClient[c] > 0) {
                    ids[k] = c;
                    n[k++] = countByClient[c];
                }
            }
            return stratum(value, ids, n);
        }

        /** Adds a stratum from sparse quotas with ascending client ids. */
        Builder stratum(String value, int[] clientIds, long[] quotaCounts) {
            if (clientIds.length != quotaCounts.length || clientIds.length == 0) {
                throw new IllegalArgumentException("stratum '" + value + "' needs at least one quota and matching arrays");
            }
            strata.add(value);
            clients.add(clientIds.clone());
            counts.add(quotaCounts.clone());
            return this;
        }

        PartitionPlan build() {
            return new PartitionPlan(this);
        }
    }
}
