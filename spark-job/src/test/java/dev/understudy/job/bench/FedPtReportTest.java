package dev.understudy.job.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.job.FederatedJob;
import dev.understudy.job.engine.RoundEngine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Gap and ratio arithmetic of the FedPT comparison against hand-computed values, and its rendering. */
class FedPtReportTest {
    static FedPtReport.Row row(String id, double metric, double loss) {
        return new FedPtReport.Row(id, id.contains("small") ? "small" : "large", "t-" + id, metric, loss, 600, Double.NaN,
                Double.NaN, "x/");
    }

    static MemoryProbe.Result probe(long rss, long nativeBase, long nativePeak, long weights, long lora) {
        return new MemoryProbe.Result(rss, 100, 200, nativeBase, nativeBase + 10, nativePeak, weights, lora, 10, 80, 1.5);
    }

    static FedPtReport report(List<FedPtReport.AblationRow> ablation) {
        List<FedPtReport.Row> rows = List.of(row("large_base", 0.50, 2.0), row("small_base", 0.48, 2.4),
                row("fedpt_proxy", 0.71, 1.6), row("fedavg_large", 0.80, 1.5));
        List<FedPtReport.Traffic> traffic = List.of(new FedPtReport.Traffic("fedpt", "small", 4000, 4000, 1000, 12),
                new FedPtReport.Traffic("fedavg_large", "large", 16000, 16000, 4000, 12));
        List<FedPtReport.Memory> memory = List.of(new FedPtReport.Memory("fedpt", "small", probe(300, 1000, 5000, 800, 100)),
                new FedPtReport.Memory("fedavg_large", "large", probe(600, 1000, 17000, 3200, 400)));
        return new FedPtReport("test (10 clients)", "accuracy", Map.of("seed", "42"), rows, ablation, traffic, memory, 0.7,
                "understudy bench fedpt --conf x.yaml", Map.of("total", 12.0), Map.of());
    }

    @Test
    void gapClosedIsTheProxysShareOfTheLargeBaseToFedAvgLargeGap() {
        // accuracy: (0.71 − 0.50) / (0.80 − 0.50) = 0.7; loss: (1.6 − 2.0) / (1.5 − 2.0) = 0.8
        FedPtReport r = report(List.of());
        assertThat(r.metricGapClosed()).isCloseTo(0.7, within(1e-12));
        assertThat(r.lossGapClosed()).isCloseTo(0.8, within(1e-12));
        assertThat(FedPtReport.gapClosed(0.5, 0.5, 0.5)).isNaN(); // no gap to close
        assertThat(FedPtReport.gapClosed(0.5, 0.9, 0.7)).isCloseTo(2.0, within(1e-12)); // overshoot
        assertThat(FedPtReport.gapClosed(0.5, 0.4, 0.7)).isCloseTo(-0.5, within(1e-12)); // worse than the base
        assertThat(r.verdict(0.7)).isEqualTo("reached");
        assertThat(r.verdict(0.69)).isEqualTo("NOT reached");
        assertThat(r.verdict(Double.NaN)).startsWith("undefined (FedAvg-large does not differ");
        FedPtReport noLarge = new FedPtReport(r.title(), r.metricName(), r.setup(), r.rows().subList(0, 3), List.of(),
                List.of(), List.of(), 0.7, r.command(), Map.of(), Map.of());
        assertThat(noLarge.metricGapClosed()).isNaN();
        assertThat(noLarge.verdict(noLarge.metricGapClosed())).contains("was not run");
    }

    @Test
    void proxyWithoutDistillationGetsItsOwnGapAndAblationColumn() {
        FedPtReport base = report(List.of());
        List<FedPtReport.Row> rows = new ArrayList<>(base.rows());
        rows.add(row("proxy_fedavg_small", 0.74, 1.55));
        FedPtReport r = new FedPtReport(base.title(), base.metricName(), base.setup(), rows,
                List.of(new FedPtReport.AblationRow(1.0, new FedPtReport.Score(0.71, 1.6),
                        new FedPtReport.Score(0.74, 1.55), null, null)), base.traffic(), base.memory(), 0.7,
                base.command(), base.phaseSeconds(), Map.of());
        // (0.74 − 0.50) / 0.30 = 0.8; (1.55 − 2.0) / (1.5 − 2.0) = 0.9
        assertThat(r.metricGapClosed("proxy_fedavg_small")).isCloseTo(0.8, within(1e-12));
        assertThat(r.lossGapClosed("proxy_fedavg_small")).isCloseTo(0.9, within(1e-12));
        assertThat(r.markdown()).contains("proxy-tuning without distillation (FedAvg-small's adapter): gap closed 80.0%"
                + " (accuracy), 90.0% (eval loss)").contains("| 1.00 | 0.710 | 1.6000 | 70.0% | 0.740 | 1.5500 | 80.0% |");
        assertThat(r.text()).contains("no KD: accuracy 0.740");
    }

    @Test
    void ratiosAreFedPtOverFedAvgLarge() {
        Map<String, Double> q = report(List.of()).ratios();
        assertThat(q.get("bytes_up_per_client")).isCloseTo(0.25, within(1e-12));
        assertThat(q.get("bytes_down_per_client")).isCloseTo(0.25, within(1e-12));
        assertThat(q.get("peak_rss")).isCloseTo(0.5, within(1e-12));
        // native heap above the baseline: (5000 − 1000) / (17000 − 1000)
        assertThat(q.get("native_heap_training")).isCloseTo(0.25, within(1e-12));
        // weights + 16 bytes per LoRA parameter: (800 + 1600) / (3200 + 6400)
        assertThat(q.get("tensor_state")).isCloseTo(0.25, within(1e-12));
        assertThat(FedPtReport.ratio(-1, 5)).isNaN(); // a figure the platform could not measure
    }

    @Test
    void trafficAveragesOverRoundsAndClients() {
        var rm = new RoundEngine.RoundMetrics(1, 4, 3, 1, 0.5, Double.NaN, Double.NaN,
                Double.NaN, 3 * 400, 4 * 400, 1, 1, 1, 0, 0, 0, 0, 1, 0, true, Map.of());
        var rm2 = new RoundEngine.RoundMetrics(2, 4, 4, 0, 0.5, Double.NaN, Double.NaN,
                Double.NaN, 4 * 400, 4 * 400, 1, 1, 1, 0, 0, 0, 0, 1, 0, true, Map.of());
        var result = new FederatedJob.JobResult("o", List.of(rm, rm2), 0, Map.of(), 0, 0, 4, 10,
                new float[100], Map.of());
        FedPtReport.Traffic t = FedPtBenchmark.traffic("fedpt", "small", result);
        // (1200 + 1600) / (3 + 4) succeeded uploads; 3200 / 8 sampled downloads
        assertThat(t.upPerClient()).isCloseTo(400, within(1e-9));
        assertThat(t.downPerClient()).isCloseTo(400, within(1e-9));
        assertThat(t.adapterParams()).isEqualTo(100);
        assertThat(t.rounds()).isEqualTo(2);
    }

    @Test
    void markdownTextAndJsonCarryTheTableGapAblationAndClaims() {
        FedPtReport r = report(List.of(new FedPtReport.AblationRow(0.5, new FedPtReport.Score(0.62, 1.8), null, null, null),
                new FedPtReport.AblationRow(1.0, new FedPtReport.Score(0.71, 1.6), null, null, null)));
        String md = r.markdown();
        assertThat(md).contains("| large | t-fedavg_large | 0.800 | 1.5000 | 4.48 | 600 |")
                .contains("= 70.0%: target 70.0% reached").contains("gap closed (eval loss) = 80.0%")
                .contains("| 0.50 | 0.620 | 1.8000 | 40.0% |").contains("−75.0%").contains("−36…40% (ratio 0.60…0.64)")
                .contains("−36…44% (ratio 0.56…0.64)").contains("`understudy bench fedpt --conf x.yaml`");
        assertThat(r.text()).contains("α=0.50").contains("gap closed 40.0%").contains("bytes up 0.250");
        JsonObject j = JsonParser.parseString(r.json()).getAsJsonObject();
        assertThat(j.getAsJsonObject("gap_closed").get("metric").getAsDouble()).isCloseTo(0.7, within(1e-12));
        assertThat(j.getAsJsonObject("gap_closed").get("metric_reached").getAsBoolean()).isTrue();
        assertThat(j.getAsJsonArray("rows")).hasSize(4);
        assertThat(j.getAsJsonArray("alpha_ablation").get(0).getAsJsonObject().get("eval_only_gap_closed").getAsDouble())
                .isCloseTo(0.4, within(1e-12));
        assertThat(j.getAsJsonObject("ratios_fedpt_over_fedavg_large").get("peak_rss").getAsDouble()).isEqualTo(0.5);
    }

    @Test
    void undefinedGapGivesNullReachedAndAnIncreaseIsPrintedWithAPlus() {
        FedPtReport base = report(List.of());
        // FedAvg-large equal to the large base: no gap to close
        List<FedPtReport.Row> rows = List.of(row("large_base", 0.50, 2.0), row("fedpt_proxy", 0.71, 1.6),
                row("fedavg_large", 0.50, 2.0));
        // FedPT's client needs 10% more bytes up than FedAvg-large's: 4400 / 4000
        List<FedPtReport.Traffic> traffic = List.of(new FedPtReport.Traffic("fedpt", "small", 4400, 3000, 1100, 12),
                new FedPtReport.Traffic("fedavg_large", "large", 4000, 4000, 1000, 12));
        FedPtReport r = new FedPtReport(base.title(), base.metricName(), base.setup(), rows, List.of(), traffic, List.of(),
                0.7, base.command(), base.phaseSeconds(), Map.of());
        JsonObject gap = JsonParser.parseString(r.json()).getAsJsonObject().getAsJsonObject("gap_closed");
        assertThat(gap.get("metric").isJsonNull()).isTrue(); // NaN is not JSON
        assertThat(r.json()).doesNotContain("NaN").doesNotContain("Infinity");
        assertThat(gap.get("metric_reached").isJsonNull()).isTrue();
        assertThat(gap.get("eval_loss_reached").isJsonNull()).isTrue();
        // up 4400 / 4000 = 1.1 → +10.0%; down 3000 / 4000 = 0.75 → −25.0%
        assertThat(r.markdown()).contains("| bytes up per client per round | 1.100 | +10.0% |")
                .contains("| bytes down per client per round | 0.750 | −25.0% |").doesNotContain("−-");
    }

    @Test
    void jsonIsByteStableAndTheClaimsComeFromTheConstants() {
        Map<String, String> setup = new LinkedHashMap<>();
        for (String k : List.of("data", "split", "training", "FedPT", "seed", "models", "machine")) {
            setup.put(k, "v-" + k);
        }
        FedPtReport base = report(List.of());
        FedPtReport r = new FedPtReport(base.title(), base.metricName(), setup, base.rows(), List.of(), base.traffic(),
                base.memory(), 0.7, base.command(), base.phaseSeconds(), Map.of());
        String json = r.json();
        // keys in insertion order (Map.of would iterate in an order that changes from JVM to JVM)
        assertThat(json).containsSubsequence("\"data\"", "\"split\"", "\"training\"", "\"FedPT\"", "\"seed\"",
                "\"models\"", "\"machine\"");
        assertThat(json).containsSubsequence("\"memory_reduction_percent\"", "\"communication_reduction_percent\"",
                "\"source\"");
        JsonObject claims = JsonParser.parseString(json).getAsJsonObject().getAsJsonObject("paper_claims");
        assertThat(claims.getAsJsonArray("memory_reduction_percent").get(1).getAsDouble())
                .isEqualTo(FedPtReport.PAPER_MEMORY_REDUCTION[1]);
        String claim = String.format(Locale.ROOT, "(paper: −%.0f…%.0f%%)", FedPtReport.PAPER_COMM_REDUCTION[0],
                FedPtReport.PAPER_COMM_REDUCTION[1]);
        assertThat(r.text()).contains(claim);
    }
}
