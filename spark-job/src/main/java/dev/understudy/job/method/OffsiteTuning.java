package dev.understudy.job.method;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import dev.understudy.job.config.DataConfig;
import dev.understudy.job.data.ServerData;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.engine.ClientModel;
import dev.understudy.job.engine.EvalFunction;
import dev.understudy.job.engine.ExecutorModelCache;
import dev.understudy.job.engine.FederatedMethod;
import dev.understudy.job.engine.MethodContext;
import dev.understudy.job.engine.RoundEngine;
import dev.understudy.job.engine.ServerModel;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.ops.distill.RepDistillConfig;
import dev.understudy.ops.distill.RepresentationDistiller;
import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.lora.LoraMerge;
import dev.understudy.ops.lora.PeftAdapters;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.surgery.DerivedModel;
import dev.understudy.ops.surgery.Derivation;
import dev.understudy.ops.surgery.OffsiteEmulator;
import dev.understudy.ops.tokenizer.Tokenizer;
import dev.understudy.ops.train.DenseTrainables;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.LrSchedule;
import dev.understudy.ops.train.TrainConfig;
import dev.understudy.ops.train.Trainer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * FedOT: federated Offsite-Tuning (Xiao, Lin, Han 2023, arXiv 2302.04870; methods.md §4(a)–(b)).
 * Before round 1 the server builds the emulator {@code l-k-r} of the full model ({@code
 * model.base}): the bottom {@code l} and top {@code r} layers unchanged (the adapter), the middle
 * compressed to {@code k} layers by uniform stride, optionally distilled on the server's public
 * corpus ({@code w_lm·CE + w_kd·ℓ_nmse(M(h), E(h))}, OT's 1 and 30). It is written to {@code
 * method/emulator/v1} with its provenance ({@code derivation.json}); the full model's middle never
 * leaves the server. Clients train LoRA on the adapter layers' {@code lora.target_modules} only,
 * the emulator frozen; the server FedAvgs the adapter weights ({@code server.strategy}).
 *
 * <p>Evaluation rounds report both models OT compares: the engine's evaluation is the
 * <b>emulator alone</b> with the adapter ({@code eval_loss}, {@code accuracy}); {@code plugin_*}
 * is the <b>plug-in</b> {@code A_b ∘ M ∘ A_t}: the adapter renumbered onto the full model's
 * adapter layers and merged into its weights ({@code method/plugin-eval/round-N}, scored on the
 * clients' held-out rows). After the last round {@code method/plugin} is the merged full model and
 * {@code method/plugin_adapter} the same adapter as a PEFT directory of the full model.
 *
 * <p>{@link FedBiOt} adds the per-round server alignment of the emulator.
 */
public class OffsiteTuning implements FederatedMethod {
    public static final String FEDOT = "fedot";

    protected final String fullUri;
    protected final OffsiteConfig params;
    protected final OffsiteEmulator emulator;
    protected final DataConfig data;
    private Map<String, Double> last = Map.of();
    protected NDManager manager;
    protected DecoderModel full;
    protected Derivation derivation;
    protected List<Example> publicData;

    public OffsiteTuning(String fullUri, OffsiteConfig params, DataConfig data) {
        this.fullUri = fullUri;
        this.params = params;
        this.emulator = params.emulator();
        this.data = data;
    }

    @Override
    public String name() {
        return FEDOT;
    }

    @Override
    public String clientModelUri() {
        return fullUri;
    }

    /** Run-relative directory of emulator version {@code v}. */
    static String emulatorDir(int version) {
        return "method/emulator/v" + version;
    }

    protected static String uri(MethodContext ctx, String rel) {
        return ctx.store().base() + "/" + rel;
    }

    @Override
    public void beforeFederation(MethodContext ctx) throws IOException {
        // ctx.clientModel() is the configured full model here
        emulator.validate(ctx.clientModel().config(), ctx.settings().lora(), OffsiteConfig.EMULATOR_KEYS);
        full = ctx.clientModel(); // the engine's driver copy; on resume (no beforeFederation) ensureFull loads it
        DerivedModel d = emulator.build(full.config(), full.exportTensors());
        derivation = d.derivation();
        Map<String, Double> metrics = new LinkedHashMap<>();
        if (params.distill()) {
            d = distil(ctx, d, metrics);
        }
        save(ctx, d, emulatorDir(1));
        System.out.printf(Locale.ROOT, "%s: emulator %s of %d layers (parent layers %s), %,d of %,d weights%s%n",
                name(), emulator.notation(), full.config().numLayers(),
                java.util.Arrays.toString(d.derivation().layerMap()), d.parameterCount(), params(full),
                metrics.isEmpty() ? "" : ", distillation " + metrics);
        last = metrics;
    }

    private static long params(DecoderModel m) {
        long n = 0;
        for (HostTensor t : m.exportTensors().values()) {
            n += t.values().length;
        }
        return n;
    }

    protected static org.apache.hadoop.conf.Configuration conf(MethodContext ctx) {
        return ctx.spark().hadoopConfiguration();
    }

    /** The server's public corpus (kd_data), tokenised with the full model's tokenizer; loaded once. */
    protected List<Example> publicData(MethodContext ctx) throws IOException {
        if (publicData == null) {
            try (Tokenizer tok = Tokenizer.load(ExecutorModelCache.localDir(fullUri, conf(ctx)))) {
                ctx.spark().setJobGroup("understudy-method", name() + ": read the public corpus", false);
                ServerData.Loaded l = ServerData.load(ctx.session(), data, params.kdData(), "method_params.kd_data", tok,
                        params.kdMaxExamples());
                publicData = l.examples();
                System.out.printf(Locale.ROOT, "%s: public corpus %s: %d examples, skipped %s, %d truncated%n", name(),
                        params.kdData(), publicData.size(), l.skipped(), l.truncated());
            }
        }
        return publicData;
    }

    /** OT's one-off emulator distillation: the middle layers trained, the adapter layers frozen. */
    private DerivedModel distil(MethodContext ctx, DerivedModel d, Map<String, Double> metrics) throws IOException {
        List<Example> kd = publicData(ctx);
        TrainConfig train = new TrainConfig(LrSchedule.constant(params.kdLr()), 0.0, 0.9, 0.999, 1e-8, 1.0,
                params.kdBatchSize(), 1, Trainer.mix(ctx.seed() ^ 0x4F54L, 0));
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel student = d.toModel(m, DataType.FLOAT32);
                DenseTrainables trainables = new DenseTrainables(student,
                        DenseTrainables.layers(emulator.middlePrefixes(d.config())));
                RepresentationDistiller dist = new RepresentationDistiller(full, null, student, trainables, null,
                        emulator.alignment(d.derivation()), RepDistillConfig.offsiteTuning(train), ctx.settings().padId(),
                        m)) {
            double before = dist.evaluate(kd).nmse();
            dist.train(kd, params.kdSteps(), null);
            metrics.put("emulator_nmse_before", before);
            metrics.put("emulator_nmse_after", dist.evaluate(kd).nmse());
            return new DerivedModel(d.config(), student.exportTensors(), d.derivation());
        }
    }

    /** Writes an emulator version (weights, config, derivation.json, the full model's tokenizer files). */
    protected void save(MethodContext ctx, DerivedModel d, String rel) throws IOException {
        ModelSink sink = ctx.store().sink(rel);
        Path fullDir = ExecutorModelCache.localDir(fullUri, conf(ctx));
        for (String f : LoraMerge.COPIED_FILES) {
            Path p = fullDir.resolve(f);
            if (Files.exists(p)) {
                try (OutputStream out = sink.create(f)) {
                    Files.copy(p, out);
                }
            }
        }
        d.save(sink); // derivation.json last: its presence marks a complete emulator
    }

    @Override
    public ClientModel clientModel(MethodContext ctx) {
        return new ClientModel(uri(ctx, emulatorDir(1)), 1);
    }

    /** On an emulator: LoRA on the adapter layers' target modules only (the middle stays frozen). */
    @Override
    public TrainSettings clientSettings(ClientModel model, DecoderModel loaded, TrainSettings configured) {
        TrainSettings s = configured.withModelUri(model.uri());
        return model.version() == 0 ? s : s.withLoraTargets(emulatorLora(loaded.config(), configured.lora()).targetModules());
    }

    protected LoraConfig emulatorLora(ModelConfig emulatorConfig, LoraConfig configured) {
        return emulator.adapterLora(emulatorConfig, configured);
    }

    /** The plug-in adapter of the full model for the global emulator adapter: factors and config. */
    protected record Plugged(LoraConfig lora, Map<String, HostTensor> factors) {}

    protected Plugged plugIn(MethodContext ctx, float[] global) {
        LoraConfig emuLora = ctx.settings().lora();
        Map<String, HostTensor> factors = AdapterVectors.unflatten(ctx.layout(), global);
        return new Plugged(emulator.parentLora(derivation, full.config(), emuLora),
                emulator.plugIn(derivation, full.config(), emuLora, factors));
    }

    /** Writes the plug-in {@code A_b ∘ M ∘ A_t} merged into the full model's weights. */
    protected void writePlugIn(MethodContext ctx, float[] global, String rel) throws IOException {
        Plugged p = plugIn(ctx, global);
        LoraMerge.export(new DirectoryModelSource(ExecutorModelCache.localDir(fullUri, conf(ctx))), p.lora(), p.factors(),
                ctx.store().sink(rel));
    }

    @Override
    public Map<String, Double> evaluateServer(MethodContext ctx, int round, float[] global) throws IOException {
        ensureFull(ctx);
        String rel = "method/plugin-eval/round-" + round;
        writePlugIn(ctx, global, rel);
        List<EvalFunction.ClientEval> evals = ctx.evaluateOnClients(new ServerModel.Adapted(uri(ctx, rel), Map.of(), null),
                round, "round " + round + ": plug-in (adapter in the full model) evaluation");
        RoundEngine.Evaluation e = RoundEngine.summarise(evals);
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("plugin_eval_loss", e.loss());
        if (!Double.isNaN(e.accuracy())) {
            out.put("plugin_accuracy", e.accuracy());
        }
        return out;
    }

    @Override
    public Map<String, Double> roundMetrics() {
        Map<String, Double> m = last;
        last = Map.of();
        return m;
    }

    protected void setRoundMetrics(Map<String, Double> m) {
        last = m;
    }

    @Override
    public void finish(MethodContext ctx, float[] global) throws IOException {
        ensureFull(ctx);
        writePlugIn(ctx, global, "method/plugin");
        Plugged p = plugIn(ctx, global);
        try (NDManager m = full.manager().newSubManager();
                LoraAdapter a = LoraAdapter.create(full, p.lora(), 0, m)) {
            a.load(p.factors());
            PeftAdapters.save(a, full.config(), ctx.store().sink("method/plugin_adapter"), fullUri);
        }
        JsonObject o = new JsonObject();
        o.addProperty("type", "offsite_tuning");
        o.addProperty("method", name());
        o.addProperty("full", fullUri);
        o.addProperty("emulator", emulator.notation());
        o.addProperty("emulator_dir", emulatorDir(ctx.clientModelVersion().version()));
        o.addProperty("plugin_model", "method/plugin");
        o.addProperty("plugin_adapter", "method/plugin_adapter");
        o.addProperty("emulator_adapter", "adapter");
        ctx.store().writeString("method/offsite.json", o.toString());
    }

    /** After a resume the full model and the derivation are reloaded (finish runs with the last client model). */
    protected void ensureFull(MethodContext ctx) throws IOException {
        if (full != null && derivation != null) {
            return;
        }
        manager = NDManager.newBaseManager("PyTorch");
        full = HfModels.load(ExecutorModelCache.localDir(fullUri, conf(ctx)), manager, DataType.FLOAT32);
        derivation = DerivedModel.readDerivation(
                new DirectoryModelSource(ExecutorModelCache.localDir(uri(ctx, emulatorDir(1)), conf(ctx))));
    }

    @Override
    public void close() {
        if (manager != null) {
            full.close();
            manager.close();
            manager = null;
        }
        full = null;
    }
}
