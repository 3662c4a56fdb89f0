package dev.understudy.job.report;

import dev.understudy.job.data.LabelMix;
import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BoxChart;
import org.knowm.xchart.BoxChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/**
 * The report's figures, drawn headless with XChart: PNG (for the HTML page and the README) and SVG
 * (VectorGraphics2D) of each, {@value #WIDTH}×{@value #HEIGHT} pixels. A figure whose data no run has
 * (e.g. accuracy of a text-data run) is not drawn.
 */
public final class Figures {
    private Figures() {}

    public static final int WIDTH = 800;
    public static final int HEIGHT = 500;

    /** A written figure: {@code name.png} and {@code name.svg} in the output directory. */
    public record Figure(String name, String title, Path png, Path svg) {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Draws every figure the runs have data for into {@code out}. */
    public static List<Figure> draw(List<RunData> runs, Path out) throws IOException {
        Files.createDirectories(out);
        List<Figure> figs = new ArrayList<>();
        XYChart loss = xy("Loss per round", "loss");
        for (RunData r : runs) {
            series(loss, r.name() + " train", r, RunData.Round::trainLoss);
            series(loss, r.name() + " eval", r, RunData.Round::evalLoss);
        }
        add(figs, out, "loss", loss);
        XYChart acc = xy("Eval accuracy per round", "accuracy");
        for (RunData r : runs) {
            series(acc, r.name(), r, RunData.Round::evalAccuracy);
        }
        add(figs, out, "accuracy", acc);
        XYChart bytes = xy("Bytes per round (MB)", "MB");
        bytes.getStyler().setYAxisDecimalPattern("0.###");
        for (RunData r : runs) {
            series(bytes, r.name() + " up", r, x -> x.bytesUp() / 1e6);
            series(bytes, r.name() + " down", r, x -> x.bytesDown() / 1e6);
        }
        add(figs, out, "bytes", bytes);
        XYChart conflict = xy("Conflict rate per round (FedProxy)", "conflict rate");
        for (RunData r : runs) {
            series(conflict, r.name(), r, x -> x.methodMetrics().getOrDefault("conflict_rate", Double.NaN));
        }
        add(figs, out, "conflict_rate", conflict);
        add(figs, out, "client_accuracy", clientSpread(runs));
        int i = 0;
        List<LabelMix> drawn = new ArrayList<>();
        for (RunData r : runs) {
            if (r.labelMix() == null || drawn.stream().anyMatch(m -> same(m, r.labelMix()))) {
                continue;
            }
            drawn.add(r.labelMix());
            add(figs, out, i++ == 0 ? "label_mix" : "label_mix-" + i, heatMap(r));
        }
        return figs;
    }

    private static XYChart xy(String title, String yTitle) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("round").yAxisTitle(yTitle)
                .build();
        c.getStyler().setXAxisDecimalPattern("0");
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        return c;
    }

    /** Adds the run's non-NaN points of {@code f} as one line (nothing when it has none). */
    private static void series(XYChart c, String name, RunData r, ToDoubleFunction<RunData.Round> f) {
        List<Integer> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (RunData.Round round : r.rounds()) {
            double v = f.applyAsDouble(round);
            if (Double.isFinite(v)) {
                x.add(round.round());
                y.add(v);
            }
        }
        if (!x.isEmpty()) {
            String n = name;
            for (int k = 2; c.getSeries(n) != null; k++) {
                n = name + " (" + k + ")";
            }
            c.addSeries(n, x, y);
        }
    }

    private static String unique(Set<String> taken, String name) {
        String n = name;
        for (int k = 2; taken.contains(n); k++) {
            n = name + " (" + k + ")";
        }
        return n;
    }

    /** Final per-client accuracy (loss where the data have no labels), one box per run. */
    private static BoxChart clientSpread(List<RunData> runs) {
        boolean accuracy = runs.stream().flatMap(r -> r.finalClients().stream()).anyMatch(c -> !Double.isNaN(c.accuracy()));
        BoxChart c = new BoxChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Per-client " + (accuracy ? "accuracy" : "eval loss") + " at the last evaluated round")
                .yAxisTitle(accuracy ? "accuracy" : "loss").build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setLegendVisible(false);
        Set<String> taken = new LinkedHashSet<>();
        for (RunData r : runs) {
            List<Double> v = new ArrayList<>();
            for (RunData.ClientEval e : r.finalClients()) {
                double x = accuracy ? e.accuracy() : e.loss();
                if (Double.isFinite(x)) {
                    v.add(x);
                }
            }
            if (!v.isEmpty()) {
                String n = unique(taken, r.name() + " (round " + r.finalClientsRound() + ", " + v.size() + " clients)");
                taken.add(n);
                c.addSeries(n, v);
            }
        }
        return c;
    }

    /** Rows per (client, label) of the run's clients: clients across, labels down. */
    private static HeatMapChart heatMap(RunData r) {
        LabelMix m = r.labelMix();
        HeatMapChart c = new HeatMapChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Client label mix (" + r.name() + ": rows per client and label)").xAxisTitle("client")
                .yAxisTitle("label").build();
        c.getStyler().setShowValue(m.clients().size() <= 20);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        List<Number[]> cells = new ArrayList<>();
        for (int x = 0; x < m.clients().size(); x++) {
            for (int y = 0; y < m.labels().size(); y++) {
                cells.add(new Number[] {x, y, m.counts()[x][y]});
            }
        }
        c.addSeries("rows", m.clients(), m.labels(), cells);
        return c;
    }

    private static boolean same(LabelMix a, LabelMix b) {
        return a.clients().equals(b.clients()) && a.labels().equals(b.labels()) && Arrays.deepEquals(a.counts(), b.counts());
    }

    private static void add(List<Figure> figs, Path out, String name, Chart<?, ?> chart) throws IOException {
        if (chart.getSeriesCollection().isEmpty()) {
            return;
        }
        Path png = out.resolve(name + ".png");
        Path svg = out.resolve(name + ".svg");
        try (OutputStream o = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(chart, o, BitmapEncoder.BitmapFormat.PNG);
        }
        try (OutputStream o = Files.newOutputStream(svg)) {
            VectorGraphicsEncoder.saveVectorGraphic(chart, o, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        }
        figs.add(new Figure(name, chart.getTitle(), png, svg));
    }
}
