package dev.understudy.partition.bench;

import dev.understudy.partition.DirichletConfig;
import dev.understudy.partition.GroupedNaturalIdConfig;
import dev.understudy.partition.IidConfig;
import dev.understudy.partition.InfeasiblePartitioningException;
import dev.understudy.partition.InnerDirichletConfig;
import dev.understudy.partition.NaturalIdConfig;
import dev.understudy.partition.PartitionPlan;
import dev.understudy.partition.Partitioner;
import dev.understudy.partition.PartitionerConfig;
import dev.understudy.partition.PathologicalConfig;
import dev.understudy.partition.RowOrder;
import dev.understudy.partition.SizeConfig;
import dev.understudy.partition.Stratification;
import dev.understudy.partition.StratumCounts;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Times every partitioner on synthetic data: (a) the quota phase ({@link Partitioner#plan} on
 * aggregate counts) and (b) the full in-memory assignment of every row (hash each key, rank within
 * strata with primitive sorts, look up the client), which is what a single JVM would do without
 * Spark.
 *
 * <pre>
 *   mvn -B -o -q -pl partitioners compile exec:java                      # 1M and 10M rows
 *   mvn -B -o -q -pl partitioners compile exec:java -Dexec.args="2000000"
 *   java -Xmx6g -cp partitioners/target/classes:$GSON_JAR \
 *       dev.understudy.partition.bench.PartitionBenchmark 1000000 10000000
 * </pre>
 *
 * "assign" covers hashing every key, counting rows per stratum, ranking within strata and one
 * {@link PartitionPlan#clientForRank} per row; natural-id plans are mappings and need one lookup per
 * row instead. Single-threaded; on Spark the same work is spread over executors.
 *
 * Data: 10 labels with frequencies proportional to 1..10; row keys {@code "row-<i>"}; natural ids
 * drawn with a skewed (quadratic) distribution over 10,000 values (natural_id, one client each) or
 * 20,000 values (grouped_natural_id). Label partitioners use 10,000 clients.
 */
public final class PartitionBenchmark {

    private static final int CLIENTS = 10_000;
    private static final int LABELS = 10;
    private static final int NATURAL_IDS = 10_000;
    private static final int GROUPED_IDS = 20_000;
    private static final long SEED = 42;

    private PartitionBenchmark() {}

    public static void main(String[] args) {
        List<Integer> sizes = new ArrayList<>();
        for (String a : args) {
            sizes.add(Integer.parseInt(a.replace("_", "")));
        }
        if (sizes.isEmpty()) {
            sizes = List.of(1_000_000, 10_000_000);
        }
        System.out.printf(Locale.ROOT, "JVM: %s %s, %d processors, max heap %,d MB%n",
                System.getProperty("java.vm.name"), System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        // Warm-up so that JIT compilation is not timed.
        run(200_000, false);
        System.out.printf(Locale.ROOT, "%n%-20s %12s %8s %8s %10s %11s %11s %11s%n", "partitioner", "rows", "clients",
                "strata", "quota ms", "assign ms", "ns/row", "total ms");
        for (int n : sizes) {
            run(n, true);
        }
    }

    private static void run(int n, boolean print) {
        Data data = Data.generate(n);
        Map<String, PartitionerConfig> configs = new LinkedHashMap<>();
        configs.put("iid", new IidConfig(CLIENTS, SEED));
        configs.put("dirichlet a=0.5", new DirichletConfig(CLIENTS, 0.5, 1, 10, false, SEED));
        configs.put("pathological k=2", new PathologicalConfig(CLIENTS, 2, SEED));
        configs.put("size power_law 1.0", SizeConfig.powerLaw(CLIENTS, 1.0, 10, SEED));
        configs.put("size log_normal 1.0", SizeConfig.logNormal(CLIENTS, 1.0, 10, SEED));
        configs.put("inner_dirichlet 0.5", new InnerDirichletConfig(CLIENTS, 0.5, List.of(), SEED));
        configs.put("natural_id", new NaturalIdConfig("user", SEED));
        configs.put("grouped_natural_id", new GroupedNaturalIdConfig("user", CLIENTS, SEED));
        for (Map.Entry<String, PartitionerConfig> e : configs.entrySet()) {
            Partitioner p = e.getValue().create();
            boolean grouped = e.getValue() instanceof GroupedNaturalIdConfig;
            int[] strataOfRow = p.stratification() == Stratification.LABEL ? data.label
                    : grouped ? data.groupedId : data.naturalId;
            StratumCounts counts = p.stratification() == Stratification.LABEL ? data.labelCounts
                    : grouped ? data.groupedCounts : data.naturalCounts;

            long t0 = System.nanoTime();
            PartitionPlan plan;
            try {
                plan = p.plan(counts);
            } catch (InfeasiblePartitioningException ex) {
                if (print) {
                    System.out.printf(Locale.ROOT, "%-20s %,12d  infeasible: %s%n", e.getKey(), n, ex.getMessage());
                }
                continue;
            }
            long t1 = System.nanoTime();
            int[] clients = assign(plan, strataOfRow, n);
            long t2 = System.nanoTime();
            checkSizes(plan, clients);
            if (print) {
                double quotaMs = (t1 - t0) / 1e6;
                double assignMs = (t2 - t1) / 1e6;
                System.out.printf(Locale.ROOT, "%-20s %,12d %,8d %,8d %,10.1f %,11.1f %,11.1f %,11.1f%n", e.getKey(), n,
                        plan.numClients(), plan.numStrata(), quotaMs, assignMs, (t2 - t1) / (double) n, quotaMs + assignMs);
            }
        }
    }

    /**
     * Label plans: hash every key, rank within strata, map ranks to clients. Mapping plans (natural
     * id): one lookup per row. Strata indices are the plan's, because generated names sort the same.
     */
    private static int[] assign(PartitionPlan plan, int[] strataOfRow, int n) {
        if (plan.isMapping()) {
            int[] clientOfStratum = new int[plan.numStrata()];
            for (int s = 0; s < clientOfStratum.length; s++) {
                clientOfStratum[s] = plan.clientForStratum(plan.strata().get(s));
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = clientOfStratum[strataOfRow[i]];
            }
            return out;
        }
        long seed = plan.rowOrderSeed();
        long[] hashes = new long[n];
        byte[] buf = new byte[24];
        for (int i = 0; i < n; i++) {
            int len = writeKey(buf, i);
            hashes[i] = RowOrder.hash(seed, buf, 0, len);
        }
        return plan.assignHashed(hashes, strataOfRow, (a, b) -> RowOrder.compareKeys(key(a), key(b)));
    }

    private static void checkSizes(PartitionPlan plan, int[] clients) {
        long[] expected = plan.clientSizes();
        long[] actual = new long[plan.numClients()];
        for (int c : clients) {
            actual[c]++;
        }
        if (!java.util.Arrays.equals(expected, actual)) {
            throw new IllegalStateException("assignment does not match the plan's client sizes");
        }
    }

    private static String key(int i) {
        return "row-" + i;
    }

    /** Writes the UTF-8 bytes of {@code "row-" + i} into {@code buf}; returns the length. */
    private static int writeKey(byte[] buf, int i) {
        buf[0] = 'r';
        buf[1] = 'o';
        buf[2] = 'w';
        buf[3] = '-';
        int digits = 1;
        for (int v = i; v >= 10; v /= 10) {
            digits++;
        }
        int v = i;
        for (int p = 4 + digits - 1; p >= 4; p--) {
            buf[p] = (byte) ('0' + v % 10);
            v /= 10;
        }
        return 4 + digits;
    }

    /** Synthetic columns: label, natural id (10k values) and natural id (20k values) per row. */
    private static final class Data {
        int[] label;
        int[] naturalId;
        int[] groupedId;
        StratumCounts labelCounts;
        StratumCounts naturalCounts;
        StratumCounts groupedCounts;

        static Data generate(int n) {
            Data d = new Data();
            d.label = new int[n];
            d.naturalId = new int[n];
            d.groupedId = new int[n];
            long[] labelCount = new long[LABELS];
            long[] naturalCount = new long[NATURAL_IDS];
            long[] groupedCount = new long[GROUPED_IDS];
            byte[] buf = new byte[24];
            for (int i = 0; i < n; i++) {
                int len = writeKey(buf, i);
                long h = RowOrder.hash(7, buf, 0, len);
                // Label l with probability (l + 1) / 55.
                int t = (int) Long.remainderUnsigned(h, 55);
                int l = 0;
                while (t >= l + 1) {
                    t -= l + 1;
                    l++;
                }
                d.label[i] = l;
                double u = ((h >>> 11) * 0x1.0p-53);
                double u2 = (((h * 0x9E3779B97F4A7C15L) >>> 11) * 0x1.0p-53);
                // Skewed natural ids; every value is made non-empty below.
                d.naturalId[i] = i < NATURAL_IDS ? i : (int) (NATURAL_IDS * u * u);
                d.groupedId[i] = i < GROUPED_IDS ? i : (int) (GROUPED_IDS * u2 * u2);
                labelCount[l]++;
                naturalCount[d.naturalId[i]]++;
                groupedCount[d.groupedId[i]]++;
            }
            d.labelCounts = counts("label-", labelCount, 2);
            d.naturalCounts = counts("user-", naturalCount, 5);
            d.groupedCounts = counts("user-", groupedCount, 5);
            return d;
        }

        /** Zero-padded names sort in index order, so stratum index == value index. */
        private static StratumCounts counts(String prefix, long[] counts, int width) {
            Map<String, Long> m = new LinkedHashMap<>();
            for (int i = 0; i < counts.length; i++) {
                m.put(prefix + String.format(Locale.ROOT, "%0" + width + "d", i), counts[i]);
            }
            StratumCounts sc = StratumCounts.of(m);
            if (!sc.strata().get(counts.length - 1).equals(prefix + String.format(Locale.ROOT, "%0" + width + "d", counts.length - 1))) {
                throw new IllegalStateException("unexpected stratum order");
            }
            return sc;
        }
    }

    static {
        // Sanity check of the key writer against the String path, once.
        byte[] buf = new byte[24];
        for (int i : new int[] {0, 9, 10, 99, 100, 999_999, 1_000_000, 9_999_999, 10_000_000}) {
            int len = writeKey(buf, i);
            if (!new String(buf, 0, len, StandardCharsets.UTF_8).equals(key(i))) {
                throw new IllegalStateException("writeKey(" + i + ") is wrong");
            }
        }
    }
}
