package dev.understudy.partition;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.partition.stats.LabelHistogram;
import dev.understudy.partition.stats.PartitionStats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;

/**
 * A self-describing record of a split, written next to the run's artifacts: partitioner, parameters,
 * seed, row count, a digest of the row keys, per-client sizes, eval sizes and label histograms, and
 * the heterogeneity summary. A rerun builds its own manifest and calls {@link #verify} to prove it
 * got the same split; a notebook reads the JSON to plot it.
 *
 * <p><b>Row-key digest</b>: the XOR over all input rows (held-out rows included) of {@code
 * RowOrder.hash(0, rowKey)}, written as 16 hex digits. XOR is order-independent, so Spark computes
 * it with {@code bit_xor(understudy_hash(0, key))} in one aggregation. Row keys are unique, so
 * duplicate keys cancelling out is not a concern; the row count is recorded beside it. The digest
 * seed is fixed (0), independent of the partitioning seed, so runs with different seeds can still
 * show they used the same rows.
 *
 * <p><b>Plan digest</b>: {@code RowOrder.hash(0, plan.toJson())}, covering every quota (and the full
 * value → client mapping of natural-id plans) without writing it out.
 *
 * <p>JSON field order is fixed, so two manifests of the same split are byte-identical.
 */
public final class Manifest {

    static final String FORMAT = "understudy.partition-manifest/1";

    /** Seed of {@link #keyHash(String)}; part of the digest contract, never to change. */
    public static final long DIGEST_SEED = 0L;

    private static final int MAX_REPORTED_CLIENT_DIFFERENCES = 10;

    private final String partitioner;
    private final SortedMap<String, Object> parameters;
    private final long seed;
    private final Stratification stratification;
    private final long numRows;
    private final long rowKeyDigest;
    private final double holdoutFraction;
    private final long heldOutRows;
    private final double evalFraction;
    private final long planDigest;
    private final List<String> labels;
    private final long[][] histogram; // (client, label)
    private final long[] evalSizes;
    private final JsonObject statsSummary; // informational: derived from the histogram, not verified

    private Manifest(String partitioner, Map<String, Object> parameters, long seed, Stratification stratification,
            long numRows, long rowKeyDigest, double holdoutFraction, long heldOutRows, double evalFraction,
            long planDigest, List<String> labels, long[][] histogram, long[] evalSizes, JsonObject statsSummary) {
        this.partitioner = partitioner;
        this.parameters = Params.normalize(parameters);
        this.seed = seed;
        this.stratification = stratification;
        this.numRows = numRows;
        this.rowKeyDigest = rowKeyDigest;
        this.holdoutFraction = holdoutFraction;
        this.heldOutRows = heldOutRows;
        this.evalFraction = evalFraction;
        this.planDigest = planDigest;
        this.labels = List.copyOf(labels);
        this.histogram = histogram;
        this.evalSizes = evalSizes;
        this.statsSummary = statsSummary;
    }

    /**
     * @param plan the plan (over the rows left after the global hold-out)
     * @param numRows all input rows, held-out ones included
     * @param rowKeyDigest {@link #rowKeyDigest(Collection)} of all input rows
     * @param heldOutRows rows removed by the global hold-out
     * @param histogram rows per (client, label) after partitioning
     * @param split the per-client train/eval split
     */
    public static Manifest create(PartitionPlan plan, long numRows, long rowKeyDigest, GlobalHoldout holdout,
            long heldOutRows, LabelHistogram histogram, TrainEvalSplit split) {
        if (histogram.numClients() != plan.numClients()) {
            throw new IllegalArgumentException("the histogram has " + histogram.numClients()
                    + " clients but the plan " + plan.numClients());
        }
        long[][] counts = new long[histogram.numClients()][];
        long[] eval = new long[histogram.numClients()];
        for (int c = 0; c < counts.length; c++) {
            counts[c] = histogram.clientCounts(c);
            eval[c] = split.clientEvalCount(c);
        }
        return new Manifest(plan.partitioner(), plan.parameters(), plan.seed(), plan.stratification(), numRows,
                rowKeyDigest, holdout.fraction(), heldOutRows, split.evalFraction(), planDigest(plan),
                histogram.labels(), counts, eval, PartitionStats.of(histogram).toSummaryJsonObject());
    }

    /** The per-key hash the digest combines: {@code RowOrder.hash(DIGEST_SEED, rowKey)}. */
    public static long keyHash(String rowKey) {
        return RowOrder.hash(DIGEST_SEED, rowKey);
    }

    /** XOR of {@link #keyHash(String)} over the rows' keys. */
    public static long rowKeyDigest(Collection<Row> rows) {
        long digest = 0;
        for (Row r : rows) {
            digest ^= keyHash(r.key());
        }
        return digest;
    }

    public static long planDigest(PartitionPlan plan) {
        return RowOrder.hash(DIGEST_SEED, plan.toJson());
    }

    public String partitioner() {
        return partitioner;
    }

    public Map<String, Object> parameters() {
        return parameters;
    }

    public long seed() {
        return seed;
    }

    public long numRows() {
        return numRows;
    }

    public long rowKeyDigest() {
        return rowKeyDigest;
    }

    public long heldOutRows() {
        return heldOutRows;
    }

    public int numClients() {
        return histogram.length;
    }

    public List<String> labels() {
        return labels;
    }

    public long clientSize(int client) {
        return Arrays.stream(histogram[client]).sum();
    }

    public long clientEvalSize(int client) {
        return evalSizes[client];
    }

    public long[] clientLabelCounts(int client) {
        return histogram[client].clone();
    }

    /** The result of {@link #verify}: empty differences means the same split. */
    public record Verification(List<String> differences) {
        public Verification {
            differences = List.copyOf(differences);
        }

        public boolean matches() {
            return differences.isEmpty();
        }

        /** One line per difference, or "manifests match". */
        public String describe() {
            return matches() ? "manifests match" : "manifests differ:\n  " + String.join("\n  ", differences);
        }
    }

    /**
     * Compares this (expected, e.g. the recorded manifest) with {@code actual} (e.g. a rerun's).
     * Reports every top-level difference and up to 10 per-client ones, each as "field: expected X,
     * found Y", with a hint where the cause is clear.
     */
    public Verification verify(Manifest actual) {
        List<String> d = new ArrayList<>();
        compare(d, "partitioner", partitioner, actual.partitioner);
        compare(d, "parameters", parameters, actual.parameters);
        compare(d, "seed", seed, actual.seed);
        compare(d, "stratification", stratification.jsonName(), actual.stratification.jsonName());
        compare(d, "num_rows", numRows, actual.numRows);
        if (rowKeyDigest != actual.rowKeyDigest) {
            d.add("row_key_digest: expected " + hex(rowKeyDigest) + ", found " + hex(actual.rowKeyDigest)
                    + " (the set of row keys differs)");
        }
        compare(d, "holdout_fraction", holdoutFraction, actual.holdoutFraction);
        compare(d, "held_out_rows", heldOutRows, actual.heldOutRows);
        compare(d, "eval_fraction", evalFraction, actual.evalFraction);
        compare(d, "num_clients", numClients(), actual.numClients());
        compare(d, "labels", labels, actual.labels);
        if (planDigest != actual.planDigest) {
            d.add("plan_digest: expected " + hex(planDigest) + ", found " + hex(actual.planDigest)
                    + " (the quotas differ)");
        }
        if (numClients() == actual.numClients() && labels.equals(actual.labels)) {
            int clientDiffs = 0;
            for (int c = 0; c < numClients(); c++) {
                boolean differs = !Arrays.equals(histogram[c], actual.histogram[c]) || evalSizes[c] != actual.evalSizes[c];
                if (!differs) {
                    continue;
                }
                clientDiffs++;
                if (clientDiffs <= MAX_REPORTED_CLIENT_DIFFERENCES) {
                    d.add(String.format(Locale.ROOT, "client %d: expected size %d (eval %d) with label counts %s,"
                                    + " found size %d (eval %d) with label counts %s",
                            c, clientSize(c), evalSizes[c], Arrays.toString(histogram[c]), actual.clientSize(c),
                            actual.evalSizes[c], Arrays.toString(actual.histogram[c])));
                }
            }
            if (clientDiffs > MAX_REPORTED_CLIENT_DIFFERENCES) {
                d.add("... and " + (clientDiffs - MAX_REPORTED_CLIENT_DIFFERENCES) + " more clients differ ("
                        + clientDiffs + " in all)");
            }
        }
        return new Verification(d);
    }

    /** Pretty JSON with a fixed field order. */
    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("format", FORMAT);
        o.addProperty("partitioner", partitioner);
        o.add("parameters", Params.toJson(parameters));
        o.addProperty("seed", seed);
        o.addProperty("stratification", stratification.jsonName());
        o.addProperty("num_rows", numRows);
        o.addProperty("row_key_digest", hex(rowKeyDigest));
        o.addProperty("holdout_fraction", holdoutFraction);
        o.addProperty("held_out_rows", heldOutRows);
        o.addProperty("eval_fraction", evalFraction);
        o.addProperty("plan_digest", hex(planDigest));
        o.addProperty("num_clients", numClients());
        JsonArray labelArray = new JsonArray();
        labels.forEach(labelArray::add);
        o.add("labels", labelArray);
        o.add("stats", statsSummary);
        JsonArray clients = new JsonArray();
        for (int c = 0; c < numClients(); c++) {
            JsonObject client = new JsonObject();
            client.addProperty("id", c);
            client.addProperty("size", clientSize(c));
            client.addProperty("eval_size", evalSizes[c]);
            JsonArray counts = new JsonArray();
            for (long v : histogram[c]) {
                counts.add(v);
            }
            client.add("label_counts", counts);
            clients.add(client);
        }
        o.add("clients", clients);
        return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(o);
    }

    public static Manifest fromJson(String json) {
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        String format = o.get("format").getAsString();
        if (!FORMAT.equals(format)) {
            throw new IllegalArgumentException("unsupported manifest format '" + format + "', expected " + FORMAT);
        }
        List<String> labels = new ArrayList<>();
        o.getAsJsonArray("labels").forEach(e -> labels.add(e.getAsString()));
        JsonArray clients = o.getAsJsonArray("clients");
        long[][] histogram = new long[clients.size()][];
        long[] eval = new long[clients.size()];
        for (int c = 0; c < clients.size(); c++) {
            JsonObject client = clients.get(c).getAsJsonObject();
            JsonArray counts = client.getAsJsonArray("label_counts");
            histogram[c] = new long[counts.size()];
            for (int l = 0; l < counts.size(); l++) {
                histogram[c][l] = counts.get(l).getAsLong();
            }
            eval[c] = client.get("eval_size").getAsLong();
        }
        JsonElement stats = o.get("stats");
        return new Manifest(o.get("partitioner").getAsString(), Params.fromJson(o.getAsJsonObject("parameters")),
                o.get("seed").getAsLong(), Stratification.parse(o.get("stratification").getAsString()),
                o.get("num_rows").getAsLong(), parseHex(o.get("row_key_digest").getAsString()),
                o.get("holdout_fraction").getAsDouble(), o.get("held_out_rows").getAsLong(),
                o.get("eval_fraction").getAsDouble(), parseHex(o.get("plan_digest").getAsString()), labels, histogram,
                eval, stats == null ? new JsonObject() : stats.getAsJsonObject());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Manifest m && verify(m).matches();
    }

    @Override
    public int hashCode() {
        return Objects.hash(partitioner, seed, numRows, rowKeyDigest, planDigest);
    }

    static String hex(long v) {
        return String.format(Locale.ROOT, "%016x", v);
    }

    private static long parseHex(String s) {
        return Long.parseUnsignedLong(s, 16);
    }

    private static void compare(List<String> d, String field, Object expected, Object actual) {
        if (!Objects.equals(expected, actual)) {
            d.add(field + ": expected " + expected + ", found " + actual);
        }
    }
}
