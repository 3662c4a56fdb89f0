package dev.understudy.job.engine;

import dev.understudy.ops.federation.AdapterLayout;
import dev.understudy.ops.federation.ClientFailure;
import dev.understudy.ops.federation.ClientUpdate;
import dev.understudy.ops.federation.FederatedStrategy;
import dev.understudy.ops.federation.WeightedMean;
import dev.understudy.ops.model.HfModels;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The contract's test method: it builds its own client model in {@code beforeFederation} (a fresh
 * random-init model of the fixture's architecture, written to {@code method/client-model/v1}),
 * replaces it before round 2 ({@code v2}, another seed, same layout), has its clients return two
 * statistics (their example count and a histogram of their training token ids) and aggregates with
 * its own rule ({@link FreezeAMean}: FFA-LoRA's frozen A, the clients' B deltas averaged unweighted;
 * Sun et al. 2024, arXiv 2403.12313), which needs every update.
 */
final class VersionedTestMethod implements FederatedMethod {
    static final String NAME = "versioned-test";

    private final String configuredUri;
    /** Statistics the engine handed to {@link #afterAggregation}, by round (test inspection; not state). */
    final Map<Integer, ClientStatistics> seen = new java.util.TreeMap<>();
    private float rounds;

    VersionedTestMethod(String configuredUri) {
        this.configuredUri = configuredUri;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String clientModelUri() {
        return configuredUri;
    }

    static Path versionDir(MethodContext ctx, int version) {
        return Path.of(URI.create(ctx.store().base() + "/method/client-model/v" + version));
    }

    /** Builds version {@code version} (deterministic by its seed; rewritten whole if a crashed run left it half-written). */
    private static ClientModel build(MethodContext ctx, int version) throws IOException {
        Path dir = versionDir(ctx, version);
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        HfModels.createRandom(EngineFixture.CONFIG, 100 + version, EngineFixture.SPEC, dir);
        return new ClientModel(dir.toUri().toString(), version);
    }

    @Override
    public void beforeFederation(MethodContext ctx) throws IOException {
        build(ctx, 1);
    }

    @Override
    public ClientModel clientModel(MethodContext ctx) {
        return new ClientModel(versionDir(ctx, 1).toUri().toString(), 1);
    }

    @Override
    public Optional<ClientModelChange> planRound(MethodContext ctx, int round, float[] global) throws IOException {
        if (round == 2) {
            return Optional.of(new ClientModelChange(build(ctx, 2), null));
        }
        return Optional.empty();
    }

    @Override
    public ClientTask clientTask() {
        return new CountingTask();
    }

    @Override
    public FederatedStrategy strategy(FederatedStrategy configured, AdapterLayout layout) {
        return new FreezeAMean(layout);
    }

    @Override
    public float[] afterAggregation(MethodContext ctx, int round, float[] aggregated, ClientStatistics statistics) {
        seen.put(round, statistics);
        rounds++;
        return aggregated;
    }

    @Override
    public Map<String, float[]> state() {
        return Map.of("rounds", new float[] {rounds});
    }

    @Override
    public void restoreState(Map<String, float[]> state) {
        rounds = state.get("rounds")[0];
    }

    /** LoRA training plus the statistics {@code examples} [1] and {@code token_counts} [vocab]. */
    static final class CountingTask extends LoraClientTask {
        private static final long serialVersionUID = 1L;

        @Override
        public String name() {
            return "lora+counts";
        }

        @Override
        public ClientResult train(Round r, ClientData data) {
            return super.train(r, data).withStatistics(counts(data, r.model().config().vocabSize()));
        }

        static Map<String, double[]> counts(ClientData data, int vocab) {
            double[] hist = new double[vocab];
            for (ClientData.Tokens t : data.train()) {
                for (int id : t.ids()) {
                    hist[id]++;
                }
            }
            return Map.of("examples", new double[] {data.numTrain()}, "token_counts", hist);
        }
    }

    /**
     * next = global + (A tensors: 0, B tensors: the unweighted mean of the clients' B deltas, summed
     * in client order). A non-linear rule by declaration: it reads the A/B roles of the layout.
     */
    static final class FreezeAMean implements FederatedStrategy {
        private final AdapterLayout layout;
        private long applied;

        FreezeAMean(AdapterLayout layout) {
            this.layout = layout;
        }

        @Override
        public String name() {
            return "freeze_a_mean";
        }

        @Override
        public boolean isLinear() {
            return false;
        }

        @Override
        public Optional<float[]> aggregate(int round, float[] global, List<ClientUpdate> updates,
                List<ClientFailure> failures) {
            if (updates.isEmpty()) {
                return Optional.empty();
            }
            float[] next = global.clone();
            for (AdapterLayout.Tensor t : layout.withRole(AdapterLayout.Role.LORA_B)) {
                for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                    double s = 0;
                    for (ClientUpdate u : updates) {
                        s += u.delta()[i];
                    }
                    next[i] = (float) (global[i] + s / updates.size());
                }
            }
            applied++;
            return Optional.of(next);
        }

        @Override
        public Optional<float[]> applyMean(int round, float[] global, WeightedMean mean, int failures) {
            throw new UnsupportedOperationException("freeze_a_mean needs every update");
        }

        @Override
        public Map<String, float[]> state() {
            return Map.of();
        }

        @Override
        public long roundsApplied() {
            return applied;
        }

        @Override
        public void restoreState(Map<String, float[]> state, long roundsApplied) {
            applied = roundsApplied;
        }
    }

    /** Names of the lora_A tensors of {@code layout}, for the frozen-A check. */
    static List<AdapterLayout.Tensor> aTensors(Map<String, long[]> layout) {
        return new ArrayList<>(AdapterLayout.of(layout).withRole(AdapterLayout.Role.LORA_A));
    }
}
