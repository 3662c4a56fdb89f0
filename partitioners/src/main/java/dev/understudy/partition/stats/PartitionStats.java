package dev.understudy.partition.stats;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.Arrays;
import java.util.Locale;

/**
 * Per-client sizes and label histograms plus heterogeneity measures of a partition.
 *
 * <p>Every distance compares a client's label distribution with the global one (all assigned rows).
 * Means are unweighted over non-empty clients, so each client counts once, as in the non-IID
 * literature's "average client". Measures:
 *
 * <ul>
 *   <li>Jensen–Shannon divergence (bits, in [0, 1]) and distance (its square root);
 *   <li>effective number of labels per client, {@code exp(entropy)};
 *   <li>distinct labels per client;
 *   <li>earth mover's distance, only when every label parses as a number (ordinal labels).
 * </ul>
 *
 * <pre>
 *   PartitionStats stats = PartitionStats.of(plan.labelHistogram());
 *   System.out.println(stats.toTable());
 *   Files.writeString(path, stats.toJson());
 * </pre>
 */
public final class PartitionStats {

    private final LabelHistogram histogram;
    private final long[] sizes;
    private final int[] distinctLabels;
    private final double[] jsDivergence; // NaN for empty clients
    private final double[] effectiveLabels; // NaN for empty clients
    private final double[] emd; // null unless labels are numeric
    private final double[] global;
    private final int emptyClients;

    private PartitionStats(LabelHistogram histogram) {
        this.histogram = histogram;
        int n = histogram.numClients();
        this.sizes = histogram.clientSizes();
        this.global = Divergence.normalize(histogram.labelTotals());
        double[] positions = numericPositions(histogram);
        int[] byPosition = positions == null ? null : orderBy(positions);
        double[] sortedPositions = positions == null ? null : permute(positions, byPosition);
        double[] sortedGlobal = positions == null ? null : permute(global, byPosition);
        this.distinctLabels = new int[n];
        this.jsDivergence = new double[n];
        this.effectiveLabels = new double[n];
        this.emd = positions == null ? null : new double[n];
        int empty = 0;
        for (int c = 0; c < n; c++) {
            long[] counts = histogram.clientCounts(c);
            for (long v : counts) {
                if (v > 0) {
                    distinctLabels[c]++;
                }
            }
            if (sizes[c] == 0) {
                empty++;
                jsDivergence[c] = Double.NaN;
                effectiveLabels[c] = Double.NaN;
                if (emd != null) {
                    emd[c] = Double.NaN;
                }
                continue;
            }
            double[] p = Divergence.normalize(counts);
            jsDivergence[c] = Divergence.jsDivergence(p, global);
            effectiveLabels[c] = Divergence.effectiveNumber(p);
            if (emd != null) {
                emd[c] = Divergence.emd1d(permute(p, byPosition), sortedGlobal, sortedPositions);
            }
        }
        this.emptyClients = empty;
    }

    public static PartitionStats of(LabelHistogram histogram) {
        return new PartitionStats(histogram);
    }

    public LabelHistogram histogram() {
        return histogram;
    }

    public int numClients() {
        return sizes.length;
    }

    public long totalRows() {
        return Arrays.stream(sizes).sum();
    }

    public long[] clientSizes() {
        return sizes.clone();
    }

    public int emptyClients() {
        return emptyClients;
    }

    public long minSize() {
        return Arrays.stream(sizes).min().orElse(0);
    }

    public long maxSize() {
        return Arrays.stream(sizes).max().orElse(0);
    }

    public double medianSize() {
        if (sizes.length == 0) {
            return 0;
        }
        long[] s = sizes.clone();
        Arrays.sort(s);
        int mid = s.length / 2;
        return s.length % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2.0;
    }

    public double meanSize() {
        return sizes.length == 0 ? 0 : (double) totalRows() / sizes.length;
    }

    /** Population standard deviation of client sizes. */
    public double stdSize() {
        double mean = meanSize();
        double ss = 0;
        for (long s : sizes) {
            ss += (s - mean) * (s - mean);
        }
        return sizes.length == 0 ? 0 : Math.sqrt(ss / sizes.length);
    }

    /** Mean JS divergence (bits) of client label distributions to the global one. */
    public double meanJsDivergence() {
        return meanOverNonEmpty(jsDivergence, false);
    }

    /** Mean JS distance (square root of the divergence) to the global distribution. */
    public double meanJsDistance() {
        return meanOverNonEmpty(jsDivergence, true);
    }

    public double jsDistance(int client) {
        return Math.sqrt(jsDivergence[client]);
    }

    public double meanEffectiveLabels() {
        return meanOverNonEmpty(effectiveLabels, false);
    }

    public double effectiveLabels(int client) {
        return effectiveLabels[client];
    }

    /** {@code exp(entropy)} of the global label distribution. */
    public double globalEffectiveLabels() {
        return Divergence.effectiveNumber(global);
    }

    public int distinctLabels(int client) {
        return distinctLabels[client];
    }

    public int minDistinctLabels() {
        return Arrays.stream(distinctLabels).min().orElse(0);
    }

    public int maxDistinctLabels() {
        return Arrays.stream(distinctLabels).max().orElse(0);
    }

    public double meanDistinctLabels() {
        return Arrays.stream(distinctLabels).average().orElse(0);
    }

    /** Whether labels are numeric, so that {@link #meanEmd()} is defined. */
    public boolean hasOrdinalLabels() {
        return emd != null;
    }

    /** Mean earth mover's distance to the global distribution; NaN unless labels are numeric. */
    public double meanEmd() {
        return emd == null ? Double.NaN : meanOverNonEmpty(emd, false);
    }

    /** The summary plus the first 20 clients. */
    public String toTable() {
        return toTable(20);
    }

    /** A fixed-width text report: the summary, then one line per client for the first {@code maxClients}. */
    public String toTable(int maxClients) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Partition statistics: %,d clients, %,d rows, %,d labels%n",
                numClients(), totalRows(), histogram.numLabels()));
        sb.append(String.format(Locale.ROOT, "  client size        min %,d | median %,.1f | max %,d | mean %,.1f | std %,.1f%n",
                minSize(), medianSize(), maxSize(), meanSize(), stdSize()));
        if (emptyClients > 0) {
            sb.append(String.format(Locale.ROOT, "  empty clients      %,d%n", emptyClients));
        }
        sb.append(String.format(Locale.ROOT, "  labels per client  min %d | mean %.2f | max %d%n",
                minDistinctLabels(), meanDistinctLabels(), maxDistinctLabels()));
        sb.append(String.format(Locale.ROOT, "  effective labels   mean %.3f (global %.3f)%n",
                meanEffectiveLabels(), globalEffectiveLabels()));
        sb.append(String.format(Locale.ROOT, "  JS to global       mean divergence %.4f | mean distance %.4f%n",
                meanJsDivergence(), meanJsDistance()));
        if (emd != null) {
            sb.append(String.format(Locale.ROOT, "  EMD to global      mean %.4f (numeric labels)%n", meanEmd()));
        }
        sb.append(String.format(Locale.ROOT, "%n%8s %12s %7s %10s %9s  %s%n",
                "client", "size", "labels", "eff.labels", "JS dist.", "histogram"));
        int shown = Math.min(maxClients, numClients());
        for (int c = 0; c < shown; c++) {
            sb.append(String.format(Locale.ROOT, "%8d %12d %7d %10.3f %9.4f  %s%n",
                    c, sizes[c], distinctLabels[c], effectiveLabels[c], jsDistance(c), histogramText(c, 8)));
        }
        if (shown < numClients()) {
            sb.append(String.format(Locale.ROOT, "(%,d more clients; toJson() has them all)%n", numClients() - shown));
        }
        return sb.toString();
    }

    /** All statistics and every client's histogram as JSON, with a fixed field order. */
    public String toJson() {
        return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(toJsonObject());
    }

    /** The JSON tree of {@link #toJson()}. */
    public JsonObject toJsonObject() {
        JsonObject o = toSummaryJsonObject();
        JsonArray labels = new JsonArray();
        histogram.labels().forEach(labels::add);
        o.add("labels", labels);
        JsonArray clients = new JsonArray();
        for (int c = 0; c < numClients(); c++) {
            JsonObject client = new JsonObject();
            client.addProperty("id", c);
            client.addProperty("size", sizes[c]);
            client.addProperty("distinct_labels", distinctLabels[c]);
            if (sizes[c] > 0) {
                client.addProperty("effective_labels", effectiveLabels[c]);
                client.addProperty("js_distance", jsDistance(c));
            }
            JsonArray counts = new JsonArray();
            for (long v : histogram.clientCounts(c)) {
                counts.add(v);
            }
            client.add("label_counts", counts);
            clients.add(client);
        }
        o.add("clients", clients);
        return o;
    }

    /** The summary measures only (no per-client lists), for embedding into a manifest. */
    public JsonObject toSummaryJsonObject() {
        JsonObject o = new JsonObject();
        o.addProperty("num_clients", numClients());
        o.addProperty("num_rows", totalRows());
        o.addProperty("num_labels", histogram.numLabels());
        o.addProperty("empty_clients", emptyClients);
        o.addProperty("min_size", minSize());
        o.addProperty("median_size", medianSize());
        o.addProperty("max_size", maxSize());
        o.addProperty("mean_size", meanSize());
        o.addProperty("std_size", stdSize());
        o.addProperty("min_labels_per_client", minDistinctLabels());
        o.addProperty("mean_labels_per_client", meanDistinctLabels());
        o.addProperty("max_labels_per_client", maxDistinctLabels());
        o.addProperty("mean_effective_labels", meanEffectiveLabels());
        o.addProperty("global_effective_labels", globalEffectiveLabels());
        o.addProperty("mean_js_divergence", meanJsDivergence());
        o.addProperty("mean_js_distance", meanJsDistance());
        if (emd != null) {
            o.addProperty("mean_emd", meanEmd());
        }
        return o;
    }

    private String histogramText(int client, int maxLabels) {
        StringBuilder sb = new StringBuilder();
        int shown = 0;
        int nonZero = 0;
        for (int l = 0; l < histogram.numLabels(); l++) {
            long v = histogram.count(client, l);
            if (v == 0) {
                continue;
            }
            nonZero++;
            if (shown < maxLabels) {
                String name = histogram.labels().get(l);
                sb.append(shown == 0 ? "" : " ").append(name.isEmpty() ? "<none>" : name).append(':').append(v);
                shown++;
            }
        }
        if (nonZero > shown) {
            sb.append(" …(+").append(nonZero - shown).append(')');
        }
        return sb.toString();
    }

    private double meanOverNonEmpty(double[] values, boolean sqrt) {
        double sum = 0;
        int n = 0;
        for (int c = 0; c < values.length; c++) {
            if (sizes[c] > 0) {
                sum += sqrt ? Math.sqrt(values[c]) : values[c];
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** Label values as numbers, or null if any label is not a finite number or two are equal. */
    private static double[] numericPositions(LabelHistogram h) {
        if (h.numLabels() < 2) {
            return null;
        }
        double[] x = new double[h.numLabels()];
        for (int l = 0; l < x.length; l++) {
            try {
                x[l] = Double.parseDouble(h.labels().get(l).trim());
            } catch (NumberFormatException e) {
                return null;
            }
            if (!Double.isFinite(x[l])) {
                return null;
            }
        }
        double[] s = sorted(x);
        for (int i = 1; i < s.length; i++) {
            if (s[i] == s[i - 1]) {
                return null;
            }
        }
        return x;
    }

    private static double[] sorted(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s;
    }

    /** Label indices in ascending position. */
    private static int[] orderBy(double[] positions) {
        Integer[] idx = new Integer[positions.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Double.compare(positions[a], positions[b]));
        int[] order = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            order[i] = idx[i];
        }
        return order;
    }

    private static double[] permute(double[] values, int[] order) {
        double[] out = new double[order.length];
        for (int i = 0; i < order.length; i++) {
            out[i] = values[order[i]];
        }
        return out;
    }
}
