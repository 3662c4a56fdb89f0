package dev.understudy.job.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.federation.AdapterLayout;
import dev.understudy.ops.federation.FederatedStrategy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The contract every {@link FederatedMethod} keeps, as a test any method runs over the
 * {@link EngineFixture} (3 rounds, evaluation in rounds 2 and 3):
 *
 * <ul>
 *   <li>hook order: beforeFederation → clientModel → (planRound r → afterAggregation r →
 *       evaluateServer r on evaluation rounds)* → finish; a resumed run restores the state instead of
 *       preparing again and plans only the rounds it runs;
 *   <li>state round trip: {@code restoreState(state())} reproduces the state;
 *   <li>resume after a committed round and after a half-written one ends bit-identical to an
 *       uninterrupted run: global vectors, committed client-model versions, statistics, method state;
 *   <li>a retried client task gives the identical round (statistics merged deterministically).
 * </ul>
 */
final class MethodContract {
    private MethodContract() {}

    /** Runs the contract; returns the uninterrupted run (for method-specific checks). */
    static RoundEngine.Result check(EngineFixture fx, JavaSparkContext jsc, Path dir, Supplier<FederatedMethod> methods,
            Supplier<FederatedStrategy> strategies) throws Exception {
        int rounds = 3;
        Recording full = new Recording(methods.get());
        Path fullDir = dir.resolve("full");
        RoundEngine.Result r = fx.run(jsc, fullDir, full, strategies.get(), EngineFixture.options(rounds, 0, 0));
        assertThat(full.calls).as("hook order of an uninterrupted run").containsExactly("before", "clientModel",
                "plan 1", "after 1", "plan 2", "after 2", "evaluate 2", "plan 3", "after 3", "evaluate 3", "finish");
        assertThat(r.rounds()).hasSize(rounds).allSatisfy(m -> assertThat(m.updated()).isTrue());

        FederatedMethod copy = methods.get();
        copy.restoreState(r.methodState());
        assertSameState(copy.state(), r.methodState(), "restoreState(state()) round trip");

        // resume after a committed round
        Path one = dir.resolve("resume-after-1");
        Recording first = new Recording(methods.get());
        fx.run(jsc, one, first, strategies.get(), EngineFixture.options(rounds, 1, 0));
        assertThat(first.calls).containsExactly("before", "clientModel", "plan 1", "after 1");
        Recording second = new Recording(methods.get());
        RoundEngine.Result resumed = fx.run(jsc, one, second, strategies.get(), EngineFixture.options(rounds, 0, 0));
        assertThat(second.calls).as("hook order of a resumed run").containsExactly("restore", "plan 2", "after 2",
                "evaluate 2", "plan 3", "after 3", "evaluate 3", "finish");
        assertThat(resumed.resumedFrom()).isEqualTo(1);
        assertSameRun(fullDir, one, r, resumed, rounds);

        // resume after a half-written round (files but no manifest)
        Path two = dir.resolve("resume-after-half-3");
        fx.run(jsc, two, new Recording(methods.get()), strategies.get(), EngineFixture.options(rounds, 2, 0));
        Files.createDirectories(two.resolve("rounds/round-00003"));
        Files.writeString(two.resolve("rounds/round-00003/global.safetensors"), "partial");
        Files.writeString(two.resolve("rounds/round-00003/statistics.safetensors"), "partial");
        Recording third = new Recording(methods.get());
        RoundEngine.Result resumed2 = fx.run(jsc, two, third, strategies.get(), EngineFixture.options(rounds, 0, 0));
        assertThat(third.calls).containsExactly("restore", "plan 3", "after 3", "evaluate 3", "finish");
        assertSameRun(fullDir, two, r, resumed2, rounds);

        // a retried task (first attempt of one client's task fails) gives the identical run
        Path retried = dir.resolve("retried");
        List<String> sampled = RoundEngine.sample(fx.ids(), 2, EngineFixture.options(rounds, 0, 0));
        FaultInjection.failFirstAttempt(2, sampled.get(sampled.size() - 1));
        try {
            RoundEngine.Result again = fx.run(jsc, retried, new Recording(methods.get()), strategies.get(),
                    EngineFixture.options(rounds, 0, 0));
            assertSameRun(fullDir, retried, r, again, rounds);
        } finally {
            FaultInjection.clear();
        }
        return r;
    }

    private static void assertSameRun(Path expectedDir, Path actualDir, RoundEngine.Result expected,
            RoundEngine.Result actual, int rounds) throws IOException {
        assertThat(actual.finalAdapter()).isEqualTo(expected.finalAdapter());
        assertSameState(actual.methodState(), expected.methodState(), "method state");
        RunStore a = new RunStore(expectedDir.toUri(), new Configuration());
        RunStore b = new RunStore(actualDir.toUri(), new Configuration());
        for (int round = 1; round <= rounds; round++) {
            var ra = a.readRound(round);
            var rb = b.readRound(round);
            assertThat(rb.metadata().get("client_model")).as("client model of round %s", round)
                    .isEqualTo(ra.metadata().get("client_model"));
            assertThat(rb.files().keySet()).as("files of round %s", round).isEqualTo(ra.files().keySet());
            for (String f : List.of("global.safetensors", "statistics.safetensors", "method_state.safetensors",
                    "strategy_state.safetensors")) {
                if (ra.files().containsKey(f)) {
                    assertThat(rb.files().get(f)).as("%s of round %s", f, round).isEqualTo(ra.files().get(f));
                }
            }
        }
    }

    private static void assertSameState(Map<String, float[]> actual, Map<String, float[]> expected, String what) {
        assertThat(new TreeMap<>(actual).keySet()).as(what).isEqualTo(new TreeMap<>(expected).keySet());
        expected.forEach((k, v) -> assertThat(actual.get(k)).as(what + ": " + k).isEqualTo(v));
    }

    /** Delegates every hook to the method under test and records the order of the ones the loop drives. */
    static final class Recording implements FederatedMethod {
        final FederatedMethod m;
        final List<String> calls = new ArrayList<>();

        Recording(FederatedMethod m) {
            this.m = m;
        }

        @Override
        public String name() {
            return m.name();
        }

        @Override
        public String clientModelUri() {
            return m.clientModelUri();
        }

        @Override
        public String serverModelUri() {
            return m.serverModelUri();
        }

        @Override
        public void beforeFederation(MethodContext ctx) throws IOException {
            calls.add("before");
            m.beforeFederation(ctx);
        }

        @Override
        public ClientModel clientModel(MethodContext ctx) throws IOException {
            calls.add("clientModel");
            return m.clientModel(ctx);
        }

        @Override
        public Optional<ClientModelChange> planRound(MethodContext ctx, int round, float[] global) throws IOException {
            calls.add("plan " + round);
            return m.planRound(ctx, round, global);
        }

        @Override
        public ClientTask clientTask() {
            return m.clientTask();
        }

        @Override
        public FederatedStrategy strategy(FederatedStrategy configured, AdapterLayout layout) {
            return m.strategy(configured, layout);
        }

        @Override
        public float[] afterAggregation(MethodContext ctx, int round, float[] aggregated, ClientStatistics statistics)
                throws IOException {
            calls.add("after " + round);
            return m.afterAggregation(ctx, round, aggregated, statistics);
        }

        @Override
        public Map<String, Double> evaluateServer(MethodContext ctx, int round, float[] global) throws IOException {
            calls.add("evaluate " + round);
            return m.evaluateServer(ctx, round, global);
        }

        @Override
        public Map<String, Double> roundMetrics() {
            return m.roundMetrics();
        }

        @Override
        public Map<String, float[]> state() {
            return m.state();
        }

        @Override
        public void restoreState(Map<String, float[]> state) {
            calls.add("restore");
            m.restoreState(state);
        }

        @Override
        public void finish(MethodContext ctx, float[] global) throws IOException {
            calls.add("finish");
            m.finish(ctx, global);
        }

        @Override
        public void close() {
            m.close();
        }
    }
}
