package dev.understudy.job.report;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** {@code understudy report RUN_DIR [RUN_DIR...] --out DIR}: the thin entry point of {@link Report}. */
public final class ReportCommand {
    private ReportCommand() {}

    static final String USAGE = """
            usage: understudy report RUN_DIR [RUN_DIR...] --out DIR

            Draws the runs' figures (PNG and SVG: loss and accuracy per round, bytes per round, per-client
            accuracy at the last evaluated round, the clients' label mix, FedProxy's conflict rate when
            present) and writes DIR/report.html, a self-contained page with the figures and a results table.
            RUN_DIR is a run's output.dir (file://, hdfs://, s3a:// or a local path).
            """;

    /** Parsed arguments. */
    public record Options(List<String> runDirs, Path out) {}

    public static Options parse(String[] args) {
        List<String> dirs = new ArrayList<>();
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> {
                    if (++i >= args.length) {
                        throw new IllegalArgumentException("--out needs a value");
                    }
                    out = Path.of(args[i]);
                }
                default -> {
                    if (args[i].startsWith("-")) {
                        throw new IllegalArgumentException("unknown option '" + args[i] + "'\n" + USAGE);
                    }
                    dirs.add(args[i]);
                }
            }
        }
        if (dirs.isEmpty() || out == null) {
            throw new IllegalArgumentException("report needs at least one RUN_DIR and --out DIR\n" + USAGE);
        }
        return new Options(dirs, out);
    }

    public static int run(String[] args, PrintStream out) throws Exception {
        if (args.length > 0 && (args[0].equals("-h") || args[0].equals("--help"))) {
            out.print(USAGE);
            return 0;
        }
        Options o = parse(args);
        SparkSession spark = SparkSession.builder().appName("understudy report").getOrCreate();
        try {
            Report.Result r = Report.write(spark, o.runDirs(), o.out());
            out.print(r.table());
            out.println("wrote " + r.figures().size() + " figures and " + r.html());
            return 0;
        } finally {
            spark.stop();
        }
    }
}
