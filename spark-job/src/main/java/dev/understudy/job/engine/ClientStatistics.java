package dev.understudy.job.engine;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import java.io.Serializable;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sum over a round's successful clients of the named statistics their {@link ClientTask}
 * returned ({@link ClientResult#statistics()}): linear, mergeable arrays such as per-layer
 * per-neuron activation counts plus a token count (FedPFT's neuron re-alignment, methods.md). The
 * engine sums them exactly like the adapter partial sums: within a partition in client-id order,
 * then the partitions' sums in partition order on the driver (collecting strategies: over all
 * clients in client-id order), so the driver holds one array per name and a rerun gives the same
 * bits. A client may omit a name (it adds nothing); the same name must always have the same length.
 */
public final class ClientStatistics implements Serializable {
    private static final long serialVersionUID = 1L;

    private final TreeMap<String, double[]> sums = new TreeMap<>();
    private long clients;

    /** No statistics. */
    public static ClientStatistics empty() {
        return new ClientStatistics();
    }

    /** Adds one client's statistics (modifies and returns this). */
    public ClientStatistics add(String clientId, Map<String, double[]> stats) {
        if (stats.isEmpty()) {
            return this;
        }
        clients++;
        for (Map.Entry<String, double[]> e : new TreeMap<>(stats).entrySet()) {
            double[] v = e.getValue();
            for (int i = 0; i < v.length; i++) {
                checkArgument(Double.isFinite(v[i]), "client %s returned a non-finite statistic %s[%s] = %s", clientId,
                        e.getKey(), i, v[i]);
            }
            addInto(e.getKey(), v, "client " + clientId);
        }
        return this;
    }

    /** Adds another partial sum (modifies and returns this). */
    public ClientStatistics merge(ClientStatistics other) {
        clients += other.clients;
        other.sums.forEach((k, v) -> addInto(k, v, "a partition"));
        return this;
    }

    private void addInto(String name, double[] v, String from) {
        double[] s = sums.get(name);
        if (s == null) {
            sums.put(name, v.clone());
            return;
        }
        checkArgument(s.length == v.length, "%s returned statistic %s with %s values, others %s; a statistic must"
                + " have one length in a round", from, name, v.length, s.length);
        for (int i = 0; i < s.length; i++) {
            s[i] += v[i];
        }
    }

    /** The summed statistics by name (sorted; read-only view). */
    public Map<String, double[]> sums() {
        return Collections.unmodifiableMap(sums);
    }

    /** The sum of statistic {@code name}, or null when no client returned it. */
    public double[] get(String name) {
        double[] s = sums.get(name);
        return s == null ? null : s.clone();
    }

    /** Clients that contributed at least one statistic. */
    public long clients() {
        return clients;
    }

    public boolean isEmpty() {
        return sums.isEmpty();
    }

    /** Bytes on the wire of these values (8 per double). */
    static long bytes(Map<String, double[]> stats) {
        long n = 0;
        for (double[] v : stats.values()) {
            n += 8L * v.length;
        }
        return n;
    }
}
