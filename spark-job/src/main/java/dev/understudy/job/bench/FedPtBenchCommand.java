package dev.understudy.job.bench;

import dev.understudy.job.config.FedPtBenchLoader;
import dev.understudy.job.datasets.RegistryFetcher;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** {@code understudy bench fedpt}: runs {@link FedPtBenchmark} and prints its table. */
public final class FedPtBenchCommand {
    private FedPtBenchCommand() {}

    static final String USAGE = """
            usage: understudy bench fedpt --conf FILE [--conf FILE]... [--set key=value]... [--out DIR]
                                          [--family DIR] [--cache DIR] [--reuse]

            FedPT against its baselines on one data split (conf/examples/fedpt-sentiment.yaml,
            conf/examples/fedpt-glosses.yaml): large and small base models, FedAvg-LoRA on the small model,
            FedPT (small after distillation, proxy-tuned large), FedAvg-LoRA and centralised LoRA on the large
            model, all evaluated on the same held-out rows; the share of the large-base -> FedAvg-large gap the
            proxy closes, an alpha ablation, and FedPT / FedAvg-large ratios of per-client bytes and memory.
            Writes DIR/results.md, DIR/results.json, DIR/bench.yaml and the runs under DIR/runs/.

            options:
              --conf FILE        job settings shared by every run plus a bench: section (repeatable)
              --set key=value    override a job key or a bench.* key (repeatable)
              --out DIR          output directory (default target/bench-fedpt/<dataset>)
              --family DIR       model family directory (default bench.family, else the quickstart cache)
              --cache DIR        cache root (default $UNDERSTUDY_CACHE's parent or ~/.cache/understudy)
              --reuse            resume runs whose directory holds the same resolved configuration
              --defaults FILE    defaults file (default: conf/defaults.yaml if present)
              -h, --help         this help

            The memory probe (bench.memory_probe, on by default) trains one client in a child JVM started with
            this JVM's java.class.path, which must hold the application jar: true with bin/understudy; under
            spark-submit add the jar with --driver-class-path, or set bench.memory_probe=false.
            --reuse refuses an --out whose data split was made with other data settings (bench.dataset, data,
            where, sample_rows, server_percent, split_columns, family, small, large): drop --reuse or use
            another --out.
            """;

    public static int run(String[] args, PrintStream out) throws Exception {
        List<Path> confs = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        Path outDir = null;
        Path family = null;
        String cache = null;
        boolean reuse = false;
        Path defaults = Files.exists(Path.of("conf/defaults.yaml")) ? Path.of("conf/defaults.yaml") : null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--conf" -> confs.add(Path.of(value(args, ++i, "--conf")));
                case "--set" -> sets.add(value(args, ++i, "--set"));
                case "--out" -> outDir = Path.of(value(args, ++i, "--out"));
                case "--family" -> family = Path.of(value(args, ++i, "--family"));
                case "--cache" -> cache = value(args, ++i, "--cache");
                case "--reuse" -> reuse = true;
                case "--defaults" -> defaults = Path.of(value(args, ++i, "--defaults"));
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "' for bench fedpt\n" + USAGE);
            }
        }
        if (confs.isEmpty()) {
            throw new IllegalArgumentException("bench fedpt needs --conf, e.g. --conf conf/examples/fedpt-sentiment.yaml\n"
                    + USAGE);
        }
        // the bench section is validated before Spark starts
        String dataset = new FedPtBenchLoader(defaults, confs, sets).bench().dataset();
        if (outDir == null) {
            outDir = Path.of("target/bench-fedpt", dataset);
        }
        Path datasets = cache != null ? Path.of(cache, "datasets")
                : RegistryFetcher.resolveCacheDir(null, System.getenv(), System.getProperty("user.home"));
        Path defaultFamily = datasets.toAbsolutePath().getParent().resolve("families").resolve("quickstart");
        String command = "understudy bench fedpt " + String.join(" ", args);
        FedPtBenchmark.Options o = new FedPtBenchmark.Options(outDir.toAbsolutePath().normalize(), defaults, confs, sets,
                family, defaultFamily, datasets, reuse, command, out);

        SparkSession.Builder b = SparkSession.builder().appName("understudy bench fedpt");
        if (!new SparkConf().contains("spark.master")) {
            b.master("local[*]");
        }
        SparkSession spark = b.getOrCreate();
        try {
            FedPtBenchmark.Result r = FedPtBenchmark.run(spark, o);
            out.printf("%n== bench fedpt: %s ==%n", r.report().title());
            out.print(r.report().text());
            out.printf("%nresults in %s and %s; runs in %s%n", r.markdown(), r.json(), o.outDir().resolve("runs"));
            return 0;
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
