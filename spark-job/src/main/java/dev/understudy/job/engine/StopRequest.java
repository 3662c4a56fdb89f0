package dev.understudy.job.engine;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A clean stop on SIGTERM (what YARN, Kubernetes and schedulers send before killing the driver):
 * the first signal lets the round in progress finish and commit, then {@link RoundEngine} stops
 * before the next one, the run's lease is released as on any return, and the command exits with
 * status 143 after printing how to resume. A second signal stops at once (exit 143): the round in
 * progress is left uncommitted, which {@code resume} discards, and the lease is left to go stale.
 */
public final class StopRequest {
    private StopRequest() {}

    /** Exit status of a run stopped by SIGTERM (128 + 15, as the shell reports it). */
    public static final int EXIT_STATUS = 143;

    private static final AtomicBoolean REQUESTED = new AtomicBoolean();
    private static boolean installed;

    /** Replaces the JVM's SIGTERM handling (shutdown) by a stop request; idempotent. */
    @SuppressWarnings("sunapi")
    public static synchronized void installTermHandler() {
        if (installed) {
            return;
        }
        installed = true;
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), sig -> {
            if (REQUESTED.getAndSet(true)) {
                System.err.println("understudy: second SIGTERM: stopping now; the round in progress is not committed");
                System.exit(EXIT_STATUS);
            }
            System.err.println("understudy: SIGTERM: finishing the round in progress, then stopping (send it again to"
                    + " stop at once)");
        });
    }

    /** Whether a stop was requested. */
    public static boolean requested() {
        return REQUESTED.get();
    }

    /** Requests a stop (the signal handler's effect; for tests in the same JVM). */
    public static void request() {
        REQUESTED.set(true);
    }

    /** Clears a request (tests). */
    public static void clear() {
        REQUESTED.set(false);
    }
}
