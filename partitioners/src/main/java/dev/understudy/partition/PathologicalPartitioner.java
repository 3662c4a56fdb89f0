package dev.understudy.partition;

import java.util.Arrays;

/**
 * The pathological non-IID split of McMahan et al., "Communication-efficient learning of deep
 * networks from decentralized data" (AISTATS 2017, arXiv:1602.05629): every client holds exactly
 * {@code k = labels_per_client} distinct labels.
 *
 * <p>The paper sorts rows by label, cuts them into {@code numClients · k} shards and deals k shards
 * per client, which can give a client two shards of one label (fewer than k distinct labels). Here
 * the labels are dealt instead: a stream of seeded label permutations is cut into windows of k, one
 * per client; a window that crosses into the next permutation takes from it only labels the client
 * does not have yet. Each permutation uses every label once, so the numbers of clients holding each
 * label differ by at most one. Each label's rows are then split evenly (largest remainder) among its
 * holders.
 */
public final class PathologicalPartitioner implements Partitioner {

    private final PathologicalConfig config;

    public PathologicalPartitioner(PathologicalConfig config) {
        this.config = config;
    }

    @Override
    public String type() {
        return PathologicalConfig.TYPE;
    }

    @Override
    public Stratification stratification() {
        return Stratification.LABEL;
    }

    @Override
    public PathologicalConfig config() {
        return config;
    }

    @Override
    public PartitionPlan plan(StratumCounts counts) {
        int numClients = config.numClients();
        int k = config.labelsPerClient();
        int numLabels = counts.size();
        Quotas.requireRowsForClients(numClients, counts.total());
        if (k > numLabels) {
            throw new InfeasiblePartitioningException("Cannot set partitioning.labels_per_client to " + k
                    + ": the data has only " + numLabels + " labels; lower partitioning.labels_per_client");
        }
        if ((long) numClients * k < numLabels) {
            throw new InfeasiblePartitioningException("partitioning.num_clients × partitioning.labels_per_client = "
                    + numClients + " × " + k + " = " + (long) numClients * k + " is less than the " + numLabels
                    + " labels, so some labels would have no client and their rows would be lost; raise"
                    + " partitioning.num_clients or partitioning.labels_per_client");
        }
        SeededRandom rng = new SeededRandom(SeededRandom.derive(config.seed(), "pathological"));
        int[][] labelsOfClient = dealLabels(numClients, k, numLabels, rng);

        // Holders per label, in ascending client id.
        int[] holderCount = new int[numLabels];
        for (int[] labels : labelsOfClient) {
            for (int l : labels) {
                holderCount[l]++;
            }
        }
        long[][] quotas = new long[numLabels][numClients];
        for (int l = 0; l < numLabels; l++) {
            long rows = counts.count(l);
            if (rows < holderCount[l]) {
                throw new InfeasiblePartitioningException("Label '" + counts.strata().get(l) + "' has " + rows
                        + " rows but " + holderCount[l] + " clients must hold it (" + numClients + " clients × "
                        + k + " labels each, spread over " + numLabels + " labels); lower partitioning.num_clients"
                        + " or partitioning.labels_per_client, or drop labels this rare");
            }
            double[] weights = new double[numClients];
            for (int c = 0; c < numClients; c++) {
                if (Arrays.binarySearch(labelsOfClient[c], l) >= 0) {
                    weights[c] = 1;
                }
            }
            quotas[l] = Apportion.largestRemainder(rows, weights, rng.nextLong());
        }
        return Quotas.labelPlan(config, numClients, counts, quotas);
    }

    /** Sorted label indices of each client: exactly k distinct labels each. */
    static int[][] dealLabels(int numClients, int k, int numLabels, SeededRandom rng) {
        int[][] out = new int[numClients][];
        int[] perm = rng.permutation(numLabels);
        int pos = 0;
        boolean[] has = new boolean[numLabels];
        for (int c = 0; c < numClients; c++) {
            int[] labels = new int[k];
            for (int j = 0; j < k; j++) {
                if (pos == numLabels) {
                    perm = permutationAvoiding(rng, numLabels, has);
                    pos = 0;
                }
                labels[j] = perm[pos++];
                has[labels[j]] = true;
            }
            for (int l : labels) {
                has[l] = false;
            }
            Arrays.sort(labels);
            out[c] = labels;
        }
        return out;
    }

    /** A seeded permutation with the labels in {@code avoid} moved to the end (relative order kept). */
    private static int[] permutationAvoiding(SeededRandom rng, int numLabels, boolean[] avoid) {
        int[] perm = rng.permutation(numLabels);
        int[] out = new int[numLabels];
        int front = 0;
        for (int l : perm) {
            if (!avoid[l]) {
                out[front++] = l;
            }
        }
        for (int l : perm) {
            if (avoid[l]) {
                out[front++] = l;
            }
        }
        return out;
    }
}
