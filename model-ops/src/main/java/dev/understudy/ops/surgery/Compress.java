package dev.understudy.ops.surgery;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import dev.understudy.ops.compress.ModelCost;
import dev.understudy.ops.distill.Alignment;
import dev.understudy.ops.distill.RepDistillConfig;
import dev.understudy.ops.distill.RepresentationDistiller;
import dev.understudy.ops.infer.Scorer;
import dev.understudy.ops.io.DirectoryModelSink;
import dev.understudy.ops.io.JsonFiles;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.surgery.CompressSpec.DropMethod;
import dev.understudy.ops.surgery.CompressSpec.PruneSaliency;
import dev.understudy.ops.tokenizer.Tokenizer;
import dev.understudy.ops.train.DenseTrainables;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.LrSchedule;
import dev.understudy.ops.train.TrainConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code understudy compress}: builds a derived model from a parent directory (layer dropping, then
 * FFN pruning), optionally distils it towards the parent on a public text file (representation
 * distillation, {@link RepresentationDistiller}), and writes it with its provenance ({@code
 * derivation.json}) and figures ({@code compress.json}): kept fraction of parameters and FLOPs per
 * token, and held-out perplexity of the parent, of the derived model without distillation and with
 * it. Runs on one machine (the driver); no Spark.
 */
public final class Compress {
    private Compress() {}

    /** The files this command writes into the output directory (and may overwrite). */
    static final Set<String> OWN_FILES = Set.of("config.json", "model.safetensors", "model.safetensors.index.json",
            Derivation.FILE, "compress.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");

    /**
     * @param parentParameters scalar weights of the parent
     * @param derivedParameters scalar weights of the derived model
     * @param flopsFraction derived / parent FLOPs per token at {@code data.seq_len} (0 when no text)
     * @param parentPerplexity held-out perplexity of the parent (NaN without data.text)
     * @param undistilledPerplexity the derived model before distillation
     * @param distilledPerplexity after distillation (NaN when distill.steps = 0)
     * @param heldoutTokens loss tokens the perplexities are over
     * @param trainBlocks distillation / calibration blocks
     * @param firstLoss first distillation step's loss (NaN without distillation)
     * @param lastLoss last distillation step's loss
     * @param distillSeconds wall time of distillation
     */
    public record Result(Path output, Derivation derivation, long parentParameters, long derivedParameters,
            double flopsFraction, double parentPerplexity, double undistilledPerplexity, double distilledPerplexity,
            long heldoutTokens, int trainBlocks, double firstLoss, double lastLoss, double distillSeconds) {
        public double parameterFraction() {
            return (double) derivedParameters / parentParameters;
        }

        /** The figures as JSON (compress.json). */
        public JsonObject toJson() {
            JsonObject j = new JsonObject();
            j.addProperty("parent_parameters", parentParameters);
            j.addProperty("derived_parameters", derivedParameters);
            j.addProperty("parameter_fraction", parameterFraction());
            j.addProperty("flops_per_token_fraction", flopsFraction);
            j.addProperty("heldout_tokens", heldoutTokens);
            j.addProperty("train_blocks", trainBlocks);
            num(j, "parent_perplexity", parentPerplexity);
            num(j, "derived_perplexity_without_distillation", undistilledPerplexity);
            num(j, "derived_perplexity_with_distillation", distilledPerplexity);
            num(j, "distill_first_loss", firstLoss);
            num(j, "distill_last_loss", lastLoss);
            j.addProperty("distill_seconds", distillSeconds);
            return j;
        }

        private static void num(JsonObject j, String k, double v) {
            if (Double.isFinite(v)) {
                j.addProperty(k, v);
            }
        }
    }

    /** Runs {@code spec}, printing progress to {@code out}. */
    public static Result run(CompressSpec spec, PrintStream out) throws IOException {
        Path modelDir = path(spec.model());
        checkArgument(Files.isRegularFile(modelDir.resolve("config.json")),
                "model: %s is not a model directory (no config.json); give the parent model's directory", modelDir);
        Path outDir = path(spec.output());
        checkOutput(outDir, spec.overwrite());
        Path textFile = spec.data().text().isBlank() ? null : path(spec.data().text());
        checkArgument(textFile == null || Files.isRegularFile(textFile),
                "data.text: %s is not a readable file; give a UTF-8 public text file", textFile);
        Path tokDir = textFile == null ? null : tokenizerDir(spec, modelDir);

        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel parent = HfModels.load(modelDir, m, DataType.FLOAT32)) {
            ModelConfig pc = parent.config();
            Map<String, HostTensor> tensors = parent.exportTensors();
            int pad = 0;
            List<Example> train = List.of();
            List<Example> heldout = List.of();
            if (textFile != null) {
                try (Tokenizer tok = Tokenizer.load(tokDir)) {
                    pad = tok.padId().orElse(tok.eosId().orElse(0));
                    List<int[]> blocks = blocks(tok, Files.readString(textFile, StandardCharsets.UTF_8),
                            spec.data().seqLen(), pc.vocabSize(), textFile);
                    int held = Math.max(1, (int) Math.ceil(blocks.size() * spec.data().heldoutFraction()));
                    checkArgument(blocks.size() - held >= 1, "data.text: %s gives only %s blocks of %s tokens; "
                            + "use a longer text or a smaller data.seq_len", textFile, blocks.size(), spec.data().seqLen());
                    List<int[]> tr = blocks.subList(0, blocks.size() - held);
                    if (spec.data().maxBlocks() > 0 && tr.size() > spec.data().maxBlocks()) {
                        tr = tr.subList(0, spec.data().maxBlocks());
                    }
                    train = tr.stream().map(Example::lm).toList();
                    heldout = blocks.subList(blocks.size() - held, blocks.size()).stream().map(Example::lm).toList();
                    out.printf(Locale.ROOT, "compress: %s: %,d training blocks, %,d held-out blocks of %d tokens%n",
                            textFile, train.size(), heldout.size(), spec.data().seqLen());
                }
            }
            int batch = spec.distill().batchSize();
            List<int[]> calib = train.stream().map(Example::ids).toList();

            DerivedModel derived = null;
            if (spec.drop().method() != DropMethod.NONE) {
                derived = drop(spec.drop(), pc, tensors, parent, calib, batch, pad);
                out.printf(Locale.ROOT, "compress: kept layers %s of %d (%s)%n",
                        java.util.Arrays.toString(derived.derivation().layerMap()), pc.numLayers(),
                        derived.derivation().method());
            }
            if (spec.prune().saliency() != PruneSaliency.NONE) {
                ModelConfig c = derived == null ? pc : derived.config();
                Map<String, HostTensor> t = derived == null ? tensors : derived.tensors();
                DerivedModel pruned = prune(spec.prune(), c, t, calib, batch, pad, m);
                derived = derived == null ? pruned
                        : new DerivedModel(pruned.config(), pruned.tensors(),
                                derived.derivation().then(pruned.derivation()));
                out.printf(Locale.ROOT, "compress: FFN widths %s (parent %s)%n", SubModels.widths(derived.config()),
                        SubModels.widths(pc));
            }

            double flops = ModelCost.flopsPerToken(derived.config(), spec.data().seqLen())
                    / ModelCost.flopsPerToken(pc, spec.data().seqLen());
            double pPpl = Double.NaN;
            double uPpl = Double.NaN;
            double dPpl = Double.NaN;
            double first = Double.NaN;
            double last = Double.NaN;
            double seconds = 0;
            long heldTokens = 0;
            if (!heldout.isEmpty()) {
                pPpl = new Scorer(parent, null, batch, pad).perplexity(heldout);
                for (Example e : heldout) {
                    heldTokens += e.ids().length - 1;
                }
            }
            try (NDManager sm = m.newSubManager();
                    DecoderModel student = derived.toModel(sm, DataType.FLOAT32)) {
                if (!heldout.isEmpty()) {
                    uPpl = new Scorer(student, null, batch, pad).perplexity(heldout);
                }
                out.printf(Locale.ROOT, "compress: parameters %,d of %,d (%.1f%%), FLOPs/token %.1f%%%n",
                        derived.parameterCount(), parameterCount(tensors),
                        100.0 * derived.parameterCount() / parameterCount(tensors), 100 * flops);
                if (spec.distill().steps() > 0) {
                    double[] losses = distill(spec, parent, student, derived.derivation(), train, pad, sm, out);
                    first = losses[0];
                    last = losses[losses.length - 2];
                    seconds = losses[losses.length - 1]; // see distill(): wall time appended
                    dPpl = new Scorer(student, null, batch, pad).perplexity(heldout);
                    derived = new DerivedModel(derived.config(), student.exportTensors(), derived.derivation());
                }
            }
            if (!heldout.isEmpty()) {
                out.printf(Locale.ROOT, "compress: held-out perplexity (%,d tokens): parent %.2f, derived %.2f%s%n",
                        heldTokens, pPpl, uPpl, Double.isNaN(dPpl) ? "" : String.format(Locale.ROOT,
                                ", derived + distillation %.2f", dPpl));
            }
            Result r = new Result(outDir, derived.derivation(), parameterCount(tensors), derived.parameterCount(), flops,
                    pPpl, uPpl, dPpl, heldTokens, train.size(), first, last, seconds);
            write(outDir, derived, r, tokDir);
            out.printf("compress: wrote %s%n", outDir);
            return r;
        }
    }

    private static DerivedModel drop(CompressSpec.Drop d, ModelConfig c, Map<String, HostTensor> t, DecoderModel parent,
            List<int[]> calib, int batch, int pad) {
        checkArgument(d.keepLayers() <= c.numLayers(), "Cannot set drop.keep_layers to %s: the model has %s layers",
                d.keepLayers(), c.numLayers());
        if (d.method() == DropMethod.UNIFORM) {
            int middle = d.keepLayers() - d.bottom() - d.top();
            checkArgument(middle >= 0 && d.bottom() + d.top() <= c.numLayers(), "drop.bottom (%s) + drop.top (%s) must"
                    + " be at most drop.keep_layers (%s)", d.bottom(), d.top(), d.keepLayers());
            return SubModels.emulator(c, t, d.bottom(), middle, d.top());
        }
        Set<Integer> exempt = new HashSet<>(CompressSpec.layers(d.exemptLayers(), c.numLayers(), "drop.exempt_layers"));
        checkArgument(exempt.size() <= d.keepLayers(), "drop.exempt_layers lists %s layers but drop.keep_layers is %s",
                exempt.size(), d.keepLayers());
        Calibration cal = Calibration.measure(parent, calib, batch, pad);
        return SubModels.dropByBlockInfluence(c, t, cal.blockInfluence(), d.keepLayers(), exempt, cal.tokens());
    }

    private static DerivedModel prune(CompressSpec.Prune p, ModelConfig c, Map<String, HostTensor> t, List<int[]> calib,
            int batch, int pad, NDManager m) {
        Set<Integer> exempt = new HashSet<>(CompressSpec.layers(p.exemptLayers(), c.numLayers(), "prune.exempt_layers"));
        List<Integer> widths = SubModels.widths(c);
        checkArgument(widths.stream().distinct().count() == 1,
                "prune: the model's FFN widths differ per layer (%s); prune a model with uniform widths", widths);
        int k = Math.max(1, (int) Math.round(p.keepFraction() * widths.get(0)));
        if (p.saliency() == PruneSaliency.WEIGHT) {
            return SubModels.pruneBySaliency(c, t, k, exempt);
        }
        try (NDManager sub = m.newSubManager();
                DecoderModel model = DecoderModel.fromTensors(c, t, "calibration", sub, DataType.FLOAT32)) {
            Calibration cal = Calibration.measure(model, calib, batch, pad);
            return SubModels.pruneByActivation(c, t, k, exempt, cal.meanSquare(), cal.tokens());
        }
    }

    /** Returns the step losses followed by the wall time in seconds. */
    private static double[] distill(CompressSpec spec, DecoderModel teacher, DecoderModel student, Derivation d,
            List<Example> train, int pad, NDManager m, PrintStream out) {
        CompressSpec.Distill ds = spec.distill();
        boolean pruned = false;
        for (int j = 0; j < d.layerMap().length; j++) {
            pruned |= d.isPruned(j);
        }
        BlockLayout layout = DecoderLayouts.of(student.config());
        List<String> prefixes = new ArrayList<>();
        for (int j = 0; j < student.config().numLayers(); j++) {
            if (ds.train().equals("all") || !pruned || d.isPruned(j)) {
                prefixes.add(layout.layerPrefix(j) + (ds.train().equals("all") ? "" : "mlp."));
            }
        }
        long warm = Math.max(1, ds.steps() / 20);
        TrainConfig tc = TrainConfig.simple(ds.lr(), ds.batchSize(), spec.seed())
                .withSchedule(new LrSchedule(LrSchedule.Kind.COSINE, ds.lr(), warm, ds.steps(), 0.1))
                .withClipping(1.0);
        RepDistillConfig rc = new RepDistillConfig(ds.kdWeight(), ds.lmWeight(), 0, 1, tc);
        int every = Math.max(1, ds.steps() / 10);
        try (DenseTrainables trainables = new DenseTrainables(student, DenseTrainables.layers(prefixes));
                RepresentationDistiller rd = new RepresentationDistiller(teacher, null, student, trainables, null,
                        Alignment.fromDerivation(d, pruned), rc, pad, m)) {
            out.printf(Locale.ROOT, "compress: distilling %d steps, training %d tensors (%s), kd %.3g lm %.3g%n",
                    ds.steps(), trainables.names().size(), ds.train(), ds.kdWeight(), ds.lmWeight());
            RepresentationDistiller.Result r = rd.train(train, ds.steps(), (step, loss, tps) -> {
                if (step % every == 0 || step == ds.steps()) {
                    out.printf(Locale.ROOT, "compress: distill step %d/%d loss %.4f (%.0f tokens/s)%n", step,
                            ds.steps(), loss, tps);
                }
            });
            double[] losses = java.util.Arrays.copyOf(r.losses(), r.losses().length + 1);
            losses[r.losses().length] = r.seconds();
            return losses;
        }
    }

    /** Tokenises {@code text} once (BOS first) and cuts it into full blocks of {@code seqLen}. */
    static List<int[]> blocks(Tokenizer tok, String text, int seqLen, int vocab, Path file) {
        int[] ids = tok.encode(text, true, false);
        List<int[]> out = new ArrayList<>();
        for (int from = 0; from + seqLen <= ids.length; from += seqLen) {
            out.add(java.util.Arrays.copyOfRange(ids, from, from + seqLen));
        }
        for (int id : ids) {
            checkArgument(id < vocab, "data.text: the tokenizer gives id %s but the model has %s token ids; give the"
                    + " model's own tokenizer (key tokenizer)", id, vocab);
        }
        checkArgument(out.size() >= 2, "data.text: %s gives %s tokens, fewer than two blocks of data.seq_len=%s",
                file, ids.length, seqLen);
        return out;
    }

    static Path tokenizerDir(CompressSpec spec, Path modelDir) {
        if (!spec.tokenizer().isBlank()) {
            Path t = path(spec.tokenizer());
            checkArgument(Files.isRegularFile(t.resolve("tokenizer.json")), "tokenizer: no tokenizer.json in %s", t);
            return t;
        }
        if (Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
            return modelDir;
        }
        Path sibling = modelDir.toAbsolutePath().getParent() == null ? null
                : modelDir.toAbsolutePath().getParent().resolve("tokenizer");
        checkArgument(sibling != null && Files.isRegularFile(sibling.resolve("tokenizer.json")),
                "tokenizer: no tokenizer.json in %s or %s; set the key tokenizer to the model's tokenizer directory",
                modelDir, sibling);
        return sibling;
    }

    /** A path from the configuration; a leading {@code ~/} is the user's home directory. */
    static Path path(String s) {
        return s.startsWith("~/") ? Path.of(System.getProperty("user.home"), s.substring(2)) : Path.of(s);
    }

    static void checkOutput(Path outDir, boolean overwrite) throws IOException {
        if (!Files.exists(outDir)) {
            return;
        }
        checkArgument(Files.isDirectory(outDir), "output: %s exists and is not a directory", outDir);
        List<String> foreign = new ArrayList<>();
        boolean ours = false;
        try (Stream<Path> s = Files.list(outDir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (OWN_FILES.contains(n) || n.matches("model-\\d+-of-\\d+\\.safetensors")) {
                    ours = true;
                } else {
                    foreign.add(n);
                }
            }
        }
        checkArgument(foreign.isEmpty(), "output: %s holds files compress did not write (%s); choose an empty or new"
                + " directory", outDir, String.join(", ", foreign.subList(0, Math.min(5, foreign.size()))));
        checkArgument(!ours || overwrite, "output: %s already holds a model; set overwrite=true to replace it", outDir);
    }

    private static void write(Path outDir, DerivedModel derived, Result r, Path tokDir) throws IOException {
        Files.createDirectories(outDir);
        try (Stream<Path> s = Files.list(outDir)) {
            for (Path p : s.toList()) {
                Files.delete(p); // only our own files remain after checkOutput
            }
        }
        DirectoryModelSink sink = new DirectoryModelSink(outDir);
        derived.save(sink);
        JsonFiles.write(sink, "compress.json", r.toJson());
        if (tokDir != null) {
            for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
                if (Files.isRegularFile(tokDir.resolve(f))) {
                    Files.copy(tokDir.resolve(f), outDir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static long parameterCount(Map<String, HostTensor> t) {
        long n = 0;
        for (HostTensor h : t.values()) {
            n += h.values().length;
        }
        return n;
    }
}
