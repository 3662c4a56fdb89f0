package dev.understudy.job.engine;

import java.util.List;
import java.util.Locale;

/** The round report: the progress line printed per round, the final table and {@code metrics.jsonl}. */
final class RoundReport {
    private RoundReport() {}

    static String jsonLines(List<RoundEngine.RoundMetrics> metrics) {
        StringBuilder b = new StringBuilder();
        metrics.forEach(m -> b.append(RoundEngine.GSON.toJson(m)).append('\n'));
        return b.toString();
    }

    static String progressLine(RoundEngine.RoundMetrics rm, int rounds) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "round %d/%d: %d/%d clients, train loss %.4f",
                rm.round(), rounds, rm.succeeded(), rm.sampled(), rm.trainLoss()));
        if (!Double.isNaN(rm.evalLoss())) {
            b.append(String.format(Locale.ROOT, ", eval loss %.4f (ppl %.2f)", rm.evalLoss(), rm.evalPerplexity()));
        }
        if (!Double.isNaN(rm.evalAccuracy())) {
            b.append(String.format(Locale.ROOT, ", accuracy %.3f", rm.evalAccuracy()));
        }
        rm.methodMetrics().forEach((k, v) -> b.append(String.format(Locale.ROOT, ", %s %.4f", k, v)));
        b.append(String.format(Locale.ROOT, " | up %.1f KB | %.1fs: train %.1fs, aggregate %.2fs", rm.bytesUp() / 1024.0,
                rm.roundSeconds(), rm.trainSeconds(), rm.aggregateSeconds()));
        if (rm.serverSeconds() > 0.005) {
            b.append(String.format(Locale.ROOT, ", server %.2fs", rm.serverSeconds()));
        }
        if (rm.evalSeconds() > 0) {
            b.append(String.format(Locale.ROOT, ", eval %.2fs", rm.evalSeconds()));
        }
        b.append(String.format(Locale.ROOT, ", commit %.2fs", rm.commitSeconds()));
        if (rm.failed() > 0) {
            b.append(String.format(Locale.ROOT, " | %d failed%s", rm.failed(), rm.updated() ? "" : ", global kept"));
        }
        return b.toString();
    }


    /** The final table: one line per round. */
    static String summaryTable(List<RoundEngine.RoundMetrics> metrics) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%n%5s %8s %10s %10s %9s %9s %10s %8s%n", "round", "clients", "train loss",
                "eval loss", "eval ppl", "accuracy", "up (KB)", "seconds"));
        for (RoundEngine.RoundMetrics m : metrics) {
            b.append(String.format(Locale.ROOT, "%5d %4d/%-3d %10.4f %10s %9s %9s %10.1f %8.1f%n", m.round(), m.succeeded(),
                    m.sampled(), m.trainLoss(), fmt(m.evalLoss(), "%.4f"), fmt(m.evalPerplexity(), "%.2f"),
                    fmt(m.evalAccuracy(), "%.3f"), m.bytesUp() / 1024.0, m.roundSeconds()));
        }
        return b.toString();
    }

    private static String fmt(double v, String f) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, f, v);
    }
}
