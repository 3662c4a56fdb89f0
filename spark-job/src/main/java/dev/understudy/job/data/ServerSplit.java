package dev.understudy.job.data;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/** The split of a data set into the clients' rows and the server's public rows (quickstart, FedPT benchmark). */
public final class ServerSplit {
    private ServerSplit() {}

    /**
     * Splits {@code rows} into the clients' part and the server's public part ({@code percent}% of
     * the rows, by Spark's xxhash64 (seed 42) of {@code columns}: stable across Spark versions and
     * machines, and rows that agree on those columns land on the same side), writes both as Parquet
     * and returns their row counts.
     *
     * @param source what {@code rows} were read from, for error messages
     */
    public static long[] split(Dataset<Row> rows, List<String> columns, int percent, Path clients, Path server,
            String source) {
        List<String> have = List.of(rows.columns());
        for (String c : columns) {
            if (!have.contains(c)) {
                throw new IllegalArgumentException(source + " has no column '" + c + "' to split the server's rows by"
                        + " (columns: " + have + ")");
            }
        }
        var bucket = functions.pmod(functions.xxhash64(columns.stream().map(functions::col)
                .toArray(org.apache.spark.sql.Column[]::new)), functions.lit(100));
        Dataset<Row> serverRows = rows.filter(bucket.lt(percent));
        Dataset<Row> clientRows = rows.filter(bucket.geq(percent));
        clientRows.coalesce(1).write().mode(SaveMode.Overwrite).parquet(clients.toUri().toString());
        serverRows.coalesce(1).write().mode(SaveMode.Overwrite).parquet(server.toUri().toString());
        SparkSession spark = rows.sparkSession();
        long c = spark.read().parquet(clients.toUri().toString()).count();
        long s = spark.read().parquet(server.toUri().toString()).count();
        long n = rows.count();
        if (c + s != n) {
            throw new IllegalStateException("splitting " + source + " lost rows: " + c + " + " + s + " != " + n);
        }
        return new long[] {c, s};
    }
}
