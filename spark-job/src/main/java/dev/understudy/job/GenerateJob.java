package dev.understudy.job;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.config.DataConfig;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.engine.ExecutorModelCache;
import dev.understudy.job.engine.FederatedMethod;
import dev.understudy.job.engine.RoundEngine;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.job.method.FedPt;
import dev.understudy.job.method.Methods;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.infer.Generator;
import dev.understudy.ops.infer.LogitSource;
import dev.understudy.ops.infer.ModelLogitSource;
import dev.understudy.ops.infer.ProxyLogitSource;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * {@code understudy generate}: continues prompts with a run's model on the driver. For a FedPT run
 * the model is the proxy-tuned large model its {@code method/proxy.json} describes (large base + α ×
 * (small with the round's expert adapter − small base), three KV caches); otherwise, or with
 * {@code smallOnly}, the client model with the round's adapter; with {@code base}, the bare client
 * model. Prompts are formatted as the run's data are: {@code data.template} for classification rows,
 * as given for instruction rows, then {@code [BOS] prompt} (left-truncated to {@code
 * data.max_length}).
 */
public final class GenerateJob {
    private GenerateJob() {}

    /**
     * @param round committed round (null = the last)
     * @param base the bare client model, no adapter (needs no committed round)
     * @param smallOnly for a FedPT run, the small model with its adapter instead of the proxy
     * @param temperature 0 = greedy
     */
    public record Options(List<String> prompts, Integer round, boolean base, boolean smallOnly, int maxNewTokens,
            double temperature, double topP, long seed) {
        public Options {
            if (prompts == null || prompts.isEmpty()) {
                throw new IllegalArgumentException("generate needs at least one --prompt TEXT");
            }
            prompts = List.copyOf(prompts);
            new Generator.Config(maxNewTokens, temperature, topP, -1, seed); // validates, naming the setting
        }
    }

    /** One continuation: the prompt as given, the text generated (special tokens dropped), the token ids. */
    public record Generation(String prompt, String text, List<Integer> ids) {
        public int tokens() {
            return ids.size();
        }
    }

    /** @param model what generated, e.g. {@code round-3 proxy-tuned large (α=1.0)} */
    public record Result(String model, List<Generation> generations) {}

    public static Result generate(Configuration hadoop, JobConfig given, Options o) throws IOException {
        RunStore store = new RunStore(URI.create(given.output().dir()), hadoop);
        JobConfig cfg = EvaluateJob.committedConfig(store, given);
        FederatedMethod method = Methods.create(cfg);
        String what = "base";
        byte[] globalBytes = null;
        Map<String, float[]> state = Map.of();
        if (!o.base()) {
            RunStore.CommittedRound cr = store.readRoundOrLast(o.round(), "run the job first, or pass --base");
            what = "round-" + cr.round();
            state = RoundEngine.readState(cr, "method_state.safetensors");
            globalBytes = cr.files().get("global.safetensors");
        }
        Path smallDir = ExecutorModelCache.localDir(method.clientModelUri(), hadoop);
        FedPt fedpt = method instanceof FedPt f && !o.base() && !o.smallOnly() ? f : null;
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                Tokenizer tok = Tokenizer.load(smallDir);
                DecoderModel small = HfModels.load(smallDir, m, DataType.FLOAT32)) {
            TrainSettings settings = FederatedJob.settings(cfg, method.clientModelUri(), tok.padIdOrEos(), 1, 0,
                    HadoopConf.of(hadoop));
            List<int[]> ids = new ArrayList<>();
            for (String p : o.prompts()) {
                ids.add(tok.encodePromptResponse(format(cfg.data(), p), "", cfg.data().maxLength(), tok.addBosByDefault(), false).ids());
            }
            int eos = tok.eosId().orElse(-1);
            Generator.Config gc = new Generator.Config(o.maxNewTokens(), o.temperature(), o.topP(), eos, o.seed());
            List<int[]> outs;
            try (LoraAdapter adapter = LoraAdapter.create(small, settings.lora(), 0, m)) {
                if (globalBytes != null) {
                    Map<String, long[]> layout = AdapterVectors.layoutOf(adapter.exportTensors());
                    float[] vec = RoundEngine.readVector(globalBytes, layout);
                    if (fedpt != null) {
                        vec = FedPt.expert(vec, state.get(FedPt.EXPERT_OFFSET));
                    }
                    adapter.load(AdapterVectors.unflatten(layout, vec));
                }
                if (fedpt != null) {
                    Path largeDir = ExecutorModelCache.localDir(fedpt.params().large(), hadoop);
                    try (NDManager lm = NDManager.newBaseManager("PyTorch");
                            DecoderModel large = HfModels.load(largeDir, lm, DataType.FLOAT32)) {
                        LogitSource proxy = ProxyLogitSource.of(new ModelLogitSource(large, null, settings.padId()), small,
                                adapter, fedpt.params().alpha(), settings.padId());
                        outs = Generator.generate(proxy, ids, gc);
                    }
                    what += String.format(Locale.ROOT, " proxy-tuned large (α=%s)", fedpt.params().alpha());
                } else {
                    LogitSource source = new ModelLogitSource(small, globalBytes == null ? null : adapter, settings.padId());
                    outs = Generator.generate(source, ids, gc);
                    what += " " + (globalBytes == null ? "base model" : "adapter") + " on " + method.clientModelUri();
                }
            }
            List<Generation> gens = new ArrayList<>();
            for (int i = 0; i < outs.size(); i++) {
                gens.add(new Generation(o.prompts().get(i), tok.decode(outs.get(i), true),
                        Arrays.stream(outs.get(i)).boxed().toList()));
            }
            return new Result(what, gens);
        }
    }

    /** The prompt as the run's data format it: the classification template, or the instruction as given. */
    static String format(DataConfig d, String prompt) {
        return d.kind() == DataConfig.Kind.CLASSIFICATION ? d.template().replace(DataConfig.TEXT_PLACEHOLDER, prompt) : prompt;
    }

    static String text(Result r) {
        StringBuilder b = new StringBuilder("model: " + r.model() + "\n");
        for (Generation g : r.generations()) {
            b.append("\n> ").append(g.prompt()).append('\n').append(g.text()).append('\n');
        }
        return b.toString();
    }
}
