package dev.understudy.job;

import dev.understudy.job.config.CompressConfigLoader;
import dev.understudy.ops.surgery.Compress;
import dev.understudy.ops.surgery.CompressSpec;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code understudy compress}: a thin entry point over {@link Compress#run} (model-ops). Runs on the
 * driver only; no Spark session is started.
 */
public final class CompressCommand {
    private CompressCommand() {}

    static final String USAGE = """
            usage: understudy compress --conf FILE [--conf FILE]... [--set key=value]... [--reference]

            Builds a derived model of a parent model directory: drops layers (drop.method: uniform or bi)
            and/or prunes FFN neurons (prune.saliency: weight or activation), optionally distils it towards
            the parent on a public text file (distill.steps > 0), and writes it to output with
            derivation.json (provenance: parent hash, layer map, kept neurons) and compress.json (kept
            parameters and FLOPs per token; held-out perplexity of the parent, the derived model without
            and with distillation).

            options:
              --conf FILE        YAML configuration, e.g. conf/compress/quickstart-prune.yaml (repeatable)
              --set key=value    override one key, e.g. --set prune.keep_fraction=0.25 (repeatable)
              --reference        print the configuration reference (Markdown) and exit
              -h, --help         this help
            """;

    /** Runs the command; returns the exit code (a user mistake throws IllegalArgumentException). */
    public static int run(String[] args, PrintStream out) throws Exception {
        List<Path> confs = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--conf" -> {
                    Path p = Path.of(value(args, ++i, "--conf"));
                    if (!Files.isRegularFile(p)) {
                        throw new IllegalArgumentException("--conf " + p + ": no such file");
                    }
                    confs.add(p);
                }
                case "--set" -> sets.add(value(args, ++i, "--set"));
                case "--reference" -> {
                    out.print(CompressConfigLoader.reference());
                    return 0;
                }
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> throw new IllegalArgumentException("compress: unknown option " + args[i]
                        + " (see understudy compress --help)");
            }
        }
        CompressSpec spec = CompressConfigLoader.load(confs, sets);
        Compress.run(spec, out);
        return 0;
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) {
            throw new IllegalArgumentException(opt + " needs a value");
        }
        return args[i];
    }
}
