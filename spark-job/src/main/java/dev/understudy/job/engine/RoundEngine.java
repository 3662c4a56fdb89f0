package dev.understudy.job.engine;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.federation.AdapterLayout;
import dev.understudy.ops.federation.ClientFailure;
import dev.understudy.ops.federation.ClientUpdate;
import dev.understudy.ops.federation.FederatedStrategy;
import dev.understudy.ops.federation.WeightedMean;
import dev.understudy.ops.io.SafetensorsWriter;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.train.Trainer;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * The driver's round loop: sample clients → broadcast the global adapter → train sampled clients
 * in {@code mapPartitions} → reduce their deltas (per-partition weighted sums merged in partition
 * order for linear strategies, so the driver holds O(1) updates; a collect for robust ones) →
 * strategy → the method's server step ({@link FederatedMethod#afterAggregation}) → evaluate every N
 * rounds (a Spark job over every client's held-out data) → commit the round atomically (see
 * {@link RunStore}).
 *
 * <p>Resumable: {@link #run} continues after the last committed round. Everything a round needs
 * is either committed (global adapter, server-optimiser state) or derived from (seed, round), so a
 * resumed run ends with an adapter bit-identical to an uninterrupted one.
 */
public final class RoundEngine {
    /** JSON of metrics: NaN (a round without evaluation) is written as {@code NaN}, as Spark's JSON reader accepts. */
    static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();

    private final JavaSparkContext sc;
    private final JavaPairRDD<String, ClientData> clients;
    private final List<String> clientIds; // sorted
    private final TrainSettings settings;
    private final FederatedStrategy configuredStrategy;
    private final FederatedMethod method;
    private final RunStore store;
    private final Options options;
    private final String resolvedConfig;
    private final DecoderModel baseOnDriver;
    private final EvalFunction.Labels labels;
    private final long skippedRows;

    // the client model in force and what derives from it (ClientModel; replaced by planRound)
    private ClientTask task;
    private ClientModel active;
    private DecoderModel activeModel; // baseOnDriver for the configured model, else loaded (and closed) here
    private ai.djl.ndarray.NDManager activeManager; // non-null when the engine loaded activeModel
    private TrainSettings activeSettings;
    private Map<String, long[]> layout;
    private AdapterLayout adapterLayout;
    private float[] initial;
    private FederatedStrategy strategy;
    private final Set<String> retired = new java.util.TreeSet<>(); // URIs of replaced client-model versions
    private RoundPrivacy privacy = RoundPrivacy.OFF; // DP-FedAvg and simulated attacks (withPrivacy)

    /**
     * @param rounds total rounds of the run
     * @param clientsPerRound clients sampled per round, or 0 to use {@code fraction}
     * @param fraction share of clients sampled per round when {@code clientsPerRound == 0}
     * @param minClients fewest clients a round may run with
     * @param evalEvery evaluate the global adapter every N rounds (0 = never; the last round always)
     * @param maxFailedFraction a round whose failed clients exceed this share of the sampled ones keeps the previous global
     * @param seed run seed
     * @param stopAfterRound test hook: stop (as if killed) after committing this round; 0 = never
     * @param collectBudgetBytes driver memory a strategy that needs every update may fill with the
     *     round's updates ({@code server.collect_budget_mb}); 0 = a quarter of the driver's maximum heap
     */
    public record Options(int rounds, int clientsPerRound, double fraction, int minClients, int evalEvery,
            double maxFailedFraction, long seed, int stopAfterRound, long collectBudgetBytes) implements Serializable {
        /** Options with the default collect budget. */
        public Options(int rounds, int clientsPerRound, double fraction, int minClients, int evalEvery,
                double maxFailedFraction, long seed, int stopAfterRound) {
            this(rounds, clientsPerRound, fraction, minClients, evalEvery, maxFailedFraction, seed, stopAfterRound, 0);
        }

        public Options {
            checkArgument(collectBudgetBytes >= 0, "Cannot set server.collect_budget_mb to %s, must be ≥ 0",
                    collectBudgetBytes / (1024 * 1024));
            checkArgument(rounds >= 1, "Cannot set server.rounds to %s, must be ≥ 1", rounds);
            checkArgument(clientsPerRound >= 0, "Cannot set server.clients_per_round to %s, must be ≥ 0", clientsPerRound);
            checkArgument(fraction > 0 && fraction <= 1, "Cannot set server.fraction to %s, must be in (0, 1]", fraction);
            checkArgument(minClients >= 1, "Cannot set server.min_clients to %s, must be ≥ 1", minClients);
        }
    }

    /**
     * Metrics of one round, also written as one JSON line ({@code metrics.jsonl}) and a row of
     * {@code metrics.parquet}. Evaluation fields are NaN in rounds without evaluation; accuracy is
     * NaN unless the data are classification rows. Times are wall seconds on the driver: local
     * training (the Spark stage, including the task-side serialisation of the updates), aggregation
     * (merging the partial sums and the strategy step), the method's server step, evaluation and
     * commit. {@code clientSeconds} is the clients' local training time summed over clients (the
     * trainer's own clock, without model loading, adapter set-up or serialisation), and
     * {@code trainCriticalSeconds} its critical path: the round's partitions' client seconds
     * scheduled in partition order on the cluster's task slots ({@link #criticalPath}), the least
     * wall time the training stage could take; {@code trainSeconds − trainCriticalSeconds} is the
     * engine's share of the stage.
     */
    public record RoundMetrics(int round, int sampled, int succeeded, int failed, double trainLoss, double evalLoss,
            double evalPerplexity, double evalAccuracy, long bytesUp, long bytesDown, double trainSeconds,
            double clientSeconds, double trainCriticalSeconds, double aggregateSeconds, double serverSeconds, double evalSeconds, double commitSeconds, double roundSeconds,
            long skippedRows, boolean updated, Map<String, Double> methodMetrics) implements Serializable {}

    /** Outcome of {@link #run}: the final global adapter and the metrics of every round of the run (also earlier runs' on resume). */
    public record Result(float[] finalAdapter, List<RoundMetrics> rounds, int resumedFrom, String outputDir,
            Map<String, float[]> methodState) {}

    /**
     * @param baseOnDriver the client model ({@link FederatedMethod#clientModelUri()}) loaded on the driver
     * @param labels label candidates for accuracy on classification data, or null
     * @param skippedRows bad rows skipped by data preparation (reported with every round)
     */
    public RoundEngine(JavaSparkContext sc, JavaPairRDD<String, ClientData> clients, List<String> clientIds,
            TrainSettings settings, FederatedStrategy strategy, FederatedMethod method, RunStore store, Options options,
            String resolvedConfig, DecoderModel baseOnDriver, EvalFunction.Labels labels, long skippedRows) {
        this.sc = sc;
        this.clients = clients;
        this.clientIds = clientIds.stream().sorted().toList();
        this.settings = settings;
        this.configuredStrategy = strategy;
        this.method = method;
        this.store = store;
        this.options = options;
        this.resolvedConfig = resolvedConfig;
        this.baseOnDriver = baseOnDriver;
        this.labels = labels;
        this.skippedRows = skippedRows;
        checkArgument(method.clientModelUri().equals(settings.modelUri()),
                "the method's client model %s differs from the model the clients train (%s)", method.clientModelUri(),
                settings.modelUri());
        checkArgument(this.clientIds.size() >= options.minClients(),
                "only %s clients have training data but server.min_clients=%s; lower it or provide more clients",
                this.clientIds.size(), options.minClients());
    }

    /** Turns on DP-FedAvg and/or a simulated attack for this run ({@link RoundPrivacy}); call before {@link #run}. */
    public RoundEngine withPrivacy(RoundPrivacy p) {
        this.privacy = p == null ? RoundPrivacy.OFF : p;
        return this;
    }

    /** Clients of round {@code round}: a seeded shuffle of the sorted ids, first k (k from count/fraction/min). */
    public static List<String> sample(List<String> sortedIds, int round, Options o) {
        int n = sortedIds.size();
        int k = sampleSize(n, o);
        List<String> ids = new ArrayList<>(sortedIds);
        SplittableRandom r = new SplittableRandom(Trainer.mix(o.seed() ^ 0x5A5A5A5AL, round));
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            String t = ids.get(i);
            ids.set(i, ids.get(j));
            ids.set(j, t);
        }
        List<String> out = new ArrayList<>(ids.subList(0, k));
        out.sort(null);
        return out;
    }

    /** Clients sampled per round out of {@code n}: count or fraction, at least min_clients, at most n. */
    public static int sampleSize(int n, Options o) {
        int k = o.clientsPerRound() > 0 ? o.clientsPerRound() : (int) Math.ceil(o.fraction() * n);
        return Math.min(n, Math.max(k, o.minClients()));
    }

    public Result run() throws IOException {
        try {
            return runRounds();
        } finally {
            closeActive();
        }
    }

    private Result runRounds() throws IOException {
        store.discardUncommitted();
        task = method.clientTask();
        ClientModel configured = ClientModel.configured(settings.modelUri());
        float[] global;
        int start = 1;
        var last = store.lastCommittedRound();
        boolean resumed = last.isPresent();
        List<RoundMetrics> metrics = new ArrayList<>();
        if (last.isPresent()) {
            RunStore.CommittedRound cr = store.readRound(last.get());
            activate(ClientModel.fromManifest(cr.metadata(), store.base(), configured));
            global = RoundCheckpoint.readVector(cr.files().get("global.safetensors"), layout);
            strategy.restoreState(RoundCheckpoint.readState(cr, "strategy_state.safetensors"), cr.metadata().get("strategy_rounds").getAsLong());
            method.restoreState(RoundCheckpoint.readState(cr, "method_state.safetensors"));
            start = last.get() + 1;
            metrics.addAll(priorMetrics(last.get()));
        } else {
            activate(configured);
            sc.setJobGroup("understudy-method", "method " + method.name() + ": before federation", false);
            method.beforeFederation(context(false));
            ClientModel chosen = method.clientModel(context(false));
            if (!chosen.equals(active)) {
                activate(chosen);
            }
            global = initial;
        }
        MethodContext ctx = context(resumed);
        int resumedFrom = start - 1;
        boolean budgetSpent = false;
        for (int round = start; round <= options.rounds(); round++) {
            if (!privacy.allowsRound(round, strategy)) {
                System.out.println(RoundPrivacy.budgetMessage(round, strategy));
                budgetSpent = true;
                break;
            }
            var change = method.planRound(ctx, round, global);
            if (change.isPresent()) {
                global = replaceClientModel(change.get(), global, round);
                ctx = context(resumed);
            }
            float[][] next = new float[1][];
            RoundMetrics rm = runRound(ctx, round, global, layout, next);
            global = next[0];
            metrics.add(rm);
            store.writeString("metrics.jsonl", RoundReport.jsonLines(metrics));
            System.out.println(RoundReport.progressLine(rm, options.rounds()));
            if (options.stopAfterRound() > 0 && round == options.stopAfterRound()) {
                break;
            }
            if (StopRequest.requested() && round < options.rounds()) {
                System.out.println("stopped after round " + round + " of " + options.rounds() + " (SIGTERM); round " + round
                        + " is committed in " + store.base() + "; continue with: understudy resume (same --conf and --set)");
                break;
            }
        }
        boolean complete = store.lastCommittedRound().orElse(0) == options.rounds() || budgetSpent;
        if (complete) {
            task.writeFinal(store.sink("adapter"), activeModel, activeSettings, global, layout);
            sc.setJobGroup("understudy-method", "method " + method.name() + ": finish", false);
            method.finish(ctx, global);
        }
        MetricsTables.writeRounds(sc, store, metrics);
        if (complete) {
            System.out.print(RoundReport.summaryTable(metrics));
        }
        return new Result(global, metrics, resumedFrom, store.base(), Map.copyOf(method.state()));
    }

    private MethodContext context(boolean resumed) {
        return new MethodContext(sc, store, activeModel, active, layout, activeSettings, options.seed(), resumed, labels,
                (model, group, what) -> ServerModels.evaluate(sc, clients, model, activeSettings, labels, group, what));
    }

    /**
     * Puts {@code model} in force: loads it on the driver (unless it is the configured model the
     * caller loaded), derives the task's initial state and layout from it, and (re)chooses the
     * strategy when the layout is new. Fails here, before any round, when the strategy needs every
     * update and they would not fit the driver budget.
     */
    private void activate(ClientModel model) throws IOException {
        DecoderModel loaded = baseOnDriver;
        ai.djl.ndarray.NDManager manager = null;
        if (!model.uri().equals(settings.modelUri())) {
            manager = ai.djl.ndarray.NDManager.newBaseManager("PyTorch");
            try {
                loaded = dev.understudy.ops.model.HfModels.load(ExecutorModelCache.localDir(model.uri(),
                        sc.hadoopConfiguration()), manager, ai.djl.ndarray.types.DataType.FLOAT32);
            } catch (IOException | RuntimeException e) {
                manager.close();
                throw new IOException("method " + method.name() + ": cannot load client model version " + model.version()
                        + " (" + model.uri() + ")", e);
            }
        }
        closeActive();
        active = model;
        activeModel = loaded;
        activeManager = manager;
        activeSettings = method.clientSettings(model, loaded, settings);
        Map<String, HostTensor> init = task.initialState(activeModel, activeSettings);
        Map<String, long[]> newLayout = AdapterVectors.layoutOf(init);
        boolean sameLayout = layout != null && sameLayout(layout, newLayout);
        layout = newLayout;
        initial = AdapterVectors.flatten(init);
        if (!sameLayout) {
            adapterLayout = AdapterLayout.of(layout);
            strategy = privacy.wrap(method.strategy(configuredStrategy, adapterLayout), clientIds.size(), options);
        }
        checkCollectBudget();
    }

    private void closeActive() {
        if (activeManager != null) {
            activeModel.close();
            activeManager.close();
            activeManager = null;
        }
    }

    /** Puts a method's replacement client model in force before round {@code round}; returns the global to start from. */
    private float[] replaceClientModel(FederatedMethod.ClientModelChange change, float[] global, int round)
            throws IOException {
        ClientModel next = change.model();
        checkArgument(next.version() > active.version(), "method %s returned client model version %s before round %s,"
                + " but version %s is in force; a replacement needs a higher version", method.name(), next.version(),
                round, active.version());
        Map<String, long[]> before = layout;
        String oldUri = active.uri();
        activate(next);
        if (!oldUri.equals(next.uri())) {
            retired.add(oldUri);
        }
        retired.remove(next.uri());
        System.out.printf(Locale.ROOT, "round %d: client model version %d (%s)%n", round, next.version(), next.uri());
        if (change.global() == null) {
            checkArgument(sameLayout(before, layout), "method %s replaced the client model before round %s with one"
                    + " whose %s layout differs from the current one; return the global state in the new layout",
                    method.name(), round, task.name());
            return global;
        }
        checkArgument(change.global().length == initial.length, "method %s returned a global state of %s floats for"
                + " client model version %s, whose layout needs %s", method.name(), change.global().length,
                next.version(), initial.length);
        return change.global().clone();
    }

    private static boolean sameLayout(Map<String, long[]> a, Map<String, long[]> b) {
        if (!a.keySet().equals(b.keySet()) || !new ArrayList<>(a.keySet()).equals(new ArrayList<>(b.keySet()))) {
            return false;
        }
        return a.entrySet().stream().allMatch(e -> java.util.Arrays.equals(e.getValue(), b.get(e.getKey())));
    }

    /**
     * A strategy that needs every update ({@code !isLinear()}) holds a round's updates on the
     * driver at once: sampled clients × the global vector's bytes. Refuses, before the round
     * starts, when that exceeds the budget, naming both and what to change.
     */
    private void checkCollectBudget() {
        if (strategy.isLinear()) {
            return;
        }
        int k = sampleSize(clientIds.size(), options);
        long perUpdate = 4L * initial.length;
        long need = k * perUpdate;
        long budget = collectBudget(options);
        if (need > budget) {
            long fit = perUpdate == 0 ? k : budget / perUpdate;
            throw new IllegalStateException(String.format(Locale.ROOT, "strategy %s (method %s) needs every client"
                    + " update on the driver at once: %d clients per round × %s per update = %s, more than the driver"
                    + " budget %s (%s). Lower server.clients_per_round/server.fraction to at most %d clients, raise"
                    + " server.collect_budget_mb (and spark.driver.memory with it), or use a linear strategy (fedavg,"
                    + " fedprox, fedavgm, fedadagrad, fedadam, fedyogi), whose updates are summed on the executors",
                    strategy.name(), method.name(), k, human(perUpdate), human(need), human(budget),
                    options.collectBudgetBytes() > 0 ? "server.collect_budget_mb=" + options.collectBudgetBytes() / (1024 * 1024)
                            : "server.collect_budget_mb=0: a quarter of the driver's max heap "
                                    + human(Runtime.getRuntime().maxMemory()),
                    fit));
        }
    }

    /** The budget in bytes: {@code collectBudgetBytes}, or a quarter of this JVM's max heap when 0. */
    static long collectBudget(Options o) {
        return o.collectBudgetBytes() > 0 ? o.collectBudgetBytes() : Runtime.getRuntime().maxMemory() / 4;
    }

    /** {@code bytes} in KiB, MiB or GiB with one decimal. */
    static String human(long bytes) {
        if (bytes < 1024L * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        if (bytes < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
        }
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
    }

    /** Metrics of rounds 1..last from an earlier run: metrics.jsonl, else the round manifests. */
    private List<RoundMetrics> priorMetrics(int last) throws IOException {
        Map<Integer, RoundMetrics> byRound = new TreeMap<>();
        if (store.exists("metrics.jsonl")) {
            for (String line : store.readString("metrics.jsonl").split("\n")) {
                if (!line.isBlank()) {
                    RoundMetrics m = GSON.fromJson(line, RoundMetrics.class);
                    if (m.round() <= last) {
                        byRound.put(m.round(), m);
                    }
                }
            }
        }
        for (int r : store.committedRounds()) {
            if (r <= last && !byRound.containsKey(r)) {
                JsonObject meta = store.readRound(r).metadata();
                if (meta.has("metrics")) {
                    byRound.put(r, GSON.fromJson(meta.get("metrics"), RoundMetrics.class));
                }
            }
        }
        return new ArrayList<>(byRound.values());
    }




    private RoundMetrics runRound(MethodContext ctx, int round, float[] global, Map<String, long[]> layout, float[][] next)
            throws IOException {
        List<String> sampled = privacy.sample(clientIds, round, options);
        sc.setJobGroup("understudy-round-" + round, "round " + round + ": local training (" + sampled.size() + " clients)", false);
        long t0 = System.nanoTime();
        Broadcast<float[]> bcast = sc.broadcast(global);
        Set<String> sampledSet = new HashSet<>(sampled);
        JavaRDD<ClientResult> results = clients.mapPartitions(
                new LocalLoraTrainFunction(round, bcast, layout, sampledSet, activeSettings,
                        privacy.roundTask(task, strategy, clientIds), Set.copyOf(retired)));
        List<ClientFailure> failures = new ArrayList<>();
        double[] partitionSeconds = new double[clients.getNumPartitions()]; // clients' training seconds per partition
        long bytesUp;
        double lossSum = 0;
        long lossWeight = 0;
        int succeeded;
        ClientStatistics statistics;
        int n = global.length;
        Optional<float[]> updated;
        long t1;
        if (strategy.isLinear()) {
            // One partial weighted sum per partition (clients added in id order), merged on the
            // driver in partition order, one partition at a time: O(1) updates on the driver and a
            // summation order that does not depend on task timing, so reruns are bit-identical
            // (Spark's treeAggregate merges partials in arrival order).
            final int size = n;
            JavaRDD<RoundAccumulator> partials = results.mapPartitions(it -> {
                RoundAccumulator a = RoundAccumulator.empty(size);
                while (it.hasNext()) {
                    RoundAccumulator.add(a, it.next());
                }
                return List.of(a).iterator();
            }).persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
            partials.count();
            t1 = System.nanoTime();
            sc.setJobGroup("understudy-round-" + round, "round " + round + ": partial sums (" + partitionSeconds.length
                    + " partitions)", false);
            RoundAccumulator acc = RoundAccumulator.empty(n);
            int p = 0;
            for (java.util.Iterator<RoundAccumulator> it = partials.toLocalIterator(); it.hasNext(); p++) {
                RoundAccumulator part = it.next();
                partitionSeconds[p] = part.trainSeconds;
                RoundAccumulator.merge(acc, part);
            }
            partials.unpersist(false);
            bytesUp = acc.bytesUp;
            acc.failures.forEach(f -> failures.add(new ClientFailure(f[0], f[1])));
            lossSum = acc.lossSum;
            lossWeight = acc.lossWeight;
            statistics = acc.statistics;
            succeeded = acc.mean.count();
            updated = privacy.applyMean(strategy, round, global, acc.mean, statistics, failures,
                    tooManyFailures(failures.size(), sampled.size()));
        } else {
            // per partition (the same job and bytes as a collect), for the critical path
            List<ClientResult>[] parts = results.collectPartitions(
                    java.util.stream.IntStream.range(0, partitionSeconds.length).toArray());
            t1 = System.nanoTime();
            List<ClientResult> all = new ArrayList<>();
            for (int p = 0; p < parts.length; p++) {
                for (ClientResult r : parts[p]) {
                    partitionSeconds[p] += r.trainSeconds();
                }
                all.addAll(parts[p]);
            }
            all.sort(java.util.Comparator.comparing(ClientResult::clientId)); // order-independent of task timing
            List<ClientUpdate> updates = new ArrayList<>();
            bytesUp = 0;
            statistics = ClientStatistics.empty();
            for (ClientResult r : all) {
                if (r.ok()) {
                    updates.add(toUpdate(r));
                    statistics.add(r.clientId(), r.statistics());
                    bytesUp += r.payloadBytes();
                    lossSum += r.trainLoss() * r.numExamples();
                    lossWeight += r.numExamples();
                } else {
                    failures.add(new ClientFailure(r.clientId(), r.failure()));
                }
            }
            succeeded = updates.size();
            updated = tooManyFailures(failures.size(), sampled.size()) || updates.isEmpty()
                    ? Optional.empty()
                    : strategy.aggregate(round, global, updates, failures);
        }
        bcast.unpersist(false);
        UpdateGuard.checkRound(round, succeeded, failures);
        long t2 = System.nanoTime();
        float[] nextGlobal = updated.orElse(global);
        if (updated.isPresent()) {
            sc.setJobGroup("understudy-round-" + round, "round " + round + ": server step (" + method.name() + ")", false);
            nextGlobal = method.afterAggregation(ctx, round, nextGlobal, statistics);
            checkArgument(nextGlobal.length == n, "method %s returned a global state of %s floats, expected %s",
                    method.name(), nextGlobal.length, n);
        }
        UpdateGuard.checkGlobal(round, nextGlobal);
        next[0] = nextGlobal;
        long t3 = System.nanoTime();
        Evaluation eval = Evaluation.NONE;
        Map<String, Double> methodMetrics = new TreeMap<>();
        if (updated.isPresent()) {
            methodMetrics.putAll(method.roundMetrics());
        }
        methodMetrics.putAll(privacy.roundMetrics(strategy, statistics));
        boolean evalNow = round == options.rounds() || (options.evalEvery() > 0 && round % options.evalEvery() == 0);
        if (evalNow) {
            eval = evaluate(round, nextGlobal, layout);
            methodMetrics.putAll(method.evaluateServer(ctx, round, nextGlobal));
        }
        long t4 = System.nanoTime();
        RoundMetrics rm = new RoundMetrics(round, sampled.size(), succeeded, failures.size(),
                lossWeight == 0 ? Double.NaN : lossSum / lossWeight, eval.loss(), Math.exp(eval.loss()), eval.accuracy(),
                bytesUp, 4L * global.length * sampled.size(), (t1 - t0) / 1e9,
                java.util.Arrays.stream(partitionSeconds).sum(), criticalPath(partitionSeconds, taskSlots()), (t2 - t1) / 1e9,
                (t3 - t2) / 1e9,
                (t4 - t3) / 1e9, 0, 0, skippedRows, updated.isPresent(), methodMetrics);
        double commitSeconds = commit(round, nextGlobal, layout, rm, failures, eval.perClient(),
                updated.isPresent() ? statistics : ClientStatistics.empty());
        double total = (System.nanoTime() - t0) / 1e9;
        return new RoundMetrics(rm.round(), rm.sampled(), rm.succeeded(), rm.failed(), rm.trainLoss(), rm.evalLoss(),
                rm.evalPerplexity(), rm.evalAccuracy(), rm.bytesUp(), rm.bytesDown(), rm.trainSeconds(),
                rm.clientSeconds(), rm.trainCriticalSeconds(), rm.aggregateSeconds(), rm.serverSeconds(), rm.evalSeconds(), commitSeconds, total, rm.skippedRows(),
                rm.updated(), rm.methodMetrics());
    }

    /** Tasks the cluster runs at once: default parallelism (total executor cores) / {@code spark.task.cpus}. */
    private int taskSlots() {
        return Math.max(1, sc.defaultParallelism() / Math.max(1, sc.getConf().getInt("spark.task.cpus", 1)));
    }

    /**
     * Least wall time of a stage whose task {@code p} runs {@code taskSeconds[p]}: tasks started in
     * partition order, each on the slot that frees first (Spark's FIFO task set), on {@code slots}
     * slots. With no more tasks than slots it is the longest task; on one slot, their sum.
     */
    public static double criticalPath(double[] taskSeconds, int slots) {
        checkArgument(slots >= 1, "a stage needs at least one task slot, got %s", slots);
        java.util.PriorityQueue<Double> free = new java.util.PriorityQueue<>();
        for (int i = 0; i < Math.min(slots, taskSeconds.length); i++) {
            free.add(0.0);
        }
        double end = 0;
        for (double t : taskSeconds) {
            double done = free.poll() + t;
            end = Math.max(end, done);
            free.add(done);
        }
        return end;
    }

    private boolean tooManyFailures(int failed, int sampled) {
        return failed > options.maxFailedFraction() * sampled;
    }

    static ClientUpdate toUpdate(ClientResult r) {
        return new ClientUpdate(r.clientId(), r.numExamples(), r.delta(), r.trainLoss(), r.trainTokens(), Map.of());
    }

    /** Global figures of one evaluation and its per-client rows. */
    public record Evaluation(double loss, double accuracy, List<EvalFunction.ClientEval> perClient) {
        static final Evaluation NONE = new Evaluation(Double.NaN, Double.NaN, List.of());
    }

    /** Evaluates {@code global} on every client's held-out rows, as one Spark job. */
    Evaluation evaluate(int round, float[] global, Map<String, long[]> layout) {
        sc.setJobGroup("understudy-round-" + round, "round " + round + ": evaluation (" + clientIds.size() + " clients)", false);
        Broadcast<float[]> bcast = sc.broadcast(global);
        List<EvalFunction.ClientEval> evals = new ArrayList<>(
                clients.mapPartitions(new EvalFunction(bcast, layout, activeSettings, labels)).collect());
        bcast.unpersist(false);
        evals.sort(java.util.Comparator.comparing(EvalFunction.ClientEval::clientId));
        MetricsTables.writePerClient(sc, store, round, evals);
        return summarise(evals);
    }

    /** Token-weighted loss and example-weighted accuracy over clients. */
    public static Evaluation summarise(List<EvalFunction.ClientEval> evals) {
        double nll = 0;
        long tokens = 0;
        long correct = 0;
        long scored = 0;
        for (EvalFunction.ClientEval e : evals) {
            nll += e.nll();
            tokens += e.tokens();
            correct += e.correct();
            scored += e.scored();
        }
        return new Evaluation(tokens == 0 ? Double.NaN : nll / tokens, scored == 0 ? Double.NaN : (double) correct / scored,
                evals);
    }

    private double commit(int round, float[] global, Map<String, long[]> layout, RoundMetrics rm,
            List<ClientFailure> failures, List<EvalFunction.ClientEval> perClient, ClientStatistics statistics)
            throws IOException {
        long t0 = System.nanoTime();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("global.safetensors", RoundCheckpoint.writeVector(global, layout));
        RoundCheckpoint.putState(files, "strategy_state.safetensors", strategy.state());
        RoundCheckpoint.putState(files, "method_state.safetensors", method.state());
        files.put("config.yaml", resolvedConfig.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (!statistics.isEmpty()) {
            List<TensorEntry> stats = new ArrayList<>();
            statistics.sums().forEach((k, v) -> stats.add(TensorEntry.ofDoubles(k, new long[] {v.length}, v)));
            files.put("statistics.safetensors", RunStore.bytes(out -> SafetensorsWriter.write(out, stats, null)));
        }
        if (!perClient.isEmpty()) {
            StringBuilder b = new StringBuilder();
            perClient.forEach(e -> b.append(GSON.toJson(EvalFunction.row(round, e))).append('\n'));
            files.put("eval_per_client.jsonl", b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        JsonObject meta = new JsonObject();
        meta.addProperty("round", round);
        meta.addProperty("method", method.name());
        meta.addProperty("strategy", strategy.name());
        meta.addProperty("strategy_rounds", strategy.roundsApplied());
        meta.add("client_model", active.toJson(store.base()));
        meta.addProperty("client_task", task.name());
        meta.addProperty("seed", options.seed());
        // the learning-rate schedule position is derived: each client resumes at (round − 1) × its steps
        meta.add("metrics", GSON.toJsonTree(rm));
        com.google.gson.JsonArray failed = new com.google.gson.JsonArray();
        failures.forEach(f -> failed.add(f.clientId() + ": " + f.reason()));
        meta.add("failures", failed);
        store.commitRound(round, files, meta);
        return (System.nanoTime() - t0) / 1e9;
    }




    /** @deprecated moved to {@link RoundCheckpoint#readState}; kept while other branches are merged. */
    @Deprecated
    public static Map<String, float[]> readState(RunStore.CommittedRound cr, String file) throws IOException {
        return RoundCheckpoint.readState(cr, file);
    }

    /** @deprecated moved to {@link RoundCheckpoint#readVector}; kept while other branches are merged. */
    @Deprecated
    public static float[] readVector(byte[] bytes, Map<String, long[]> layout) throws IOException {
        return RoundCheckpoint.readVector(bytes, layout);
    }

    /** @deprecated moved to {@link RoundCheckpoint#writePeft}; kept while other branches are merged. */
    @Deprecated
    public static void writePeft(dev.understudy.ops.io.ModelSink sink, DecoderModel base, TrainSettings settings,
            float[] global, Map<String, long[]> layout) throws IOException {
        RoundCheckpoint.writePeft(sink, base, settings, global, layout);
    }

    /** treeAggregate state of a linear round: the weighted mean plus byte, loss and failure tallies. */
    static final class RoundAccumulator implements Serializable {
        private static final long serialVersionUID = 3L;
        WeightedMean mean;
        ClientStatistics statistics = ClientStatistics.empty(); // summed in client order, partitions in partition order
        long bytesUp;
        double lossSum;
        long lossWeight;
        double trainSeconds; // the clients' local training seconds
        List<String[]> failures = new ArrayList<>(); // (client, reason)

        static RoundAccumulator empty(int size) {
            RoundAccumulator a = new RoundAccumulator();
            a.mean = WeightedMean.empty(size);
            return a;
        }

        static RoundAccumulator add(RoundAccumulator a, ClientResult r) {
            if (!r.ok()) {
                a.failures.add(new String[] {r.clientId(), r.failure()});
                return a;
            }
            a.mean = a.mean.add(toUpdate(r));
            a.statistics.add(r.clientId(), r.statistics());
            a.bytesUp += r.payloadBytes();
            a.lossSum += r.trainLoss() * r.numExamples();
            a.lossWeight += r.numExamples();
            a.trainSeconds += r.trainSeconds();
            return a;
        }

        static RoundAccumulator merge(RoundAccumulator a, RoundAccumulator b) {
            a.mean = a.mean.merge(b.mean);
            a.statistics.merge(b.statistics);
            a.bytesUp += b.bytesUp;
            a.lossSum += b.lossSum;
            a.lossWeight += b.lossWeight;
            a.trainSeconds += b.trainSeconds;
            a.failures.addAll(b.failures);
            return a;
        }
    }
}
