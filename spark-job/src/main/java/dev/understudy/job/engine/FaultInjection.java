package dev.understudy.job.engine;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Test-only fault hook: makes the first attempt of a chosen (round, client) task fail, to check that
 * Spark's retry yields the identical update. Inert unless a test arms it (executors in the same JVM
 * as the test, i.e. local mode).
 */
public final class FaultInjection {
    private FaultInjection() {}

    private static final Set<String> ARMED = ConcurrentHashMap.newKeySet();

    /** Fails the first attempt of the task training {@code clientId} in {@code round}. */
    public static void failFirstAttempt(int round, String clientId) {
        ARMED.add(round + "/" + clientId);
    }

    public static void clear() {
        ARMED.clear();
    }

    static void maybeFail(int round, String clientId, int attempt) {
        if (attempt == 0 && ARMED.contains(round + "/" + clientId)) {
            throw new IllegalStateException("injected failure for round " + round + " client " + clientId);
        }
    }
}
