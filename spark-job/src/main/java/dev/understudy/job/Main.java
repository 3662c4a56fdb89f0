package dev.understudy.job;

import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.ConfigReference;
import dev.understudy.job.config.JobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/**
 * Command line: {@code understudy <run|resume|config> [--conf FILE]... [--set key=value]...}.
 * The only place that calls {@link System#exit}.
 */
public final class Main {
    private Main() {}

    static final String USAGE = """
            usage: understudy <command> [--conf FILE]... [--set key=value]...

            commands:
              run       start a federated run (fails if output.dir already has committed rounds,
                        unless output.overwrite=true)
              resume    continue the run in output.dir from its last committed round
              config    print the resolved configuration (defaults < --conf files < --set) and exit
              reference print the configuration reference (Markdown) and exit
              pretrain  pretrain a model family from scratch (understudy pretrain --help)

            options:
              --conf FILE        YAML configuration, applied after conf/defaults.yaml (repeatable)
              --set key=value    override one key, e.g. --set server.rounds=5 (repeatable)
              --defaults FILE    defaults file (default: conf/defaults.yaml if present)
              -h, --help         this help

            Spark settings come from spark-submit (or bin/understudy, which runs local[*]).
            """;

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    static int run(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.out.print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String command = args[0];
        if (command.equals("pretrain")) {
            return dev.understudy.job.pretrain.PretrainCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length),
                    System.out);
        }
        List<Path> confs = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        Path defaults = Files.exists(Path.of("conf/defaults.yaml")) ? Path.of("conf/defaults.yaml") : null;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--conf" -> confs.add(Path.of(value(args, ++i, "--conf")));
                case "--set" -> sets.add(value(args, ++i, "--set"));
                case "--defaults" -> defaults = Path.of(value(args, ++i, "--defaults"));
                case "-h", "--help" -> {
                    System.out.print(USAGE);
                    return 0;
                }
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'\n" + USAGE);
            }
        }
        if (command.equals("reference")) {
            System.out.print(ConfigReference.referenceMarkdown());
            return 0;
        }
        JobConfig cfg = ConfigLoader.load(defaults, confs, sets);
        switch (command) {
            case "config" -> {
                System.out.print(ConfigLoader.toYaml(cfg));
                return 0;
            }
            case "run", "resume" -> {
                SparkSession spark = SparkSession.builder().appName("understudy " + command).getOrCreate();
                try {
                    FederatedJob.JobResult r = FederatedJob.run(spark, cfg, command.equals("resume"));
                    printSummary(r);
                    return 0;
                } finally {
                    spark.stop();
                }
            }
            default -> throw new IllegalArgumentException("unknown command '" + command + "'\n" + USAGE);
        }
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) {
            throw new IllegalArgumentException(opt + " needs a value");
        }
        return args[i];
    }

    static void printSummary(FederatedJob.JobResult r) {
        System.out.printf(Locale.ROOT, "%n%-6s %-8s %-8s %-11s %-10s %-10s %-10s%n", "round", "clients", "failed", "train loss",
                "eval loss", "eval ppl", "up (KB)");
        for (var m : r.rounds()) {
            System.out.printf(Locale.ROOT, "%-6d %-8d %-8d %-11.4f %-10s %-10s %-10.1f%n", m.round(), m.succeeded(), m.failed(),
                    m.trainLoss(), Double.isNaN(m.evalLoss()) ? "-" : String.format(Locale.ROOT, "%.4f", m.evalLoss()),
                    Double.isNaN(m.evalLoss()) ? "-" : String.format(Locale.ROOT, "%.2f", m.evalPerplexity()),
                    m.bytesUp() / 1024.0);
        }
        System.out.printf(Locale.ROOT, "%nclients %d, training rows %d, skipped %s, truncated %d; artifacts in %s (adapter/ is the"
                + " PEFT adapter)%n", r.clients(), r.trainRows(), r.skippedRows(), r.truncatedRows(), r.outputDir());
    }
}
