package dev.understudy.job.bench;

import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkContext;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Spark listener that sums the task metrics of the round engine's jobs per round and phase. The
 * engine names its jobs {@code group = understudy-round-N}, {@code description = "round N: <phase>
 * (...)"} (phases: local training, partial sums, server step, evaluation), which Spark hands to the
 * listener with each submitted stage.
 */
final class RoundStageMetrics extends SparkListener {
    private static final Pattern GROUP = Pattern.compile("understudy-round-(\\d+)");
    private static final Pattern DESCRIPTION = Pattern.compile("round \\d+: ([^(]*?)\\s*(\\(.*)?");

    /** One phase of one round. */
    record Key(int round, String phase) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            return round != o.round ? Integer.compare(round, o.round) : phase.compareTo(o.phase);
        }
    }

    /** Sums over the tasks of one phase (milliseconds and bytes as Spark reports them). */
    static final class Totals {
        int tasks;
        long runMs;
        long deserializeMs;
        long resultSerializeMs;
        long gcMs;
        long resultBytes;

        static Totals of(int tasks, long runMs, long deserializeMs, long resultSerializeMs, long gcMs, long resultBytes) {
            Totals t = new Totals();
            t.tasks = tasks;
            t.runMs = runMs;
            t.deserializeMs = deserializeMs;
            t.resultSerializeMs = resultSerializeMs;
            t.gcMs = gcMs;
            t.resultBytes = resultBytes;
            return t;
        }
    }

    static final Totals NONE = new Totals();

    private final Map<Integer, Key> stages = new TreeMap<>();
    private final Map<Key, Totals> totals = new TreeMap<>();

    /** The round and phase of a job from its group id and description, or null for a job outside the round loop. */
    static Key classify(String group, String description) {
        if (group == null || description == null) {
            return null;
        }
        Matcher g = GROUP.matcher(group);
        Matcher d = DESCRIPTION.matcher(description);
        if (!g.matches() || !d.matches()) {
            return null;
        }
        return new Key(Integer.parseInt(g.group(1)), d.group(1));
    }

    @Override
    public synchronized void onStageSubmitted(SparkListenerStageSubmitted e) {
        Properties p = e.properties();
        if (p == null) {
            return;
        }
        Key k = classify(p.getProperty("spark.jobGroup.id"), p.getProperty("spark.job.description"));
        if (k != null) {
            stages.put(e.stageInfo().stageId(), k);
        }
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd e) {
        Key k = stages.get(e.stageId());
        TaskMetrics m = e.taskMetrics();
        if (k == null || m == null) {
            return;
        }
        Totals t = totals.computeIfAbsent(k, x -> new Totals());
        t.tasks++;
        t.runMs += m.executorRunTime();
        t.deserializeMs += m.executorDeserializeTime();
        t.resultSerializeMs += m.resultSerializationTime();
        t.gcMs += m.jvmGCTime();
        t.resultBytes += m.resultSize();
    }

    /** Waits until Spark delivered every event so far, returns the totals gathered since the last drain and forgets them. */
    Map<Key, Totals> drain(SparkContext sc) throws TimeoutException {
        sc.listenerBus().waitUntilEmpty();
        synchronized (this) {
            Map<Key, Totals> out = new TreeMap<>(totals);
            totals.clear();
            stages.clear();
            return out;
        }
    }
}
