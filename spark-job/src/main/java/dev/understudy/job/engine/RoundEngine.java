package dev.understudy.job.engine;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.federation.ClientFailure;
import dev.understudy.ops.federation.ClientUpdate;
import dev.understudy.ops.federation.FederatedStrategy;
import dev.understudy.ops.federation.WeightedMean;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.io.SafetensorsWriter;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.PeftAdapters;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.train.Trainer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * in {@code mapPartitions} → reduce their deltas (a {@code treeAggregate} of a weighted mean for
 * linear strategies, so the driver holds O(1) updates; a collect for robust ones) → strategy →
 * evaluate every N rounds → commit the round atomically (see {@link RunStore}).
 *
 * <p>Resumable: {@link #run} continues after the last committed round. Everything a round needs
 * is either committed (global adapter, server-optimiser state) or derived from (seed, round), so a
 * resumed run ends with an adapter bit-identical to an uninterrupted one.
 */
public final class RoundEngine {
    private final JavaSparkContext sc;
    private final JavaPairRDD<String, ClientData> clients;
    private final List<String> clientIds; // sorted
    private final TrainSettings settings;
    private final FederatedStrategy strategy;
    private final RunStore store;
    private final Options options;
    private final String resolvedConfig;
    private final DecoderModel baseOnDriver;

    /**
     * @param rounds total rounds of the run
     * @param clientsPerRound clients sampled per round, or 0 to use {@code fraction}
     * @param fraction share of clients sampled per round when {@code clientsPerRound == 0}
     * @param minClients fewest clients a round may run with
     * @param evalEvery evaluate the global adapter every N rounds (0 = never; the last round always)
     * @param maxFailedFraction a round whose failed clients exceed this share of the sampled ones keeps the previous global
     * @param seed run seed
     * @param stopAfterRound test hook: stop (as if killed) after committing this round; 0 = never
     */
    public record Options(int rounds, int clientsPerRound, double fraction, int minClients, int evalEvery,
            double maxFailedFraction, long seed, int stopAfterRound) implements Serializable {
        public Options {
            checkArgument(rounds >= 1, "Cannot set server.rounds to %s, must be ≥ 1", rounds);
            checkArgument(clientsPerRound >= 0, "Cannot set server.clients_per_round to %s, must be ≥ 0", clientsPerRound);
            checkArgument(fraction > 0 && fraction <= 1, "Cannot set server.fraction to %s, must be in (0, 1]", fraction);
            checkArgument(minClients >= 1, "Cannot set server.min_clients to %s, must be ≥ 1", minClients);
        }
    }

    /** Metrics of one round, also written as one JSON line. */
    public record RoundMetrics(int round, int sampled, int succeeded, int failed, double trainLoss, double evalLoss,
            double evalPerplexity, long bytesUp, long bytesDown, double trainSeconds, double aggregateSeconds,
            double commitSeconds, boolean updated) implements Serializable {}

    /** Outcome of {@link #run}. */
    public record Result(float[] finalAdapter, List<RoundMetrics> rounds, int resumedFrom, String outputDir) {}

    public RoundEngine(JavaSparkContext sc, JavaPairRDD<String, ClientData> clients, List<String> clientIds,
            TrainSettings settings, FederatedStrategy strategy, RunStore store, Options options, String resolvedConfig,
            DecoderModel baseOnDriver) {
        this.sc = sc;
        this.clients = clients;
        this.clientIds = clientIds.stream().sorted().toList();
        this.settings = settings;
        this.strategy = strategy;
        this.store = store;
        this.options = options;
        this.resolvedConfig = resolvedConfig;
        this.baseOnDriver = baseOnDriver;
        checkArgument(this.clientIds.size() >= options.minClients(),
                "only %s clients have training data but server.min_clients=%s; lower it or provide more clients",
                this.clientIds.size(), options.minClients());
    }

    /** Clients of round {@code round}: a seeded shuffle of the sorted ids, first k (k from count/fraction/min). */
    public static List<String> sample(List<String> sortedIds, int round, Options o) {
        int n = sortedIds.size();
        int k = o.clientsPerRound() > 0 ? o.clientsPerRound() : (int) Math.ceil(o.fraction() * n);
        k = Math.min(n, Math.max(k, o.minClients()));
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

    public Result run() throws IOException {
        store.discardUncommitted();
        Map<String, HostTensor> initTensors;
        try (NDManager m = baseOnDriver.manager().newSubManager();
                LoraAdapter init = LoraAdapter.create(baseOnDriver, settings.lora(), settings.seed(), m)) {
            initTensors = init.exportTensors();
        }
        Map<String, long[]> layout = AdapterVectors.layoutOf(initTensors);
        float[] global = AdapterVectors.flatten(initTensors);
        int start = 1;
        var last = store.lastCommittedRound();
        if (last.isPresent()) {
            RunStore.CommittedRound cr = store.readRound(last.get());
            global = readVector(cr.files().get("global.safetensors"), layout);
            Map<String, float[]> state = new LinkedHashMap<>();
            if (cr.files().containsKey("strategy_state.safetensors")) {
                SafetensorsReader.stream(new ByteArrayInputStream(cr.files().get("strategy_state.safetensors")), "strategy state",
                        t -> state.put(t.name(), t.toFloats()));
            }
            strategy.restoreState(state, cr.metadata().get("strategy_rounds").getAsLong());
            start = last.get() + 1;
        }
        int resumedFrom = start - 1;
        List<RoundMetrics> metrics = new ArrayList<>();
        for (int round = start; round <= options.rounds(); round++) {
            RoundMetrics rm;
            float[][] next = new float[1][];
            rm = runRound(round, global, layout, next);
            global = next[0];
            metrics.add(rm);
            System.out.printf(Locale.ROOT, "round %d/%d: %d/%d clients, train loss %.4f%s, up %.1f KB, %.1fs train, %.2fs aggregate, %.2fs commit%n",
                    round, options.rounds(), rm.succeeded(), rm.sampled(), rm.trainLoss(),
                    Double.isNaN(rm.evalLoss()) ? "" : String.format(Locale.ROOT, ", eval loss %.4f (ppl %.2f)", rm.evalLoss(), rm.evalPerplexity()),
                    rm.bytesUp() / 1024.0, rm.trainSeconds(), rm.aggregateSeconds(), rm.commitSeconds());
            if (options.stopAfterRound() > 0 && round == options.stopAfterRound()) {
                break;
            }
        }
        if (store.lastCommittedRound().orElse(0) == options.rounds()) {
            writeFinal(global, layout);
        }
        return new Result(global, metrics, resumedFrom, store.base());
    }

    private RoundMetrics runRound(int round, float[] global, Map<String, long[]> layout, float[][] next) throws IOException {
        List<String> sampled = sample(clientIds, round, options);
        sc.setJobGroup("understudy-round-" + round, "round " + round + ": local training (" + sampled.size() + " clients)", false);
        long t0 = System.nanoTime();
        Broadcast<float[]> bcast = sc.broadcast(global);
        Set<String> sampledSet = new HashSet<>(sampled);
        JavaRDD<ClientResult> results = clients.mapPartitions(
                new LocalLoraTrainFunction(round, bcast, layout, sampledSet, settings));
        List<ClientResult> ok = new ArrayList<>();
        List<ClientFailure> failures = new ArrayList<>();
        WeightedMean mean;
        long bytesUp;
        double lossSum = 0;
        long lossWeight = 0;
        int n = global.length;
        Optional<float[]> updated;
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
            RoundAccumulator acc = RoundAccumulator.empty(n);
            for (java.util.Iterator<RoundAccumulator> it = partials.toLocalIterator(); it.hasNext(); ) {
                RoundAccumulator.merge(acc, it.next());
            }
            partials.unpersist(false);
            long t1 = System.nanoTime();
            mean = acc.mean;
            bytesUp = acc.bytesUp;
            acc.failures.forEach(f -> failures.add(new ClientFailure(f[0], f[1])));
            lossSum = acc.lossSum;
            lossWeight = acc.lossWeight;
            int succeeded = acc.mean.count();
            updated = tooManyFailures(failures.size(), sampled.size()) || succeeded == 0
                    ? Optional.empty()
                    : strategy.applyMean(round, global, mean, failures.size());
            next[0] = updated.orElse(global);
            long t2 = System.nanoTime();
            return finishRound(round, sampled, succeeded, failures, lossSum, lossWeight, bytesUp, next[0], layout,
                    (t1 - t0) / 1e9, (t2 - t1) / 1e9, updated.isPresent());
        }
        List<ClientResult> all = new ArrayList<>(results.collect());
        all.sort(java.util.Comparator.comparing(ClientResult::clientId)); // order-independent of task timing
        long t1 = System.nanoTime();
        List<ClientUpdate> updates = new ArrayList<>();
        bytesUp = 0;
        for (ClientResult r : all) {
            if (r.ok()) {
                ok.add(r);
                updates.add(toUpdate(r));
                bytesUp += r.payloadBytes();
                lossSum += r.trainLoss() * r.numExamples();
                lossWeight += r.numExamples();
            } else {
                failures.add(new ClientFailure(r.clientId(), r.failure()));
            }
        }
        updated = tooManyFailures(failures.size(), sampled.size()) || updates.isEmpty()
                ? Optional.empty()
                : strategy.aggregate(round, global, updates, failures);
        next[0] = updated.orElse(global);
        long t2 = System.nanoTime();
        return finishRound(round, sampled, ok.size(), failures, lossSum, lossWeight, bytesUp, next[0], layout,
                (t1 - t0) / 1e9, (t2 - t1) / 1e9, updated.isPresent());
    }

    private boolean tooManyFailures(int failed, int sampled) {
        return failed > options.maxFailedFraction() * sampled;
    }

    static ClientUpdate toUpdate(ClientResult r) {
        return new ClientUpdate(r.clientId(), r.numExamples(), r.delta(), r.trainLoss(), r.trainTokens(), Map.of());
    }

    private RoundMetrics finishRound(int round, List<String> sampled, int succeeded, List<ClientFailure> failures,
            double lossSum, long lossWeight, long bytesUp, float[] global, Map<String, long[]> layout, double trainSeconds,
            double aggregateSeconds, boolean updated) throws IOException {
        double evalLoss = Double.NaN;
        boolean evalNow = round == options.rounds() || (options.evalEvery() > 0 && round % options.evalEvery() == 0);
        if (evalNow) {
            sc.setJobGroup("understudy-round-" + round, "round " + round + ": evaluation (" + clientIds.size() + " clients)", false);
            Broadcast<float[]> bcast = sc.broadcast(global);
            List<EvalFunction.ClientEval> evals = clients.mapPartitions(new EvalFunction(bcast, layout, settings)).collect();
            double nll = 0;
            long tokens = 0;
            for (EvalFunction.ClientEval e : evals) {
                nll += e.nll();
                tokens += e.tokens();
            }
            evalLoss = tokens == 0 ? Double.NaN : nll / tokens;
        }
        long t0 = System.nanoTime();
        RoundMetrics rm = new RoundMetrics(round, sampled.size(), succeeded, failures.size(),
                lossWeight == 0 ? Double.NaN : lossSum / lossWeight, evalLoss, Math.exp(evalLoss), bytesUp,
                4L * global.length * sampled.size(), trainSeconds, aggregateSeconds, 0, updated);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("global.safetensors", writeVector(global, layout));
        Map<String, float[]> state = strategy.state();
        if (!state.isEmpty()) {
            List<TensorEntry> entries = new ArrayList<>();
            for (Map.Entry<String, float[]> e : new TreeMap<>(state).entrySet()) {
                entries.add(TensorEntry.ofFloats(e.getKey(), new long[] {e.getValue().length}, e.getValue()));
            }
            files.put("strategy_state.safetensors", RunStore.bytes(out -> SafetensorsWriter.write(out, entries, null)));
        }
        files.put("config.yaml", resolvedConfig.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        JsonObject meta = new JsonObject();
        meta.addProperty("round", round);
        meta.addProperty("strategy", strategy.name());
        meta.addProperty("strategy_rounds", strategy.roundsApplied());
        meta.addProperty("seed", options.seed());
        // the learning-rate schedule position is derived: each client resumes at (round − 1) × its steps
        meta.add("metrics", new com.google.gson.Gson().toJsonTree(rm));
        com.google.gson.JsonArray failed = new com.google.gson.JsonArray();
        failures.forEach(f -> failed.add(f.clientId() + ": " + f.reason()));
        meta.add("failures", failed);
        store.commitRound(round, files, meta);
        double commitSeconds = (System.nanoTime() - t0) / 1e9;
        RoundMetrics done = new RoundMetrics(rm.round(), rm.sampled(), rm.succeeded(), rm.failed(), rm.trainLoss(),
                rm.evalLoss(), rm.evalPerplexity(), rm.bytesUp(), rm.bytesDown(), rm.trainSeconds(), rm.aggregateSeconds(),
                commitSeconds, rm.updated());
        store.appendLine("metrics.jsonl", new com.google.gson.Gson().toJson(done));
        return done;
    }

    private void writeFinal(float[] global, Map<String, long[]> layout) throws IOException {
        try (NDManager m = baseOnDriver.manager().newSubManager();
                LoraAdapter adapter = LoraAdapter.create(baseOnDriver, settings.lora(), 0, m)) {
            adapter.load(AdapterVectors.unflatten(layout, global));
            Path tmp = Files.createTempDirectory("understudy-adapter");
            PeftAdapters.save(adapter, baseOnDriver.config(), new DirectoryModelSink(tmp), settings.modelUri());
            for (String f : List.of(PeftAdapters.CONFIG_FILE, PeftAdapters.WEIGHTS_FILE)) {
                store.write("adapter/" + f, Files.readAllBytes(tmp.resolve(f)));
                Files.delete(tmp.resolve(f));
            }
            Files.delete(tmp);
        }
    }

    static byte[] writeVector(float[] v, Map<String, long[]> layout) {
        List<TensorEntry> entries = new ArrayList<>();
        AdapterVectors.unflatten(layout, v).forEach((k, t) -> entries.add(TensorEntry.ofFloats(k, t.shape(), t.values())));
        return RunStore.bytes(out -> SafetensorsWriter.write(out, entries, null));
    }

    static float[] readVector(byte[] bytes, Map<String, long[]> layout) throws IOException {
        Map<String, HostTensor> t = new LinkedHashMap<>();
        SafetensorsReader.stream(new ByteArrayInputStream(bytes), "global adapter",
                e -> t.put(e.name(), new HostTensor(e.shape(), e.toFloats())));
        checkArgument(t.keySet().equals(layout.keySet()), "committed adapter tensors %s do not match the model's %s",
                t.keySet(), layout.keySet());
        Map<String, HostTensor> ordered = new LinkedHashMap<>();
        layout.keySet().forEach(k -> ordered.put(k, t.get(k)));
        return AdapterVectors.flatten(ordered);
    }

    /** treeAggregate state of a linear round: the weighted mean plus byte, loss and failure tallies. */
    static final class RoundAccumulator implements Serializable {
        private static final long serialVersionUID = 1L;
        WeightedMean mean;
        long bytesUp;
        double lossSum;
        long lossWeight;
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
            a.bytesUp += r.payloadBytes();
            a.lossSum += r.trainLoss() * r.numExamples();
            a.lossWeight += r.numExamples();
            return a;
        }

        static RoundAccumulator merge(RoundAccumulator a, RoundAccumulator b) {
            a.mean = a.mean.merge(b.mean);
            a.bytesUp += b.bytesUp;
            a.lossSum += b.lossSum;
            a.lossWeight += b.lossWeight;
            a.failures.addAll(b.failures);
            return a;
        }
    }
}
