package dev.understudy.job.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/**
 * {@code understudy report}: reads run directories, draws {@link Figures} and writes a self-contained
 * {@code report.html} (figures inline as PNG data URIs) with the results table.
 */
public final class Report {
    private Report() {}

    /** What was written: the figures, the page and the results table (Markdown). */
    public record Result(List<RunData> runs, List<Figures.Figure> figures, Path html, String table) {}

    /** Reads {@code runDirs} (each labelled by its directory name) and writes the report into {@code out}. */
    public static Result write(SparkSession spark, List<String> runDirs, Path out) throws IOException {
        List<RunData> runs = new ArrayList<>();
        for (String d : runDirs) {
            String name = d.replaceAll("/+$", "");
            runs.add(RunData.read(spark, d, name.substring(name.lastIndexOf('/') + 1)));
        }
        return write(runs, out, "Understudy report", "");
    }

    /** Writes the report of already-read runs; {@code extraHtml} goes after the table (e.g. a grid's summary). */
    public static Result write(List<RunData> runs, Path out, String title, String extraHtml) throws IOException {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("no run directories to report on");
        }
        List<Figures.Figure> figs = Figures.draw(runs, out);
        Path html = out.resolve("report.html");
        Files.writeString(html, html(title, runs, figs, extraHtml), StandardCharsets.UTF_8);
        return new Result(runs, figs, html, table(runs));
    }

    /** One row per run: method, rounds, last round's train loss, last evaluation, bytes moved. */
    public static String table(List<RunData> runs) {
        StringBuilder b = new StringBuilder("| run | method | rounds | train loss | eval loss | eval accuracy | MB up | MB down |\n"
                + "|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (RunData r : runs) {
            String[] c = cells(r);
            b.append("| ").append(String.join(" | ", c)).append(" |\n");
        }
        return b.toString();
    }

    private static String[] cells(RunData r) {
        RunData.Round last = r.last();
        RunData.Round ev = r.lastEvaluated();
        long up = r.rounds().stream().mapToLong(RunData.Round::bytesUp).sum();
        long down = r.rounds().stream().mapToLong(RunData.Round::bytesDown).sum();
        return new String[] {r.name(), r.method(), String.valueOf(last == null ? 0 : last.round()),
            fmt(last == null ? Double.NaN : last.trainLoss()), fmt(ev == null ? Double.NaN : ev.evalLoss()),
            fmt(ev == null ? Double.NaN : ev.evalAccuracy()), String.format(Locale.ROOT, "%.2f", up / 1e6),
            String.format(Locale.ROOT, "%.2f", down / 1e6)};
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.4f", v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String html(String title, List<RunData> runs, List<Figures.Figure> figs, String extra) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title))
                .append("</title>\n<style>body{font-family:sans-serif;margin:2em;background:#fff;color:#222}"
                        + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:4px 8px}"
                        + "td.n{text-align:right}th{background:#e8eef7}img{display:block;margin:1em 0;border:1px solid #ccc}"
                        + "</style></head><body>\n<h1>")
                .append(esc(title)).append("</h1>\n<h2>Results</h2>\n<table><tr>");
        for (String h : List.of("run", "method", "rounds", "train loss", "eval loss", "eval accuracy", "MB up", "MB down")) {
            b.append("<th>").append(h).append("</th>");
        }
        b.append("</tr>\n");
        for (RunData r : runs) {
            String[] c = cells(r);
            b.append("<tr>");
            for (int i = 0; i < c.length; i++) {
                b.append(i < 2 ? "<td>" : "<td class=\"n\">").append(esc(c[i])).append("</td>");
            }
            b.append("</tr>\n");
        }
        b.append("</table>\n").append(extra).append("<h2>Figures</h2>\n");
        for (Figures.Figure f : figs) {
            b.append("<h3>").append(esc(f.title())).append("</h3>\n<img alt=\"").append(esc(f.name())).append("\" width=\"")
                    .append(Figures.WIDTH).append("\" height=\"").append(Figures.HEIGHT).append("\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(Files.readAllBytes(f.png()))).append("\">\n");
        }
        b.append("<p>Run directories:</p><ul>");
        for (RunData r : runs) {
            b.append("<li>").append(esc(r.name())).append(": <code>").append(esc(r.dir())).append("</code></li>");
        }
        return b.append("</ul>\n</body></html>\n").toString();
    }
}
