package dev.understudy.job.data;

import dev.understudy.job.config.DataConfig;
import dev.understudy.ops.tokenizer.Tokenizer;
import dev.understudy.ops.train.Example;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A data set the <em>server</em> holds (e.g. FedPT's public distillation set): same record shapes
 * and columns as the client data ({@code data.kind}, columns, template, label words), read from any
 * Hadoop path, turned into examples on the driver (server sets are small) and tokenised with the
 * client model's tokenizer. Bad rows follow {@code data.bad_rows} and are counted per reason.
 */
public final class ServerData {
    private ServerData() {}

    /** The examples and what was skipped (reason → rows). */
    public record Loaded(List<Example> examples, Map<String, Long> skipped, long truncated) {}

    /**
     * @param key the config key naming {@code path}, for error messages
     * @param limit keep at most this many rows (in file order), 0 = all
     */
    public static Loaded load(SparkSession spark, DataConfig d, String path, String key, Tokenizer tok, int limit) {
        DataConfig.Format format = DataConfig.Format.infer(path);
        if (format == null) {
            format = d.format();
        }
        Dataset<Row> raw = DataPrep.read(spark, path, format);
        List<String> columns = Arrays.asList(raw.columns());
        List<String> needed = switch (d.kind()) {
            case TEXT -> List.of(d.textColumn());
            case INSTRUCTION -> List.of(d.promptColumn(), d.responseColumn());
            case CLASSIFICATION -> List.of(d.textColumn(), d.labelColumn());
        };
        for (String c : needed) {
            if (!columns.contains(c)) {
                throw new IllegalArgumentException(key + " " + path + " has no column '" + c + "' (columns: " + columns
                        + "); it must have the same columns as data.path for data.kind=" + d.kind().name().toLowerCase());
            }
        }
        Dataset<Row> sel = raw.selectExpr(needed.stream().map(c -> "`" + c + "`").toArray(String[]::new));
        if (limit > 0) {
            sel = sel.limit(limit);
        }
        List<Row> rows = sel.collectAsList();
        Map<String, Long> skipped = new TreeMap<>();
        List<Example> out = new ArrayList<>();
        long truncated = 0;
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            String prompt;
            String response;
            String bad = null;
            switch (d.kind()) {
                case TEXT -> {
                    prompt = "";
                    response = str(r, 0);
                    bad = response == null ? "null_text" : response.isBlank() ? "empty_text" : null;
                }
                case INSTRUCTION -> {
                    prompt = str(r, 0);
                    response = str(r, 1);
                    bad = prompt == null ? "null_prompt" : response == null ? "null_response"
                            : response.isBlank() ? "empty_response" : null;
                }
                default -> {
                    String text = str(r, 0);
                    String label = str(r, 1);
                    bad = text == null ? "null_text" : text.isBlank() ? "empty_text" : label == null ? "null_label" : null;
                    prompt = bad == null ? d.prompt(text) : null;
                    response = bad == null ? d.responseFor(label) : null;
                }
            }
            if (bad != null) {
                if (d.badRows() == DataConfig.BadRows.FAIL) {
                    throw new IllegalArgumentException(key + " " + path + " row " + i + " is bad (" + bad
                            + "); fix it or set data.bad_rows=skip to skip and report such rows");
                }
                skipped.merge(bad, 1L, Long::sum);
                continue;
            }
            var pr = tok.encodePromptResponse(prompt, response, d.maxLength(), tok.addBosByDefault(), true);
            if (pr.truncated()) {
                truncated++;
            }
            out.add(new Example(pr.ids(), pr.promptLength()));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(key + " " + path + " has no usable rows (skipped " + skipped + ")");
        }
        return new Loaded(out, skipped, truncated);
    }

    private static String str(Row r, int i) {
        Object v = r.get(i);
        return v == null ? null : v.toString();
    }
}
