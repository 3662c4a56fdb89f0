package dev.understudy.job.experiment;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** {@code understudy experiment --grid grid.yaml [--out DIR] [--defaults FILE]}: the thin entry point of {@link Experiment}. */
public final class ExperimentCommand {
    private ExperimentCommand() {}

    static final String USAGE = """
            usage: understudy experiment --grid grid.yaml [--out DIR] [--defaults FILE]

            Runs every cell of the grid (methods x configs x parameter values x seeds) as an ordinary run in
            DIR/cells/<cell>/ (DIR: --out, else the grid's output key), skipping finished cells and resuming
            interrupted ones, then writes DIR/results.parquet, DIR/results.md (mean and 95% t-interval over
            seeds) and DIR/report/. One scheduler at a time: the grid's root holds an output-dir lease.

            exit status: 0 all cells done, 3 nothing to do (all were done before), 4 some cells failed,
                         5 another scheduler holds the grid, 2 a mistake in the grid or the arguments
            """;

    /** Exit status when another process holds the grid's lease. */
    public static final int LOCKED = 5;

    public static int run(String[] args, PrintStream out) throws Exception {
        Path gridFile = null;
        String outDir = null;
        Path defaults = Files.exists(Path.of("conf/defaults.yaml")) ? Path.of("conf/defaults.yaml") : null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--grid" -> gridFile = Path.of(value(args, ++i, "--grid"));
                case "--out" -> outDir = value(args, ++i, "--out");
                case "--defaults" -> defaults = Path.of(value(args, ++i, "--defaults"));
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'\n" + USAGE);
            }
        }
        if (gridFile == null) {
            throw new IllegalArgumentException("experiment needs --grid FILE\n" + USAGE);
        }
        if (!Files.isRegularFile(gridFile)) {
            throw new IllegalArgumentException("grid file " + gridFile + " does not exist");
        }
        Grid g = Grid.parse(Files.readString(gridFile, StandardCharsets.UTF_8), gridFile.toString());
        if (outDir != null) {
            g = new Grid(outDir, g.conf(), g.set(), g.methods(), g.configs(), g.params(), g.seeds());
        }
        SparkSession spark = SparkSession.builder().appName("understudy experiment " + gridFile.getFileName()).getOrCreate();
        try {
            return Experiment.run(spark, g, defaults, out).status().exitCode;
        } catch (IllegalStateException e) {
            if (e.getMessage() != null && e.getMessage().contains(" is in use by ")) {
                System.err.println("error: " + e.getMessage());
                return LOCKED;
            }
            throw e;
        } finally {
            spark.stop();
        }
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) {
            throw new IllegalArgumentException(opt + " needs a value");
        }
        return args[i];
    }
}
