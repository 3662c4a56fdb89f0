package dev.understudy.job.data;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.struct;

import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Bad rows per reason, with where the first of each reason is: its file and line (JSON Lines), row
 * (Parquet) or file (CSV). Counted with one group-by on the executors; only the counts and the
 * locations reach the driver, never a row's content.
 *
 * @param counts reason → rows
 * @param where reason → "file:line" of its first row (by file name, then line)
 */
public record BadRowReport(Map<String, Long> counts, Map<String, String> where) {

    /** Groups the rows with a non-null {@code bad_reason} ({@link LocatedInput#FILE}/{@code LINE} optional). */
    public static BadRowReport of(Dataset<Row> rows) {
        java.util.List<String> columns = java.util.Arrays.asList(rows.columns());
        Dataset<Row> bad = rows.filter(col("bad_reason").isNotNull());
        var file = columns.contains(LocatedInput.FILE) ? col(LocatedInput.FILE) : lit(null).cast("string");
        var line = columns.contains(LocatedInput.LINE) ? col(LocatedInput.LINE) : lit(null).cast("long");
        Map<String, Long> counts = new TreeMap<>();
        Map<String, String> where = new TreeMap<>();
        for (Row r : bad.groupBy("bad_reason").agg(count(lit(1)), min(struct(file.as("f"), line.as("l")))).collectAsList()) {
            counts.put(r.getString(0), r.getLong(1));
            Row first = r.getStruct(2);
            if (first != null && !first.isNullAt(0)) {
                where.put(r.getString(0), LocatedInput.where(first.getString(0), first.isNullAt(1) ? null : first.get(1)));
            }
        }
        return new BadRowReport(counts, where);
    }

    /** E.g. {@code malformed_json 2 (first at train.jsonl:3), empty_text 1 (first at train.jsonl:7)}; "none" when empty. */
    public String describe() {
        return describe(counts, where);
    }

    static String describe(Map<String, Long> counts, Map<String, String> where) {
        if (counts.isEmpty()) {
            return "none";
        }
        StringJoiner j = new StringJoiner(", ");
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            String at = where.get(e.getKey());
            j.add(e.getKey() + " " + e.getValue() + (at == null ? "" : " (first at " + at + ")"));
        }
        return j.toString();
    }
}
