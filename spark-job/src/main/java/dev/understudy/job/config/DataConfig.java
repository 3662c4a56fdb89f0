package dev.understudy.job.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code data} section: where the training rows are and how a row becomes a training example.
 *
 * @param path {@code data.path}: URI of the training data (required)
 * @param format {@code data.format}: file format; null in the constructor means "infer from the
 *     extension of {@code path}"
 * @param kind {@code data.kind}: how rows become prompt/response pairs
 * @param textColumn {@code data.text_column}: text of {@code text} and {@code classification} rows
 * @param promptColumn {@code data.prompt_column}: prompt of {@code instruction} rows
 * @param responseColumn {@code data.response_column}: response of {@code instruction} rows
 * @param labelColumn {@code data.label_column}: label of {@code classification} rows
 * @param clientColumn {@code data.client_column}: natural client id, or null to assign rows with the
 *     {@code partitioning} section
 * @param rowKeyColumn {@code data.row_key_column}: stable unique row key, or null to hash the row
 * @param template {@code data.template}: prompt of {@code classification} rows, with a {@code {text}}
 *     placeholder
 * @param labelWords {@code data.label_words}: label → response string; labels not listed use the
 *     label value itself
 * @param maxLength {@code data.max_length}: tokens per example after truncation
 * @param badRows {@code data.bad_rows}: what to do with rows that cannot be turned into examples
 * @param evalPath {@code data.eval_path}: URI of a separate evaluation set in the same format, or null
 */
public record DataConfig(String path, Format format, Kind kind, String textColumn, String promptColumn,
        String responseColumn, String labelColumn, String clientColumn, String rowKeyColumn, String template,
        Map<String, String> labelWords, int maxLength, BadRows badRows, String evalPath) {

    /** Storage formats Spark reads the data with. */
    public enum Format {
        PARQUET,
        JSONL,
        CSV;

        /** The format named by the extension of {@code path} (compression suffixes skipped), or null. */
        public static Format infer(String path) {
            String p = path.toLowerCase(Locale.ROOT);
            int cut = indexOfAny(p, '?', '#');
            p = cut >= 0 ? p.substring(0, cut) : p;
            while (p.endsWith("/")) {
                p = p.substring(0, p.length() - 1);
            }
            for (String suffix : new String[] {".gz", ".bz2", ".zst", ".snappy", ".deflate", ".lz4"}) {
                if (p.endsWith(suffix)) {
                    p = p.substring(0, p.length() - suffix.length());
                }
            }
            if (p.endsWith(".parquet")) {
                return PARQUET;
            }
            if (p.endsWith(".jsonl") || p.endsWith(".json") || p.endsWith(".ndjson")) {
                return JSONL;
            }
            return p.endsWith(".csv") ? CSV : null;
        }

        private static int indexOfAny(String s, char a, char b) {
            int i = s.indexOf(a);
            int j = s.indexOf(b);
            return i < 0 ? j : j < 0 ? i : Math.min(i, j);
        }
    }

    /** How a row becomes a prompt/response example. */
    public enum Kind {
        /** Plain text, trained on every token of {@code text_column}. */
        TEXT,
        /** {@code prompt_column} → {@code response_column}; loss on the response only. */
        INSTRUCTION,
        /** {@code template} filled with {@code text_column} → the label word of {@code label_column}. */
        CLASSIFICATION
    }

    /** Policy for rows with missing or malformed fields. */
    public enum BadRows {
        FAIL,
        SKIP
    }

    public static final String TEXT_PLACEHOLDER = "{text}";

    public DataConfig {
        Checks.required("data.path", path, "file:///path/to/train.parquet");
        if (format == null) {
            format = Format.infer(path);
            Checks.check(format != null, "data.format", null, "one of parquet, jsonl, csv: it cannot be inferred from"
                    + " data.path '" + path + "'; set data.format");
        }
        Checks.notNull("data.kind", kind, "one of text, instruction, classification");
        Checks.name("data.text_column", textColumn, false);
        Checks.name("data.prompt_column", promptColumn, false);
        Checks.name("data.response_column", responseColumn, false);
        Checks.name("data.label_column", labelColumn, false);
        Checks.name("data.client_column", clientColumn, true);
        Checks.name("data.row_key_column", rowKeyColumn, true);
        Checks.name("data.template", template, false);
        if (kind == Kind.CLASSIFICATION) {
            Checks.check(template.contains(TEXT_PLACEHOLDER), "data.template", template,
                    "a prompt containing the placeholder " + TEXT_PLACEHOLDER + " when data.kind is classification");
        }
        Map<String, String> words = new LinkedHashMap<>();
        if (labelWords != null) {
            labelWords.forEach((label, word) -> {
                Checks.check(label != null && word != null, "data.label_words." + label, word, "a non-null string");
                words.put(label, word);
            });
        }
        labelWords = Collections.unmodifiableMap(words);
        Checks.positive("data.max_length", maxLength);
        Checks.notNull("data.bad_rows", badRows, "one of fail, skip");
        Checks.name("data.eval_path", evalPath, true);
    }

    /** The prompt of a classification row: {@code template} with {@code {text}} replaced. */
    public String prompt(String text) {
        return template.replace(TEXT_PLACEHOLDER, text);
    }

    /** The response for a classification label: its label word, or the label itself. */
    public String responseFor(String label) {
        return labelWords.getOrDefault(label, label);
    }
}
