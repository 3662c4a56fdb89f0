package dev.understudy.job.method;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.job.config.DataConfig;
import dev.understudy.job.data.ServerData;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.engine.EvalFunction;
import dev.understudy.job.engine.ExecutorModelCache;
import dev.understudy.job.engine.FederatedMethod;
import dev.understudy.job.engine.MethodContext;
import dev.understudy.job.engine.RoundCheckpoint;
import dev.understudy.job.engine.RoundEngine;
import dev.understudy.job.engine.ServerModel;
import dev.understudy.ops.distill.DistillConfig;
import dev.understudy.ops.distill.Distiller;
import dev.understudy.ops.infer.ModelLogitSource;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.pretrain.ModelFamily;
import dev.understudy.ops.tokenizer.Tokenizer;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.LrSchedule;
import dev.understudy.ops.train.TrainConfig;
import dev.understudy.ops.train.Trainer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * FedPT, federated proxy-tuning (Gao, Zhang, Zhang, Gong, Guo 2024, arXiv 2410.00362; methods.md
 * §1): the clients LoRA-tune the small model only ({@code model.base}); after each FedAvg the
 * server builds the proxy-tuned large model {@code z_large + α (z_small+θ̄_agg − z_small)} (the
 * large model is used through its logits only) and distils it back into the small model's LoRA on
 * its own public distillation set ({@code method_params.kd_data}), which becomes the next round's
 * global adapter (step 5). The anti-expert is always the original small base.
 *
 * <p>Choices where the paper is silent (methods.md §1(f)): forward KL at temperature T scaled by
 * T², optionally mixed with CE on the reference responses; AdamW at {@code kd_lr} (default the
 * client lr), constant, a fresh optimiser every round (seeded by (seed, round), so a resumed run is
 * bit-identical); the teacher forward runs on the driver batch by batch (the large model must fit
 * the driver; a Spark-stage teacher is future work). Evaluation on evaluation rounds reports the
 * proxy-tuned large model on every client's held-out rows as a Spark job ({@code proxy_*} metrics)
 * next to the small model's.
 */
public final class FedPt implements FederatedMethod {
    public static final String NAME = "fedpt";

    private final String smallUri;
    private final FedPtConfig params;
    private final DataConfig data;
    private final double clientLr;
    private final double maxGradNorm;
    private NDManager manager;
    private DecoderModel large;
    private List<Example> kd;
    private Map<String, Double> last = Map.of();
    /**
     * With {@code expert: client_updates}: Σ over past rounds of (θ̄_agg − θ̄_distilled), so that the
     * expert is θ̄_agg + offset = the initial adapter + the sum of the aggregated client updates.
     */
    private float[] expertOffset;

    /** Name of the expert offset in the committed method state. */
    public static final String EXPERT_OFFSET = "expert_offset";

    public FedPt(String smallUri, FedPtConfig params, DataConfig data, double clientLr, double maxGradNorm) {
        this.smallUri = smallUri;
        this.params = params;
        this.data = data;
        this.clientLr = clientLr;
        this.maxGradNorm = maxGradNorm;
    }

    public FedPtConfig params() {
        return params;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String clientModelUri() {
        return smallUri;
    }

    @Override
    public String serverModelUri() {
        return params.large();
    }

    @Override
    public void beforeFederation(MethodContext ctx) throws IOException {
        ensureLoaded(ctx);
        ctx.store().writeString("method/proxy.json", descriptor(null).toString());
    }

    private void ensureLoaded(MethodContext ctx) throws IOException {
        if (large != null) {
            return;
        }
        manager = NDManager.newBaseManager("PyTorch");
        large = HfModels.load(ExecutorModelCache.localDir(params.large(), ctx.spark().hadoopConfiguration()), manager,
                DataType.FLOAT32);
        int smallVocab = ctx.clientModel().config().vocabSize();
        if (large.config().vocabSize() > smallVocab) {
            throw new IllegalArgumentException("method_params.large " + params.large() + " has a vocabulary of "
                    + large.config().vocabSize() + " tokens but the client model " + smallUri + " has " + smallVocab
                    + "; proxy-tuning needs models that share one tokenizer (the small model's vocabulary may only be"
                    + " larger)");
        }
        if (params.distill()) {
            try (Tokenizer tok = Tokenizer.load(ExecutorModelCache.localDir(smallUri, ctx.spark().hadoopConfiguration()))) {
                ctx.spark().setJobGroup("understudy-method", "fedpt: read the distillation set", false);
                ServerData.Loaded l = ServerData.load(ctx.session(), data, params.kdData(), "method_params.kd_data", tok,
                        params.kdMaxExamples());
                kd = l.examples();
                System.out.printf(Locale.ROOT, "fedpt: distillation set %s: %d examples, skipped %s, %d truncated%n",
                        params.kdData(), kd.size(), l.skipped(), l.truncated());
            }
        }
    }

    @Override
    public float[] afterAggregation(MethodContext ctx, int round, float[] aggregated) throws IOException {
        if (!params.distill()) {
            last = Map.of();
            return aggregated;
        }
        ensureLoaded(ctx);
        long t0 = System.nanoTime();
        DecoderModel small = ctx.clientModel();
        float[] expertVector = expert(aggregated, expertOffset);
        try (NDManager m = small.manager().newSubManager();
                LoraAdapter student = LoraAdapter.create(small, ctx.settings().lora(), 0, m);
                LoraAdapter expert = expertVector == aggregated ? null
                        : LoraAdapter.create(small, ctx.settings().lora(), 0, m)) {
            student.load(AdapterVectors.unflatten(ctx.layout(), aggregated));
            if (expert != null) {
                expert.load(AdapterVectors.unflatten(ctx.layout(), expertVector));
            }
            double lr = params.kdLr() > 0 ? params.kdLr() : clientLr;
            TrainConfig train = new TrainConfig(LrSchedule.constant(lr), 0.0, 0.9, 0.999, 1e-8, maxGradNorm,
                    params.kdBatchSize(), 1, Trainer.mix(ctx.seed() ^ 0x4B44L, round));
            DistillConfig dc = new DistillConfig(params.alpha(), params.temperature(), params.ceWeight(), params.kdSteps(),
                    Math.min(64, kd.size()), train);
            try (Distiller d = new Distiller(new ModelLogitSource(large, null, ctx.settings().padId()), small, student,
                    expert, dc, ctx.settings().padId(), m)) {
                Distiller.DistillResult r = d.distill(kd);
                Map<String, Double> metrics = new LinkedHashMap<>();
                metrics.put("kd_kl_before", r.klBefore());
                metrics.put("kd_kl_after", r.klAfter());
                metrics.put("kd_seconds", (System.nanoTime() - t0) / 1e9);
                last = metrics;
            }
            float[] distilled = AdapterVectors.flatten(student.exportTensors());
            if (params.expert() == FedPtConfig.Expert.CLIENT_UPDATES) {
                expertOffset = nextExpertOffset(expertOffset, aggregated, distilled);
            }
            return distilled;
        }
    }

    /**
     * The proxy's expert for a global adapter: {@code global + offset} ({@code expert:
     * client_updates}), or {@code global} itself (returned as the same array) when there is no
     * offset.
     */
    public static float[] expert(float[] global, float[] offset) {
        if (offset == null) {
            return global;
        }
        if (offset.length != global.length) {
            throw new IllegalStateException("FedPT expert offset has " + offset.length + " values but the adapter has "
                    + global.length + "; the run's method state does not belong to this adapter layout");
        }
        float[] e = new float[global.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = global[i] + offset[i];
        }
        return e;
    }

    /**
     * offset' = offset + (θ̄_agg − θ̄_distilled): the displacement the distillation made is taken
     * back out of the expert, so {@code expert(distilled, offset') = expert(aggregated, offset)} (up
     * to float rounding).
     */
    static float[] nextExpertOffset(float[] offset, float[] aggregated, float[] distilled) {
        float[] o = new float[aggregated.length];
        for (int i = 0; i < o.length; i++) {
            o[i] = (offset == null ? 0f : offset[i]) + (aggregated[i] - distilled[i]);
        }
        return o;
    }

    /** The proxy-tuned large model whose expert is {@code expert} on the small model {@code smallUri}. */
    ServerModel.ProxyTuned serverModel(String smallUri, Map<String, long[]> layout, float[] expert) {
        return new ServerModel.ProxyTuned(params.large(), smallUri, layout, expert, params.alpha());
    }

    /**
     * The proxy-tuned large model of {@code method/proxy.json}: large base + α × (small with the
     * expert adapter − small base), the expert being the round's adapter plus the restored offset.
     */
    @Override
    public ServerModel serverModel(ServerModel.Adapted client) {
        if (client.adapter() == null) {
            return client;
        }
        return serverModel(client.modelUri(), client.layout(), expertFor(client.adapter()));
    }

    /** The expert adapter of the proxy for the committed global adapter {@code global}. */
    public float[] expertFor(float[] global) {
        return expert(global, expertOffset);
    }

    @Override
    public Map<String, float[]> state() {
        return expertOffset == null ? Map.of() : Map.of(EXPERT_OFFSET, expertOffset.clone());
    }

    @Override
    public void restoreState(Map<String, float[]> state) {
        float[] o = state.get(EXPERT_OFFSET);
        expertOffset = o == null ? null : o.clone();
    }

    @Override
    public Map<String, Double> roundMetrics() {
        return last;
    }

    @Override
    public Map<String, Double> evaluateServer(MethodContext ctx, int round, float[] global) {
        List<EvalFunction.ClientEval> evals = ctx.evaluateOnClients(serverModel(ctx.settings().modelUri(), ctx.layout(),
                expertFor(global)), round, "round " + round + ": proxy-tuned large model evaluation");
        RoundEngine.Evaluation e = RoundEngine.summarise(evals);
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("proxy_eval_loss", e.loss());
        if (!Double.isNaN(e.accuracy())) {
            out.put("proxy_accuracy", e.accuracy());
        }
        return out;
    }

    @Override
    public void finish(MethodContext ctx, float[] global) throws IOException {
        String family = familyManifest(smallUri, params.large(), ctx.spark().hadoopConfiguration());
        if (family != null) {
            ctx.store().writeString(FAMILY_ARTIFACT, family);
        }
        String expert = "adapter";
        if (expertOffset != null) {
            expert = "method/expert";
            RoundCheckpoint.writePeft(ctx.store().sink(expert), ctx.clientModel(), ctx.settings(), expertFor(global),
                    ctx.layout());
        }
        JsonObject d = descriptor(expert);
        d.addProperty("family", family == null ? null : FAMILY_ARTIFACT);
        ctx.store().writeString("method/proxy.json", d.toString());
    }

    /** Where a finished run keeps the model family's manifest (when the two models come from one family). */
    public static final String FAMILY_ARTIFACT = "method/family.json";

    /**
     * The {@code family.json} of the model family both models belong to ({@code understudy pretrain}
     * writes the members as sub-directories of the family directory), or null when the two models
     * are not members of one family directory.
     */
    static String familyManifest(String smallUri, String largeUri, Configuration conf) throws IOException {
        Path small = new Path(stripSlash(smallUri));
        Path large = new Path(stripSlash(largeUri));
        Path dir = small.getParent();
        if (dir == null || !dir.equals(large.getParent())) {
            return null;
        }
        Path manifest = new Path(dir, ModelFamily.FILE);
        FileSystem fs = manifest.getFileSystem(conf);
        if (!fs.exists(manifest)) {
            return null;
        }
        String text;
        try (InputStream in = fs.open(manifest)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        JsonObject o;
        try {
            o = JsonParser.parseString(text).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IOException(manifest + " is not a JSON model-family manifest: " + e.getMessage(), e);
        }
        List<String> dirs = new ArrayList<>();
        if (o.has("members") && o.get("members").isJsonArray()) {
            o.getAsJsonArray("members").forEach(m -> {
                if (m.isJsonObject() && m.getAsJsonObject().has("dir")) {
                    dirs.add(m.getAsJsonObject().get("dir").getAsString());
                }
            });
        }
        return dirs.contains(small.getName()) && dirs.contains(large.getName()) ? text : null;
    }

    private static String stripSlash(String uri) {
        return uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
    }

    /**
     * The {@code proxy} descriptor: how evaluate/generate combine the models (large base + α × (small
     * tuned − small base)).
     */
    JsonObject descriptor(String adapter) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "proxy_tuning");
        o.addProperty("method", NAME);
        o.addProperty("large", params.large());
        o.addProperty("small", smallUri);
        o.addProperty("anti_expert", smallUri);
        if (adapter != null) {
            o.addProperty("expert_adapter", adapter);
        }
        o.addProperty("alpha", params.alpha());
        o.addProperty("expert", params.expert().key());
        return o;
    }

    @Override
    public void close() {
        if (large != null) {
            large.close();
            manager.close();
            large = null;
        }
    }
}
