package dev.understudy.job.engine;

import ai.djl.ndarray.NDManager;
import dev.understudy.ops.infer.Generator;
import dev.understudy.ops.infer.LogitSource;
import dev.understudy.ops.infer.ModelLogitSource;
import dev.understudy.ops.infer.ProxyLogitSource;
import dev.understudy.ops.infer.RougeL;
import dev.understudy.ops.infer.Scorer;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * Per-client evaluation of instruction data by generation, on the executors: for every held-out
 * example, greedy decoding from its prompt (at most {@code maxNewTokens}, stopping at EOS), scored
 * against the example's reference response with ROUGE-L ({@link RougeL}, F1 over words), plus the
 * teacher-forced response loss (perplexity) as {@link EvalFunction} computes it.
 *
 * <p>The model is {@code settings.modelUri()} with the broadcast adapter (or bare when it is null),
 * or, with {@code largeUri} set, the proxy-tuned large model {@code z_large + α (z_small+θ −
 * z_small)} ({@link ProxyLogitSource}: three KV caches, one per model) with {@code
 * settings.modelUri()} as the small model. Each executor loads its models once
 * ({@link ExecutorModelCache}); the tokenizer decodes with special tokens dropped.
 */
public final class GenerationEvalFunction
        implements FlatMapFunction<Iterator<Tuple2<String, ClientData>>, GenerationEvalFunction.ClientGeneration> {
    private static final long serialVersionUID = 1L;

    /** Generations kept per client for the report. */
    static final int SAMPLES_PER_CLIENT = 2;

    private final Broadcast<float[]> adapter;
    private final Map<String, long[]> layout;
    private final TrainSettings settings;
    private final String largeUri;
    private final double alpha;
    private final int maxNewTokens;

    /**
     * @param adapter the adapter of {@code settings.modelUri()} (the expert, for a proxy), or null
     * @param largeUri the large model of a proxy, or null to evaluate {@code settings.modelUri()} itself
     * @param alpha proxy strength (ignored without {@code largeUri})
     */
    public GenerationEvalFunction(Broadcast<float[]> adapter, Map<String, long[]> layout, TrainSettings settings,
            String largeUri, double alpha, int maxNewTokens) {
        if (largeUri != null && adapter == null) {
            throw new IllegalArgumentException("a proxy-tuned model needs the small model's tuned adapter");
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be ≥ 1, got " + maxNewTokens);
        }
        this.adapter = adapter;
        this.layout = layout;
        this.settings = settings;
        this.largeUri = largeUri;
        this.alpha = alpha;
        this.maxNewTokens = maxNewTokens;
    }

    /** A prompt, its reference response and what the model generated (decoded text). */
    public record Sample(String prompt, String reference, String generated) implements Serializable {}

    /**
     * One client's figures.
     *
     * @param rougeSum sum of the examples' ROUGE-L F1
     * @param nll summed response negative log-likelihood (nats), over {@code tokens} tokens
     * @param generatedTokens tokens generated in total (EOS included)
     */
    public record ClientGeneration(String clientId, long examples, double rougeSum, double nll, long tokens,
            long generatedTokens, List<Sample> samples) implements Serializable {}

    @Override
    public Iterator<ClientGeneration> call(Iterator<Tuple2<String, ClientData>> clients) {
        List<ClientGeneration> out = new ArrayList<>();
        NDManager m = null;
        LoraAdapter lora = null;
        try {
            LogitSource source = null;
            Scorer scorer = null;
            Tokenizer tok = null;
            while (clients.hasNext()) {
                ClientData data = clients.next()._2();
                if (data.eval().isEmpty()) {
                    continue;
                }
                if (source == null) {
                    DecoderModel model = ExecutorModelCache.get(settings.modelUri(), settings.hadoop());
                    tok = ExecutorModelCache.tokenizer(settings.modelUri(), settings.hadoop());
                    m = model.manager().newSubManager();
                    if (adapter != null) {
                        lora = LoraAdapter.create(model, settings.lora(), 0, m);
                        lora.load(AdapterVectors.unflatten(layout, adapter.value()));
                    }
                    if (largeUri == null) {
                        source = new ModelLogitSource(model, lora, settings.padId());
                        scorer = new Scorer(model, lora, settings.batchSize(), settings.padId());
                    } else {
                        DecoderModel large = ExecutorModelCache.get(largeUri, settings.hadoop());
                        source = ProxyLogitSource.of(new ModelLogitSource(large, null, settings.padId()), model, lora, alpha,
                                settings.padId());
                        scorer = new Scorer(source, settings.batchSize(), m);
                    }
                }
                out.add(evaluate(source, scorer, tok, data, settings.batchSize(), maxNewTokens));
            }
        } finally {
            if (lora != null) {
                lora.close();
            }
            if (m != null) {
                m.close();
            }
        }
        return out.iterator();
    }

    /** Generates from every held-out prompt of {@code data} and scores it (see the class comment). */
    public static ClientGeneration evaluate(LogitSource source, Scorer scorer, Tokenizer tok, ClientData data,
            int batchSize, int maxNewTokens) {
        int eos = tok.eosId().orElse(-1);
        List<ClientData.Tokens> rows = data.eval();
        double rouge = 0;
        long generated = 0;
        List<Sample> samples = new ArrayList<>();
        for (int from = 0; from < rows.size(); from += batchSize) {
            List<ClientData.Tokens> batch = rows.subList(from, Math.min(rows.size(), from + batchSize));
            List<int[]> prompts = new ArrayList<>();
            for (ClientData.Tokens t : batch) {
                prompts.add(Arrays.copyOf(t.ids(), Math.max(1, t.promptLength())));
            }
            List<int[]> outs = Generator.generate(source, prompts, Generator.Config.greedy(maxNewTokens, eos));
            for (int i = 0; i < batch.size(); i++) {
                ClientData.Tokens t = batch.get(i);
                int[] gen = outs.get(i);
                generated += gen.length;
                String reference = tok.decode(withoutEos(Arrays.copyOfRange(t.ids(), t.promptLength(), t.ids().length), eos),
                        true);
                String text = tok.decode(withoutEos(gen, eos), true);
                rouge += RougeL.score(text, reference).f1();
                if (samples.size() < SAMPLES_PER_CLIENT) {
                    samples.add(new Sample(tok.decode(prompts.get(i), true), reference, text));
                }
            }
        }
        EvalFunction.ClientEval e = EvalFunction.evaluate(scorer, data, null);
        return new ClientGeneration(data.clientId(), rows.size(), rouge, e.nll(), e.tokens(), generated, samples);
    }

    /** {@code ids} without a trailing EOS. */
    static int[] withoutEos(int[] ids, int eos) {
        return ids.length > 0 && ids[ids.length - 1] == eos ? Arrays.copyOf(ids, ids.length - 1) : ids;
    }
}
