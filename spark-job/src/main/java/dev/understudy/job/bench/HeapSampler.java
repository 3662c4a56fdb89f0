package dev.understudy.job.bench;

import java.lang.management.ManagementFactory;

/**
 * Retained heap of this JVM over a stretch of work: a daemon thread forces a full collection
 * every {@code intervalMs} and reads the heap in use right after it, which is then the live set;
 * the peak of those readings is the most the work kept reachable at once (to the sampling
 * interval). Heap pools' {@code getCollectionUsage()} is not used: with G1 the old generation's
 * figure is only refreshed by mixed and full collections, so after young collections it is stale.
 * The forced collections slow the work down; use it for memory runs, not timing runs.
 */
final class HeapSampler implements AutoCloseable {
    private final long intervalMs;
    private final long baseline;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long peak;
    private volatile int samples;

    /** Takes the baseline (a full collection now) and starts sampling. */
    HeapSampler(long intervalMs) {
        this.intervalMs = intervalMs;
        this.baseline = retainedNow();
        this.peak = baseline;
        this.thread = new Thread(this::loop, "understudy-heap-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    /** Heap in use right after a full collection, in bytes. */
    static long retainedNow() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private void loop() {
        while (running) {
            try {
                Thread.sleep(intervalMs);
            } catch (InterruptedException e) {
                return;
            }
            sample();
        }
    }

    private synchronized void sample() {
        peak = Math.max(peak, retainedNow());
        samples++;
    }

    /** Baseline and peak retained heap (bytes) and the number of samples after the baseline. */
    record Reading(long baselineBytes, long peakBytes, int samples) {}

    /** Stops sampling (with one last sample) and returns the readings. */
    Reading stop() {
        running = false;
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sample();
        return new Reading(baseline, peak, samples);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
