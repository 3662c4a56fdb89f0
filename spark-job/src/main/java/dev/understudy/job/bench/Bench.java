package dev.understudy.job.bench;

import java.util.Arrays;
import org.apache.spark.sql.SparkSession;

/** {@code understudy bench <name> [options]}: benchmarks that print figures (not tests). */
public final class Bench {
    private Bench() {}

    static final String USAGE = """
            usage: understudy bench <benchmark> [options]

            benchmarks:
              engine    round engine: wall-time split and overhead, bytes per round, driver heap (--help for options)
              fedpt     FedPT against its baselines on one data split, gap closed, alpha ablation, bytes and
                        memory ratios (--conf conf/examples/fedpt-sentiment.yaml; --help for options)
            """;

    /** Runs the benchmark named by {@code args[0]}; returns the exit code. */
    public static int run(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.out.print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("fedpt")) {
            return FedPtBenchCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out);
        }
        if (!args[0].equals("engine")) {
            throw new IllegalArgumentException("unknown benchmark '" + args[0] + "'\n" + USAGE);
        }
        EngineBenchmark.Options o = EngineBenchmark.Options.parse(Arrays.copyOfRange(args, 1, args.length));
        if (o == null) {
            System.out.print(EngineBenchmark.USAGE);
            return 0;
        }
        SparkSession spark = SparkSession.builder().appName("understudy bench engine").getOrCreate();
        try {
            EngineBenchmark.run(spark, o, System.out);
            return 0;
        } finally {
            spark.stop();
        }
    }
}
