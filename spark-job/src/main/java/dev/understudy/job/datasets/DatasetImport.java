package dev.understudy.job.datasets;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * One import: fetch and verify the package, parse it, write a single Parquet file into the output
 * folder (any Hadoop filesystem URI or a local path), then {@code _IMPORT.json} describing it.
 *
 * <p>An existing output is refused unless {@code overwrite}; even then only a folder holding an
 * {@code _IMPORT.json} (a previous import) is replaced, so a mistyped {@code --out} cannot delete
 * unrelated data. Spark's readers skip {@code _}-prefixed files, so {@code spark.read().parquet(out)}
 * reads just the rows.
 */
public final class DatasetImport {
    private DatasetImport() {}

    public static final String REPORT = "_IMPORT.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /** What an import wrote. */
    public record Result(String dataset, String out, RegistryFetcher.Fetched fetched, long rows,
            Map<String, Map<String, Long>> counts, Drops drops, double seconds) {}

    /** A fetched and parsed dataset, not yet written; {@link #prepare} needs no Spark. */
    public record Prepared(DatasetImporter importer, RegistryFetcher.Fetched fetched, Table table, long startNanos) {}

    /** Fetch, verify and parse. */
    public static Prepared prepare(DatasetImporter importer, RegistryFetcher fetcher) throws IOException {
        long t0 = System.nanoTime();
        RegistryFetcher.Fetched fetched = fetcher.fetch(importer.source());
        Table table;
        try {
            table = importer.parse(fetched.file());
        } catch (DatasetException e) {
            throw new DatasetException(importer.name() + ": " + fetched.file() + ": " + e.getMessage(), e);
        }
        if (table.size() == 0) {
            throw new DatasetException(importer.name() + ": " + fetched.file() + " gave no rows (dropped: " + table.drops().total()
                    + ")");
        }
        return new Prepared(importer, fetched, table, t0);
    }

    /** {@link #prepare} and {@link #write}, refusing an existing output before anything is fetched. */
    public static Result run(SparkSession spark, DatasetImporter importer, RegistryFetcher fetcher, String out,
            boolean overwrite) throws IOException {
        Path outPath = new Path(out);
        checkOutput(outPath.getFileSystem(spark.sparkContext().hadoopConfiguration()), outPath, overwrite);
        return write(spark, prepare(importer, fetcher), out, overwrite);
    }

    /** Writes the Parquet file, then {@code _IMPORT.json}. */
    public static Result write(SparkSession spark, Prepared prepared, String out, boolean overwrite) throws IOException {
        Path outPath = new Path(out);
        FileSystem fs = outPath.getFileSystem(spark.sparkContext().hadoopConfiguration());
        checkOutput(fs, outPath, overwrite);
        DatasetImporter importer = prepared.importer();
        Table table = prepared.table();
        List<Row> rows = new ArrayList<>(table.size());
        for (Object[] r : table.rows()) {
            rows.add(RowFactory.create(r));
        }
        // slices of about 512 KB, so no single task carries the whole table (Spark warns above 1 MB)
        long chars = 0;
        for (Object[] r : table.rows()) {
            for (Object v : r) {
                chars += v instanceof String str ? str.length() : 8;
            }
        }
        int slices = (int) Math.max(1, Math.min(256, chars / (512 * 1024) + 1));
        var rdd = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, slices);
        spark.createDataFrame(rdd, schema(table.columns())).coalesce(1).write()
                .mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists)
                .parquet(outPath.toString());

        Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
        for (String c : importer.countColumns()) {
            counts.put(c, table.countBy(c));
        }
        double seconds = (System.nanoTime() - prepared.startNanos()) / 1e9;
        Result result = new Result(importer.name(), outPath.toString(), prepared.fetched(), table.size(), counts,
                table.drops(), seconds);
        writeReport(fs, new Path(outPath, REPORT), importer, result, table);
        return result;
    }

    /** Refuses an existing {@code out} unless {@code overwrite} and it is an earlier import. */
    public static void checkOutput(FileSystem fs, Path out, boolean overwrite) throws IOException {
        if (!fs.exists(out)) {
            return;
        }
        if (!overwrite) {
            throw new IllegalArgumentException("output " + out + " already exists; pass --overwrite to replace it, or choose"
                    + " another --out");
        }
        if (!fs.getFileStatus(out).isDirectory() || !fs.exists(new Path(out, REPORT))) {
            throw new IllegalArgumentException("output " + out + " exists and is not a dataset import (it has no " + REPORT
                    + "); --overwrite only replaces earlier imports. Remove it yourself or choose another --out");
        }
    }

    static StructType schema(List<Column> columns) {
        List<StructField> fields = new ArrayList<>();
        for (Column c : columns) {
            DataType t = switch (c.type()) {
                case STRING -> DataTypes.StringType;
                case INT -> DataTypes.IntegerType;
            };
            fields.add(DataTypes.createStructField(c.name(), t, c.nullable()));
        }
        return DataTypes.createStructType(fields);
    }

    private static void writeReport(FileSystem fs, Path path, DatasetImporter imp, Result r, Table table)
            throws IOException {
        Map<String, Object> pkg = new LinkedHashMap<>();
        pkg.put("client", imp.source().client());
        pkg.put("coordinates", imp.source().coordinates());
        pkg.put("file", imp.source().fileName());
        pkg.put("checksum", r.fetched().checksum());
        pkg.put("fetched_from", r.fetched().origin());

        List<Map<String, Object>> columns = new ArrayList<>();
        for (Column c : table.columns()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", c.name());
            m.put("type", c.type().name().toLowerCase(Locale.ROOT));
            columns.add(m);
        }
        List<Map<String, Object>> reasons = new ArrayList<>();
        for (Drops.Reason d : r.drops().reasons()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("reason", d.reason());
            m.put("count", d.count());
            m.put("first", d.examples());
            reasons.add(m);
        }
        Map<String, Object> dropped = new LinkedHashMap<>();
        dropped.put("total", r.drops().total());
        dropped.put("reasons", reasons);

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("dataset", imp.name());
        report.put("kind", imp.kind());
        report.put("description", imp.description());
        report.put("licence", imp.licence());
        report.put("package", pkg);
        report.put("columns", columns);
        report.put("rows", r.rows());
        report.put("counts", r.counts());
        report.put("dropped", dropped);
        report.put("imported_at", Instant.now().toString());
        try (OutputStream o = fs.create(path, true)) {
            o.write((GSON.toJson(report) + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }
}
