package dev.understudy.job.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonNull;
import com.google.gson.JsonPrimitive;
import com.google.gson.JsonSerializer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The results of {@code understudy bench fedpt}: one table of models/trainings evaluated on the
 * same held-out rows, the share of the large-base → FedAvg-large gap the proxy-tuned large model
 * closes, the α ablation, and the per-client communication and memory of FedPT against FedAvg-LoRA
 * on the large model, next to the paper's claims. Pure data plus arithmetic and rendering
 * (Markdown, JSON, console text), tested against hand-computed values.
 *
 * @param title data set and setting, one line
 * @param metricName "accuracy" (classification, label scoring) or "ROUGE-L" (instruction, F1 of greedy generations)
 * @param setup facts about the split and the runs (name → value), printed in order
 * @param rows the main table, in order
 * @param ablation the α ablation
 * @param traffic per-client bytes of the FedPT and FedAvg-large runs
 * @param memory peak memory of one client's local training, per model
 * @param gapTarget share of the gap the proxy should close (0.7)
 * @param command the command that produced the report
 * @param phaseSeconds wall seconds per phase
 * @param samples example generations (instruction data): row id → up to a few samples
 */
public record FedPtReport(String title, String metricName, Map<String, String> setup, List<Row> rows,
        List<AblationRow> ablation, List<Traffic> traffic, List<Memory> memory, double gapTarget, String command,
        Map<String, Double> phaseSeconds, Map<String, List<String[]>> samples) {

    /** Row ids the gap arithmetic refers to. */
    public static final String LARGE_BASE = "large_base";
    public static final String PROXY = "fedpt_proxy";
    public static final String FEDAVG_LARGE = "fedavg_large";
    public static final String PROXY_NO_KD = "proxy_fedavg_small";
    public static final String FEDPT = "fedpt";

    /** The paper's claims (methods.md §1(d), unverified claims reported in a summary): reductions in percent. */
    public static final double[] PAPER_MEMORY_REDUCTION = {36, 44};
    public static final double[] PAPER_COMM_REDUCTION = {36, 40};

    /**
     * One model/training evaluated on the held-out rows.
     *
     * @param metric accuracy or ROUGE-L (NaN when not computed)
     * @param loss mean response negative log-likelihood per token (nats)
     * @param examples held-out examples evaluated
     * @param runMetric / runLoss the run's own last-round evaluation (NaN for base models): the same
     *     rows when every held-out row is evaluated
     */
    public record Row(String id, String model, String training, double metric, double loss, long examples,
            double runMetric, double runLoss, String artifacts) {
        public double perplexity() {
            return Math.exp(loss);
        }
    }

    /**
     * One α of the ablation.
     *
     * @param evalOnly the proxy with the main FedPT run's final adapter, evaluated at α
     * @param noKd the proxy with FedAvg-small's final adapter (proxy-tuning without distillation) at
     *     α, or null without that run
     * @param retrained FedPT trained with this α (its proxy at α), or null when not run
     * @param retrainedSmall that run's small model after distillation, or null
     */
    public record AblationRow(double alpha, Score evalOnly, Score noKd, Score retrained, Score retrainedSmall) {}

    /** Metric and loss of one evaluation. */
    public record Score(double metric, double loss) {}

    /**
     * Per-client traffic of a run, averaged over its rounds.
     *
     * @param adapterParams floats of the global adapter (what one download carries)
     */
    public record Traffic(String run, String model, double upPerClient, double downPerClient, long adapterParams,
            int rounds) {}

    /** One client's local training memory for a model ({@link MemoryProbe}). */
    public record Memory(String run, String model, MemoryProbe.Result result) {}

    /**
     * Share of the gap from {@code base} to {@code target} that {@code value} closes:
     * {@code (value − base) / (target − base)}. Works for higher-is-better metrics and for losses
     * alike; NaN when the target does not differ from the base (no gap to close).
     */
    public static double gapClosed(double base, double value, double target) {
        double gap = target - base;
        if (!Double.isFinite(gap) || Math.abs(gap) < 1e-12 || !Double.isFinite(value)) {
            return Double.NaN;
        }
        return (value - base) / gap;
    }

    /** Ratio {@code a / b}, NaN when either is missing or b is 0. */
    public static double ratio(double a, double b) {
        return a < 0 || b <= 0 || !Double.isFinite(a) || !Double.isFinite(b) ? Double.NaN : a / b;
    }

    public Row row(String id) {
        return rows.stream().filter(r -> r.id().equals(id)).findFirst().orElse(null);
    }

    /** Gap closed in the main metric by the proxy (NaN if a row is missing). */
    public double metricGapClosed() {
        Row b = row(LARGE_BASE);
        Row p = row(PROXY);
        Row t = row(FEDAVG_LARGE);
        return b == null || p == null || t == null ? Double.NaN : gapClosed(b.metric(), p.metric(), t.metric());
    }

    /** Gap closed in held-out loss by the proxy (NaN if a row is missing). */
    public double lossGapClosed() {
        return lossGapClosed(PROXY);
    }

    /** Gap closed in the main metric by row {@code id} (NaN if a row is missing). */
    public double metricGapClosed(String id) {
        Row b = row(LARGE_BASE);
        Row p = row(id);
        Row t = row(FEDAVG_LARGE);
        return b == null || p == null || t == null ? Double.NaN : gapClosed(b.metric(), p.metric(), t.metric());
    }

    /** Gap closed in held-out loss by row {@code id} (NaN if a row is missing). */
    public double lossGapClosed(String id) {
        Row b = row(LARGE_BASE);
        Row p = row(id);
        Row t = row(FEDAVG_LARGE);
        return b == null || p == null || t == null ? Double.NaN : gapClosed(b.loss(), p.loss(), t.loss());
    }

    public Traffic traffic(String run) {
        return traffic.stream().filter(t -> t.run().equals(run)).findFirst().orElse(null);
    }

    public Memory memory(String run) {
        return memory.stream().filter(m -> m.run().equals(run)).findFirst().orElse(null);
    }

    /** Resource ratios FedPT / FedAvg-large (name → ratio; NaN when missing). */
    public Map<String, Double> ratios() {
        Map<String, Double> out = new LinkedHashMap<>();
        Traffic a = traffic(FEDPT);
        Traffic b = traffic(FEDAVG_LARGE);
        out.put("bytes_up_per_client", a == null || b == null ? Double.NaN : ratio(a.upPerClient(), b.upPerClient()));
        out.put("bytes_down_per_client", a == null || b == null ? Double.NaN : ratio(a.downPerClient(), b.downPerClient()));
        Memory ma = memory(FEDPT);
        Memory mb = memory(FEDAVG_LARGE);
        boolean mem = ma != null && mb != null;
        out.put("peak_rss", mem ? ratio(ma.result().peakRss(), mb.result().peakRss()) : Double.NaN);
        out.put("native_heap_training", mem ? ratio(ma.result().nativeTraining(), mb.result().nativeTraining()) : Double.NaN);
        out.put("tensor_state", mem ? ratio(ma.result().tensorStateBytes(), mb.result().tensorStateBytes()) : Double.NaN);
        return out;
    }

    // ---- rendering ----

    static String fmt(double v, int digits) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + digits + "f", v);
    }

    static String pct(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    static String mib(double bytes) {
        return bytes < 0 || Double.isNaN(bytes) ? "-" : String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    static String kib(double bytes) {
        return Double.isNaN(bytes) ? "-" : String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }

    /** "reached" / "NOT reached" / "undefined" for the gap target. */
    String verdict(double closed) {
        if (row(LARGE_BASE) == null || row(PROXY) == null || row(FEDAVG_LARGE) == null) {
            return "undefined (the large base, the FedPT proxy or FedAvg-large was not run)";
        }
        if (Double.isNaN(closed)) {
            return "undefined (FedAvg-large does not differ from the large base)";
        }
        return reached(closed) ? "reached" : "NOT reached";
    }

    /** Whether {@code closed} meets the target (up to floating-point rounding of the ratio). */
    boolean reached(double closed) {
        return closed >= gapTarget - 1e-9;
    }

    /** {@link #reached}, or null when the gap is undefined (NaN: a row missing, or no gap to close). */
    Boolean reachedOrNull(double closed) {
        return Double.isNaN(closed) ? null : reached(closed);
    }

    /** The report as Markdown (results.md). */
    public String markdown() {
        StringBuilder b = new StringBuilder("# FedPT comparison: ").append(title).append("\n\n");
        setup.forEach((k, v) -> b.append("- ").append(k).append(": ").append(v).append('\n'));
        b.append("\n| model | training | ").append(metricName).append(" | eval loss | perplexity | held-out rows |\n")
                .append("|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            b.append("| ").append(r.model()).append(" | ").append(r.training()).append(" | ").append(fmt(r.metric(), 3))
                    .append(" | ").append(fmt(r.loss(), 4)).append(" | ").append(fmt(r.perplexity(), 2)).append(" | ")
                    .append(r.examples()).append(" |\n");
        }
        b.append('\n').append(gapLines("- ")).append('\n');
        if (!ablation.isEmpty()) {
            boolean retrained = ablation.stream().anyMatch(a -> a.retrained() != null);
            boolean noKd = ablation.stream().anyMatch(a -> a.noKd() != null);
            b.append("### α ablation (proxy-tuned large model)\n\n| α | ").append(metricName)
                    .append(" (final FedPT adapter) | eval loss | gap closed |");
            if (noKd) {
                b.append(" ").append(metricName).append(" (FedAvg-small adapter, no KD) | eval loss | gap closed |");
            }
            if (retrained) {
                b.append(" ").append(metricName).append(" (FedPT retrained at α) | eval loss | gap closed | small after"
                        + " distillation ").append(metricName).append(" |");
            }
            b.append('\n').append("|---|---|---|---|").append(noKd ? "---|---|---|" : "")
                    .append(retrained ? "---|---|---|---|" : "").append('\n');
            for (AblationRow a : ablation) {
                b.append("| ").append(fmt(a.alpha(), 2)).append(" | ").append(fmt(a.evalOnly().metric(), 3)).append(" | ")
                        .append(fmt(a.evalOnly().loss(), 4)).append(" | ").append(pct(gap(a.evalOnly()))).append(" |");
                if (noKd) {
                    Score k = a.noKd();
                    b.append(' ').append(k == null ? "-" : fmt(k.metric(), 3)).append(" | ")
                            .append(k == null ? "-" : fmt(k.loss(), 4)).append(" | ").append(k == null ? "-" : pct(gap(k)))
                            .append(" |");
                }
                if (retrained) {
                    Score s = a.retrained();
                    Score sm = a.retrainedSmall();
                    b.append(' ').append(s == null ? "-" : fmt(s.metric(), 3)).append(" | ")
                            .append(s == null ? "-" : fmt(s.loss(), 4)).append(" | ").append(s == null ? "-" : pct(gap(s)))
                            .append(" | ").append(sm == null ? "-" : fmt(sm.metric(), 3)).append(" |");
                }
                b.append('\n');
            }
            b.append('\n');
        }
        b.append(resourcesMarkdown());
        if (!samples.isEmpty()) {
            b.append("\n### Example generations (greedy)\n\n");
            samples.forEach((id, list) -> {
                Row r = row(id);
                b.append("**").append(r == null ? id : r.model() + " " + r.training()).append("**\n\n");
                for (String[] s : list) {
                    b.append("- prompt `").append(oneLine(s[0])).append("`; reference `").append(oneLine(s[1]))
                            .append("`; generated `").append(oneLine(s[2])).append("`\n");
                }
                b.append('\n');
            });
        }
        b.append("\nWall time per phase (s): ");
        phaseSeconds.forEach((k, v) -> b.append(k).append(' ').append(fmt(v, 1)).append("; "));
        b.append("\n\nCommand: `").append(command).append("`\n");
        return b.toString();
    }

    private double gap(Score s) {
        Row base = row(LARGE_BASE);
        Row target = row(FEDAVG_LARGE);
        return base == null || target == null ? Double.NaN : gapClosed(base.metric(), s.metric(), target.metric());
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('`', '\'');
    }

    String gapLines(String bullet) {
        double m = metricGapClosed();
        double l = lossGapClosed();
        StringBuilder b = new StringBuilder();
        b.append(bullet).append("gap closed (").append(metricName).append(") = (proxy − large base) / (FedAvg-large − large"
                + " base) = ").append(pct(m)).append(": target ").append(pct(gapTarget)).append(' ').append(verdict(m))
                .append('\n');
        b.append(bullet).append("gap closed (eval loss) = ").append(pct(l)).append(": target ").append(pct(gapTarget))
                .append(' ').append(verdict(l)).append('\n');
        if (row(PROXY_NO_KD) != null) {
            b.append(bullet).append("proxy-tuning without distillation (FedAvg-small's adapter): gap closed ")
                    .append(pct(metricGapClosed(PROXY_NO_KD))).append(" (").append(metricName).append("), ")
                    .append(pct(lossGapClosed(PROXY_NO_KD))).append(" (eval loss)\n");
        }
        return b.toString();
    }

    String resourcesMarkdown() {
        StringBuilder b = new StringBuilder();
        Map<String, Double> ratio = ratios();
        if (!traffic.isEmpty()) {
            b.append("### Communication per client per round\n\n| run | client model | adapter floats | up | down | rounds |\n"
                    + "|---|---|---|---|---|---|\n");
            for (Traffic t : traffic) {
                b.append("| ").append(t.run()).append(" | ").append(t.model()).append(" | ")
                        .append(String.format(Locale.ROOT, "%,d", t.adapterParams())).append(" | ")
                        .append(kib(t.upPerClient())).append(" | ").append(kib(t.downPerClient())).append(" | ")
                        .append(t.rounds()).append(" |\n");
            }
            b.append('\n');
        }
        if (!memory.isEmpty()) {
            b.append("### Memory of one client's local training (fresh JVM per model, CPU)\n\n| run | client model | peak RSS"
                    + " (VmHWM) | RSS after engine start | native heap for model + training (peak) | tensor state"
                    + " (weights + LoRA ×4) | steps | train s |\n|---|---|---|---|---|---|---|---|\n");
            for (Memory m : memory) {
                MemoryProbe.Result r = m.result();
                b.append("| ").append(m.run()).append(" | ").append(m.model()).append(" | ").append(mib(r.peakRss()))
                        .append(" | ").append(mib(r.rssEngine())).append(" | ").append(mib(r.nativeTraining())).append(" | ")
                        .append(mib(r.tensorStateBytes())).append(" | ").append(r.steps()).append(" | ")
                        .append(fmt(r.trainSeconds(), 1)).append(" |\n");
            }
            b.append('\n');
        }
        if (!traffic.isEmpty() || !memory.isEmpty()) {
            b.append("### FedPT / FedAvg-LoRA on the large model\n\n| figure | ratio | reduction | paper's claim |\n"
                    + "|---|---|---|---|\n");
            String comm = claim(PAPER_COMM_REDUCTION);
            String mem = claim(PAPER_MEMORY_REDUCTION);
            ratioLine(b, "bytes up per client per round", ratio.get("bytes_up_per_client"), comm);
            ratioLine(b, "bytes down per client per round", ratio.get("bytes_down_per_client"), comm);
            ratioLine(b, "peak RSS of the client process", ratio.get("peak_rss"), mem);
            ratioLine(b, "native heap for model + training", ratio.get("native_heap_training"), mem);
            ratioLine(b, "tensor state (weights + LoRA ×4)", ratio.get("tensor_state"), mem);
            b.append('\n');
        }
        return b.toString();
    }

    /** A claimed reduction range in percent, e.g. "−36…40%". */
    static String claimRange(double[] range) {
        return String.format(Locale.ROOT, "−%.0f…%.0f%%", range[0], range[1]);
    }

    private static String claim(double[] range) {
        return claimRange(range) + String.format(Locale.ROOT, " (ratio %.2f…%.2f)", 1 - range[1] / 100, 1 - range[0] / 100);
    }

    /** The change a ratio FedPT / FedAvg-large means: "−25.0%" for 0.75, "+10.0%" for 1.1, "-" when missing. */
    static String change(double r) {
        if (Double.isNaN(r)) {
            return "-";
        }
        return r > 1 ? String.format(Locale.ROOT, "+%.1f%%", 100 * (r - 1)) : String.format(Locale.ROOT, "−%.1f%%", 100 * (1 - r));
    }

    private static void ratioLine(StringBuilder b, String name, double r, String claim) {
        b.append("| ").append(name).append(" | ").append(fmt(r, 3)).append(" | ").append(change(r)).append(" | ")
                .append(claim).append(" |\n");
    }

    /** The main table, gap and ratios as console text. */
    public String text() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-6s %-58s %9s %9s %9s%n", "model", "training", metricName, "eval loss", "ppl"));
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "%-6s %-58s %9s %9s %9s%n", r.model(), r.training(), fmt(r.metric(), 3),
                    fmt(r.loss(), 4), fmt(r.perplexity(), 2)));
        }
        b.append('\n').append(gapLines(""));
        if (!ablation.isEmpty()) {
            b.append("\nα ablation (proxy, final FedPT adapter").append(ablation.get(0).retrained() != null
                    ? "; and FedPT retrained per α)" : ")").append(":\n");
            for (AblationRow a : ablation) {
                b.append(String.format(Locale.ROOT, "  α=%-5s %s %s, loss %s, gap closed %s", fmt(a.alpha(), 2), metricName,
                        fmt(a.evalOnly().metric(), 3), fmt(a.evalOnly().loss(), 4), pct(gap(a.evalOnly()))));
                if (a.noKd() != null) {
                    b.append(String.format(Locale.ROOT, " | no KD: %s %s, loss %s, gap closed %s", metricName,
                            fmt(a.noKd().metric(), 3), fmt(a.noKd().loss(), 4), pct(gap(a.noKd()))));
                }
                if (a.retrained() != null) {
                    b.append(String.format(Locale.ROOT, " | retrained: %s %s, loss %s, gap closed %s", metricName,
                            fmt(a.retrained().metric(), 3), fmt(a.retrained().loss(), 4), pct(gap(a.retrained()))));
                }
                b.append('\n');
            }
        }
        Map<String, Double> ratio = ratios();
        if (!traffic.isEmpty() || !memory.isEmpty()) {
            b.append(String.format(Locale.ROOT, "%nFedPT / FedAvg-large: bytes up %s, bytes down %s per client per round"
                    + " (paper: %s); peak RSS %s, native heap %s, tensor state %s (paper: %s memory)%n",
                    fmt(ratio.get("bytes_up_per_client"), 3), fmt(ratio.get("bytes_down_per_client"), 3),
                    claimRange(PAPER_COMM_REDUCTION), fmt(ratio.get("peak_rss"), 3),
                    fmt(ratio.get("native_heap_training"), 3), fmt(ratio.get("tensor_state"), 3),
                    claimRange(PAPER_MEMORY_REDUCTION)));
        }
        return b.toString();
    }

    /**
     * The report as JSON (results.json): every figure, the gap, the ratios and the claims. Keys in a
     * fixed order (the same report gives the same bytes); strict JSON: a figure that could not be
     * computed (NaN) and a missing one (a run left out, an undefined gap's "reached") are null.
     */
    public String json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("title", title);
        m.put("metric", metricName);
        m.put("command", command);
        m.put("setup", setup);
        m.put("rows", rows.stream().map(r -> {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("id", r.id());
            o.put("model", r.model());
            o.put("training", r.training());
            o.put("metric", r.metric());
            o.put("eval_loss", r.loss());
            o.put("perplexity", r.perplexity());
            o.put("examples", r.examples());
            o.put("run_metric", r.runMetric());
            o.put("run_eval_loss", r.runLoss());
            o.put("artifacts", r.artifacts());
            return o;
        }).toList());
        Map<String, Object> gap = new LinkedHashMap<>();
        gap.put("metric", metricGapClosed());
        gap.put("eval_loss", lossGapClosed());
        gap.put("target", gapTarget);
        gap.put("metric_reached", reachedOrNull(metricGapClosed()));
        gap.put("eval_loss_reached", reachedOrNull(lossGapClosed()));
        gap.put("proxy_without_distillation_metric", metricGapClosed(PROXY_NO_KD));
        gap.put("proxy_without_distillation_eval_loss", lossGapClosed(PROXY_NO_KD));
        m.put("gap_closed", gap);
        List<Object> abl = new ArrayList<>();
        for (AblationRow a : ablation) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("alpha", a.alpha());
            o.put("eval_only", a.evalOnly());
            o.put("eval_only_gap_closed", gap(a.evalOnly()));
            o.put("no_kd", a.noKd());
            o.put("no_kd_gap_closed", a.noKd() == null ? null : gap(a.noKd()));
            o.put("retrained", a.retrained());
            o.put("retrained_gap_closed", a.retrained() == null ? null : gap(a.retrained()));
            o.put("retrained_small", a.retrainedSmall());
            abl.add(o);
        }
        m.put("alpha_ablation", abl);
        m.put("traffic", traffic);
        List<Object> mem = new ArrayList<>();
        for (Memory x : memory) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("run", x.run());
            o.put("model", x.model());
            o.put("probe", x.result());
            o.put("native_heap_training", x.result().nativeTraining());
            o.put("tensor_state_bytes", x.result().tensorStateBytes());
            mem.add(o);
        }
        m.put("memory", mem);
        m.put("ratios_fedpt_over_fedavg_large", ratios());
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("memory_reduction_percent", PAPER_MEMORY_REDUCTION);
        claims.put("communication_reduction_percent", PAPER_COMM_REDUCTION);
        claims.put("source", "methods.md §1(d): unverified claims reported in a summary of the paper");
        m.put("paper_claims", claims);
        m.put("phase_seconds", phaseSeconds);
        m.put("samples", samples);
        // strict JSON (RFC 8259 has no NaN/Infinity): a figure that could not be computed is null
        JsonSerializer<Double> finiteOrNull = (v, type, ctx) -> Double.isFinite(v) ? new JsonPrimitive(v) : JsonNull.INSTANCE;
        return new GsonBuilder().setPrettyPrinting().serializeNulls().registerTypeAdapter(Double.class, finiteOrNull)
                .registerTypeAdapter(double.class, finiteOrNull).create().toJson(m) + "\n";
    }
}
