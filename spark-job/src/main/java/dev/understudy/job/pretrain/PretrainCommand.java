package dev.understudy.job.pretrain;

import dev.understudy.job.config.PretrainConfig;
import dev.understudy.job.config.PretrainConfigLoader;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.pretrain.FamilyPretraining;
import dev.understudy.ops.pretrain.FamilySpec;
import dev.understudy.ops.pretrain.ProgressBar;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * {@code understudy pretrain}: pretrains a model family on the driver (no Spark cluster needed;
 * Spark only reads Parquet corpora) and writes it with its {@code family.json} manifest.
 */
public final class PretrainCommand {
    private PretrainCommand() {}

    static final String USAGE = """
            usage: understudy pretrain --conf FILE [--conf FILE]... [--set key=value]... [--corpus PATH]...
                                       [--out DIR] [--resume] [--force] [--print-config]

            Pretrains the family of LLaMA-architecture models the config lists (members by name), sharing one
            byte-level BPE tokenizer, on the same token budget each, and writes DIR/tokenizer/, DIR/<member>/
            (Hugging Face model directories) and DIR/family.json (written last).

            options:
              --conf FILE        YAML pretraining configuration, e.g. conf/pretrain/quickstart.yaml (repeatable)
              --set key=value    override one key, e.g. --set training.token_budget=200000 (repeatable)
              --corpus PATH      corpus file or directory (.txt, .jsonl, .parquet; local or a Hadoop URI);
                                 repeatable; replaces corpus.paths
              --out DIR          output directory; replaces output.dir
              --resume           keep members this build already finished and continue the others from their
                                 last checkpoint
              --force            retrain even when DIR/family.json matches the config and corpus
              --print-config     print the resolved configuration and exit
              -h, --help         this help

            When DIR/family.json was built from the same configuration and corpus, nothing is trained
            ("cached"). Torch threads: -Dai.djl.pytorch.num_threads (bin/understudy sets UNDERSTUDY_TORCH_THREADS).
            """;

    /** Runs the command; returns the exit code. */
    public static int run(String[] args, PrintStream out) throws Exception {
        List<Path> confs = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        List<String> corpus = new ArrayList<>();
        String outDir = null;
        boolean resume = false;
        boolean force = false;
        boolean printConfig = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--conf" -> confs.add(Path.of(value(args, ++i, "--conf")));
                case "--set" -> sets.add(value(args, ++i, "--set"));
                case "--corpus" -> corpus.add(value(args, ++i, "--corpus"));
                case "--out" -> outDir = value(args, ++i, "--out");
                case "--resume" -> resume = true;
                case "--force" -> force = true;
                case "--print-config" -> printConfig = true;
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "' for pretrain\n" + USAGE);
            }
        }
        if (force && resume) {
            throw new IllegalArgumentException("pretrain takes --force (retrain everything) or --resume (keep finished"
                    + " work), not both");
        }
        if (confs.isEmpty() && sets.isEmpty()) {
            throw new IllegalArgumentException("pretrain needs a configuration: --conf conf/pretrain/quickstart.yaml\n"
                    + USAGE);
        }
        PretrainConfig config = PretrainConfigLoader.load(confs, sets);
        config = withOverrides(config, corpus, outDir);
        if (printConfig) {
            out.print(PretrainConfigLoader.toYaml(config));
            return 0;
        }
        if (config.output().dir() == null || config.output().dir().isBlank()) {
            throw new IllegalArgumentException("Missing required key output.dir; set it in the config or pass --out DIR");
        }
        Path dir = localDir(config.output().dir());
        FamilySpec spec = config.toSpec();

        boolean hadSession = SparkSession.getDefaultSession().isDefined() || SparkSession.getActiveSession().isDefined();
        SparkSession[] used = {null};
        CorpusReader.Corpus docs;
        try {
            long t0 = System.nanoTime();
            docs = CorpusReader.read(config.corpus().paths(), config.corpus(), () -> used[0] = localSpark());
            out.printf("corpus: read %s in %.1f s%n", docs.describe(), (System.nanoTime() - t0) / 1e9);
        } finally {
            if (used[0] != null && !hadSession) {
                used[0].stop(); // started only to read Parquet: free its memory before training
            }
        }
        FamilyPretraining.Options options = new FamilyPretraining.Options(force, resume, out,
                out == System.out && ProgressBar.stdoutIsTerminal());
        FamilyPretraining.Outcome outcome = FamilyPretraining.run(spec, docs.documents(), docs.sources(), dir, options);
        if (!outcome.cached()) {
            byte[] yaml = PretrainConfigLoader.toYaml(config).getBytes(StandardCharsets.UTF_8);
            new DirectoryModelSink(dir).write("pretrain-config.yaml", o -> o.write(yaml));
            out.printf("wrote %s (manifest) and %s (resolved config)%n", dir.resolve("family.json"),
                    dir.resolve("pretrain-config.yaml"));
        }
        return 0;
    }

    static PretrainConfig withOverrides(PretrainConfig c, List<String> corpus, String outDir) {
        PretrainConfig.Corpus cs = corpus.isEmpty() ? c.corpus()
                : new PretrainConfig.Corpus(corpus, c.corpus().textColumn(), c.corpus().txtDocuments(),
                        c.corpus().heldoutFraction());
        PretrainConfig.Output o = outDir == null ? c.output() : new PretrainConfig.Output(outDir);
        return new PretrainConfig(c.name(), cs, c.tokenizer(), c.training(), c.members(), o, c.seed());
    }

    /** {@code /x}, {@code x} or {@code file:///x}; other schemes are refused (the family is written locally). */
    static Path localDir(String location) {
        if (location.contains("://") || location.startsWith("file:")) {
            URI uri = URI.create(location);
            if (!"file".equals(uri.getScheme())) {
                throw new IllegalArgumentException("Cannot write the family to " + location + ": output.dir must be a"
                        + " local directory (a plain path or file://); copy it to " + uri.getScheme() + " afterwards");
            }
            return Path.of(uri);
        }
        return Path.of(location).toAbsolutePath().normalize();
    }

    /**
     * A Spark session for reading Parquet: the existing one, else a new one on the submitted master
     * (local[*] when none was set).
     */
    static SparkSession localSpark() {
        SparkConf conf = new SparkConf();
        SparkSession.Builder b = SparkSession.builder().appName("understudy pretrain (corpus)");
        if (!conf.contains("spark.master")) {
            b.master("local[*]").config("spark.ui.enabled", "false");
        }
        return b.getOrCreate();
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) {
            throw new IllegalArgumentException(opt + " needs a value");
        }
        return args[i];
    }
}
