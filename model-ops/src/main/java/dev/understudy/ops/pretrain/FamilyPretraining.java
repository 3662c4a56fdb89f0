package dev.understudy.ops.pretrain;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.JsonFiles;
import dev.understudy.ops.model.Devices;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer;
import dev.understudy.ops.tokenizer.TokenizerSpec;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.util.Preconditions;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Builds a model family from documents: the held-out split, one shared byte-level BPE tokenizer
 * trained on the training documents, then each member pretrained on the same token budget, saved
 * as a Hugging Face directory, and finally the {@link ModelFamily} manifest {@code family.json}.
 *
 * <pre>
 * ModelFamily family = FamilyPretraining.run(spec, documents, List.of("sotu/"), outDir,
 *         FamilyPretraining.Options.console()).family();
 * </pre>
 *
 * <p>Output directory: {@code family.json} (written last: a directory without it is not a finished
 * family), {@code tokenizer/}, one directory per member (swapped in whole when the member is done,
 * with a {@code pretrain.json} holding its results), {@code checkpoints/<member>.safetensors} while a
 * member trains.
 *
 * <p><b>Caching</b>: when {@code family.json} exists and was built from the same spec ({@link
 * FamilySpec#digest()}) and the same documents ({@link Digests#documents}), nothing is trained and
 * the existing manifest is returned, unless {@link Options#force()}. <b>Resume</b> ({@link
 * Options#resume()}) keeps finished members of the same build and continues the others from their
 * last checkpoint, bit for bit; without it every member starts from scratch.
 */
public final class FamilyPretraining {
    private FamilyPretraining() {}

    /**
     * @param force retrain even when {@code family.json} matches
     * @param resume keep finished members and continue from checkpoints
     * @param out where progress goes
     * @param interactive redraw a one-line progress bar (a terminal) instead of printing plain lines
     */
    public record Options(boolean force, boolean resume, PrintStream out, boolean interactive) {
        public Options {
            Preconditions.checkNotNull(out, "output stream");
        }

        /** Standard output, a progress bar when it is a terminal, no force, no resume. */
        public static Options console() {
            return new Options(false, false, System.out, ProgressBar.stdoutIsTerminal());
        }

        public Options withForce(boolean value) {
            return new Options(value, resume, out, interactive);
        }

        public Options withResume(boolean value) {
            return new Options(force, value, out, interactive);
        }
    }

    /** The family and whether it was already there ({@code cached}: nothing was trained). */
    public record Outcome(ModelFamily family, boolean cached) {}

    /**
     * Builds (or finds cached) the family of {@code spec} from {@code documents} into {@code outDir}.
     *
     * @param documents the corpus, one string per document, in a deterministic order
     * @param sources where the documents came from, recorded in the manifest
     */
    public static Outcome run(FamilySpec spec, List<String> documents, List<String> sources, Path outDir, Options options)
            throws IOException {
        PrintStream out = options.out();
        String corpusSha = Digests.documents(documents);
        String key = spec.digest() + "/" + corpusSha;
        Path manifest = outDir.resolve(ModelFamily.FILE);
        if (Files.exists(manifest) && !options.force()) {
            ModelFamily existing = readQuietly(outDir, out);
            if (existing != null && existing.cacheKey().equals(key) && membersPresent(existing, outDir)) {
                out.printf(Locale.ROOT, "cached: %s was built from the same config and corpus (%s); nothing to train."
                        + " Use --force to retrain.%n", manifest, shortKey(key));
                return new Outcome(existing, true);
            }
            if (existing != null) {
                out.printf("%s was built from a different config or corpus; rebuilding the family%n", manifest);
            }
        }
        Files.createDirectories(outDir);
        // Not a finished family any more: a crash from here on must not leave a manifest that looks cached.
        Files.deleteIfExists(manifest);

        // 1. held-out split by document
        PretrainData.Split split = PretrainData.split(documents, spec.heldoutFraction(), spec.seed());
        long chars = documents.stream().mapToLong(String::length).sum();
        out.printf(Locale.ROOT, "corpus: %,d documents, %,d characters -> %,d training / %,d held-out documents%n",
                documents.size(), chars, split.train().size(), split.heldout().size());

        // 2. shared tokenizer, trained on the training side only
        long t0 = System.nanoTime();
        List<String> tokenizerDocs = tokenizerSample(split.train(), spec.tokenizerMaxChars());
        ByteLevelBpeTrainer.Options bpe = ByteLevelBpeTrainer.Options.defaults(spec.vocabSize())
                .withMinFrequency(spec.minFrequency()).withModelMaxLength(spec.maxSeqLen());
        TokenizerSpec tokenizer = ByteLevelBpeTrainer.train(tokenizerDocs, bpe);
        tokenizer.writeTo(outDir.resolve(ModelFamily.TOKENIZER_DIR));
        String tokenizerSha = Digests.sha256Hex(tokenizer.tokenizerJson());
        int vocab = tokenizer.vocabSize();
        out.printf(Locale.ROOT, "tokenizer: byte-level BPE, %,d tokens, trained on %,d documents in %.1f s -> %s%n", vocab,
                tokenizerDocs.size(), (System.nanoTime() - t0) / 1e9, outDir.resolve(ModelFamily.TOKENIZER_DIR));

        // 3. tokenise
        t0 = System.nanoTime();
        PretrainData data = PretrainData.tokenize(split, tokenizer.encoder(), ByteLevelBpeTrainer.BOS_ID,
                ByteLevelBpeTrainer.EOS_ID);
        out.printf(Locale.ROOT, "tokens: %,d training, %,d held-out (%.2f characters/token) in %.1f s%n",
                data.trainTokens(), data.heldoutTokens(), chars / (double) (data.trainTokens() + data.heldoutTokens()),
                (System.nanoTime() - t0) / 1e9);

        ModelFamily.Corpus corpus = new ModelFamily.Corpus(corpusSha, documents.size(), split.train().size(),
                split.heldout().size(), chars, data.trainTokens(), data.heldoutTokens(), sources);

        // 4. members
        List<ModelFamily.Member> members = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager(Devices.auto(), "PyTorch")) {
            for (MemberSpec m : spec.members()) {
                members.add(trainMember(spec, m, key, vocab, tokenizer, tokenizerSha, data, outDir, options, manager));
            }
        }
        deleteIfEmpty(outDir.resolve("checkpoints"));

        // 5. the manifest, last
        ModelFamily family = new ModelFamily(spec.name(), vocab, tokenizerSha, spec.digest(), corpus,
                spec.training().tokenBudget(), members, null);
        family.write(outDir);
        printSummary(family, out);
        return new Outcome(family.withSource(manifest.toString()), false);
    }

    private static ModelFamily.Member trainMember(FamilySpec spec, MemberSpec m, String familyKey, int vocab,
            TokenizerSpec tokenizer, String tokenizerSha, PretrainData data, Path outDir, Options options,
            NDManager manager) throws IOException {
        PrintStream out = options.out();
        PretrainSettings s = spec.training();
        String runKey = familyKey + "/" + m.name();
        Path dir = outDir.resolve(m.name());
        Path done = dir.resolve(RESULT_FILE);
        if (options.resume() && Files.exists(done)) {
            JsonObject json = JsonFiles.read(new DirectoryModelSource(dir), RESULT_FILE);
            if (json.has("run_key") && json.get("run_key").getAsString().equals(runKey)) {
                ModelFamily.Member member = ModelFamily.parseMember(json, done.toString());
                out.printf("%s: already trained by this build (%s); keeping it%n", m.name(), dir);
                return member;
            }
        }
        int seqLen = m.seqLen(s);
        double lr = m.lr(s);
        ModelConfig config = m.modelConfig(vocab, s).withSpecialTokens(ByteLevelBpeTrainer.BOS_ID,
                ByteLevelBpeTrainer.EOS_ID, ByteLevelBpeTrainer.PAD_ID);
        Path checkpoint = outDir.resolve("checkpoints").resolve(m.name() + ".safetensors");
        if (!options.resume()) {
            Files.deleteIfExists(checkpoint);
        }
        Files.createDirectories(checkpoint.getParent());
        List<Example> train = data.trainBlocks(seqLen);
        List<Example> periodic = s.evalEvery() > 0 ? data.heldoutBlocks(seqLen, s.evalTokens(), spec.seed()) : List.of();
        List<Example> finalEval = data.heldoutBlocks(seqLen, s.finalEvalTokens(), spec.seed());
        double embeddingLr = m.embeddingLr(s);
        try (Pretrainer p = Pretrainer.create(config, s, seqLen, lr, embeddingLr, spec.seed(), checkpoint, runKey,
                options.resume(), manager)) {
            out.printf(Locale.ROOT, "%s: %s parameters (%s embedding), d=%d layers=%d heads=%d/%d ffn=%d, %d steps x %,d"
                            + " tokens (seq %d), lr %.3g%s%s%n", m.name(), human(m.parameterCount(vocab)),
                    human(m.embeddingParameters(vocab)), m.hiddenSize(), m.numLayers(), m.numHeads(), m.numKvHeads(),
                    m.intermediateSize(), p.totalSteps(), s.tokensPerStep(seqLen), seqLen, lr,
                    embeddingLr != lr ? String.format(Locale.ROOT, " (embedding %.3g)", embeddingLr) : "",
                    p.step() > 0 ? ", resuming at step " + p.step() : "");
            ProgressBar bar = new ProgressBar(out, options.interactive(), "  " + m.name(), p.step(), p.totalSteps());
            Pretrainer.Result r = p.run(train, periodic, finalEval, new Pretrainer.Listener() {
                @Override
                public void onStep(long step, long total, double loss, double stepLr, double tokensPerSecond) {
                    bar.update(step, loss, tokensPerSecond);
                }

                @Override
                public void onEval(Pretrainer.EvalPoint e, boolean isFinal) {
                    bar.println(String.format(Locale.ROOT, "  %s step %d: held-out loss %.4f, perplexity %.2f (%,d tokens)%s",
                            m.name(), e.step(), e.loss(), e.perplexity(), e.tokens(), isFinal ? ", final" : ""));
                }
            });
            ModelFamily.Member member = new ModelFamily.Member(m.name(), m.name(), vocab, tokenizerSha,
                    p.model().parameterCount(), m.embeddingParameters(vocab), m.hiddenSize(), m.numLayers(), m.numHeads(),
                    m.numKvHeads(), m.intermediateSize(), seqLen, lr, r.steps(), r.tokens(), r.trainSeconds(),
                    r.tokensPerSecond(), r.finalEval().loss(), r.finalEval().perplexity(), r.finalEval().tokens());
            saveMember(p, member, runKey, tokenizer, outDir);
            Files.deleteIfExists(checkpoint);
            out.printf(Locale.ROOT, "%s: %,d tokens in %.1f s (%,.0f tokens/s), held-out perplexity %.2f -> %s%n",
                    m.name(), r.tokens(), r.trainSeconds(), r.tokensPerSecond(), r.finalEval().perplexity(), dir);
            return member;
        }
    }

    /** Per-member results and run key, written into the member directory. */
    static final String RESULT_FILE = "pretrain.json";

    /** Writes the member directory next to its final place, then swaps it in. */
    private static void saveMember(Pretrainer p, ModelFamily.Member member, String runKey, TokenizerSpec tokenizer,
            Path outDir) throws IOException {
        Path dir = outDir.resolve(member.dir());
        Path tmp = outDir.resolve("." + member.dir() + ".tmp");
        deleteRecursively(tmp);
        DirectoryModelSink sink = new DirectoryModelSink(tmp);
        HfModels.save(p.model(), sink);
        tokenizer.writeTo(tmp);
        ModelConfig c = p.model().config();
        JsonObject gen = new JsonObject();
        gen.addProperty("bos_token_id", c.bosTokenId());
        gen.addProperty("eos_token_id", c.eosTokenId());
        gen.addProperty("pad_token_id", c.padTokenId());
        JsonFiles.write(sink, "generation_config.json", gen);
        JsonObject result = ModelFamily.memberJson(member);
        result.addProperty("run_key", runKey);
        JsonFiles.write(sink, RESULT_FILE, result);
        deleteRecursively(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    }

    private static List<String> tokenizerSample(List<String> docs, long maxChars) {
        if (maxChars <= 0) {
            return docs;
        }
        List<String> out = new ArrayList<>();
        long n = 0;
        for (String d : docs) {
            if (n >= maxChars) {
                break;
            }
            String part = d.length() <= maxChars - n ? d : d.substring(0, (int) (maxChars - n));
            out.add(part);
            n += part.length();
        }
        return out;
    }

    private static ModelFamily readQuietly(Path outDir, PrintStream out) {
        try {
            return ModelFamily.load(outDir);
        } catch (IOException | RuntimeException e) {
            out.printf("ignoring unreadable %s (%s); rebuilding the family%n", outDir.resolve(ModelFamily.FILE),
                    e.getMessage());
            return null;
        }
    }

    private static boolean membersPresent(ModelFamily family, Path outDir) {
        for (ModelFamily.Member m : family.members()) {
            Path d = outDir.resolve(m.dir());
            if (!Files.isRegularFile(d.resolve("config.json")) || !Files.isRegularFile(d.resolve("model.safetensors"))) {
                return false;
            }
        }
        return true;
    }

    static void printSummary(ModelFamily family, PrintStream out) {
        out.printf(Locale.ROOT, "%nfamily '%s': vocabulary %,d (tokenizer sha256 %s...), %,d tokens per member%n",
                family.name(), family.vocabSize(), family.tokenizerSha256().substring(0, 12), family.tokenBudget());
        out.printf(Locale.ROOT, "%-10s %12s %12s %8s %10s %12s %10s %12s%n", "member", "parameters", "non-embed",
                "steps", "tokens", "tokens/s", "seconds", "held-out ppl");
        for (ModelFamily.Member m : family.members()) {
            out.printf(Locale.ROOT, "%-10s %12s %12s %8d %10s %12.0f %10.1f %12.2f%n", m.name(), human(m.parameters()),
                    human(m.nonEmbeddingParameters()), m.steps(), human(m.tokens()), m.tokensPerSecond(), m.trainSeconds(),
                    m.heldoutPerplexity());
        }
    }

    /** 1234567 → "1.23M". */
    static String human(long n) {
        if (n >= 1_000_000) {
            return String.format(Locale.ROOT, "%.2fM", n / 1e6);
        }
        if (n >= 1_000) {
            return String.format(Locale.ROOT, "%.1fk", n / 1e3);
        }
        return Long.toString(n);
    }

    private static String shortKey(String key) {
        String[] parts = key.split("/");
        return "config " + parts[0].substring(0, 12) + ", corpus " + parts[1].substring(0, 12);
    }

    private static void deleteIfEmpty(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isEmpty()) {
                    Files.delete(dir);
                }
            }
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
