package dev.understudy.ops.infer;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.ModuleAdapter;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.Losses;
import dev.understudy.ops.train.TokenBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * Teacher-forced scoring with a (optionally adapted) model, or with any {@link LogitSource} such
 * as a proxy-tuned model ({@link ProxyLogitSource}): per-token log-probabilities, the
 * log-likelihood of a response given a prompt, perplexity, and label scoring (pick the most likely
 * of N label strings, as in zero-shot classification with an LM). Sequences are scored in
 * right-padded batches of {@code batchSize}; padding never changes a score. Sources with {@link
 * SequenceLogits} take one forward per batch; others are stepped token by token.
 */
public final class Scorer {
    private final LogitSource source;
    private final int batchSize;
    private final NDManager manager;

    public Scorer(DecoderModel model, ModuleAdapter adapter, int batchSize, int padId) {
        this(new ModelLogitSource(model, adapter, padId), batchSize, model.manager());
    }

    /**
     * Scores with the (softmax-normalised) logits of {@code source}.
     *
     * @param manager parent of the per-batch managers (its device is where log-probabilities are
     *     computed)
     */
    public Scorer(LogitSource source, int batchSize, NDManager manager) {
        checkArgument(batchSize >= 1, "Cannot set eval batch_size to %s, must be ≥ 1", batchSize);
        this.source = checkNotNull(source, "logit source");
        this.batchSize = batchSize;
        this.manager = checkNotNull(manager, "manager");
    }

    /**
     * For each sequence, {@code log p(x_t | x_<t)} for {@code t = 1 .. n-1} (the first token has no
     * prediction), as an array of length {@code n - 1}.
     */
    public double[][] tokenLogProbs(List<int[]> sequences) {
        List<Example> ex = new ArrayList<>();
        for (int[] s : sequences) {
            ex.add(Example.lm(s));
        }
        return score(ex);
    }

    /** Sum of {@code log p(response | prompt)} over the response tokens, per pair. */
    public double[] responseLogLikelihood(List<int[]> prompts, List<int[]> responses) {
        checkArgument(prompts.size() == responses.size(), "%s prompts but %s responses", prompts.size(), responses.size());
        List<Example> ex = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            ex.add(join(prompts.get(i), responses.get(i)));
        }
        double[][] lp = score(ex);
        double[] out = new double[lp.length];
        for (int i = 0; i < lp.length; i++) {
            int from = ex.get(i).promptLength() - 1; // index in lp of the first response token
            for (int j = from; j < lp[i].length; j++) {
                out[i] += lp[i][j];
            }
        }
        return out;
    }

    /** {@code exp(mean NLL)} over the loss tokens of the examples (response tokens, or all but the first). */
    public double perplexity(List<Example> examples) {
        double[][] lp = score(examples);
        double nll = 0;
        long n = 0;
        for (int i = 0; i < lp.length; i++) {
            int from = Math.max(1, examples.get(i).promptLength()) - 1;
            for (int j = from; j < lp[i].length; j++) {
                nll -= lp[i][j];
                n++;
            }
        }
        return Math.exp(nll / n);
    }

    /**
     * For each prompt, the index of the label (token sequence) with the highest total
     * log-likelihood as a continuation of the prompt.
     */
    public int[] pickLabels(List<int[]> prompts, List<int[]> labels) {
        checkArgument(!labels.isEmpty(), "label scoring needs at least one label");
        List<int[]> ps = new ArrayList<>();
        List<int[]> rs = new ArrayList<>();
        for (int[] p : prompts) {
            for (int[] l : labels) {
                ps.add(p);
                rs.add(l);
            }
        }
        double[] ll = responseLogLikelihood(ps, rs);
        int[] out = new int[prompts.size()];
        for (int i = 0; i < prompts.size(); i++) {
            int best = 0;
            for (int k = 1; k < labels.size(); k++) {
                if (ll[i * labels.size() + k] > ll[i * labels.size() + best]) {
                    best = k;
                }
            }
            out[i] = best;
        }
        return out;
    }

    private static Example join(int[] prompt, int[] response) {
        checkArgument(prompt.length >= 1 && response.length >= 1, "prompt and response must both be non-empty");
        int[] ids = new int[prompt.length + response.length];
        System.arraycopy(prompt, 0, ids, 0, prompt.length);
        System.arraycopy(response, 0, ids, prompt.length, response.length);
        return new Example(ids, prompt.length);
    }

    /** Log-probabilities of every predicted token (ignoring prompt masks), per example. */
    private double[][] score(List<Example> examples) {
        double[][] out = new double[examples.size()][];
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try {
            for (int from = 0; from < examples.size(); from += batchSize) {
                List<Example> chunk = examples.subList(from, Math.min(examples.size(), from + batchSize));
                List<Example> all = new ArrayList<>();
                List<int[]> ids = new ArrayList<>();
                for (Example e : chunk) {
                    all.add(Example.lm(e.ids()));
                    ids.add(e.ids());
                }
                try (NDScope ignored = new NDScope();
                        NDManager m = manager.newSubManager();
                        TokenBatch batch = TokenBatch.collate(all, 0, m)) {
                    NDArray logits = TeacherForcing.logits(source, ids, m);
                    NDArray lp = Losses.tokenLogProbs(logits, batch.labels()).toType(DataType.FLOAT64, false);
                    double[] flat = lp.toDoubleArray();
                    long width = lp.getShape().get(1);
                    for (int i = 0; i < chunk.size(); i++) {
                        int n = chunk.get(i).ids().length - 1;
                        double[] row = new double[n];
                        System.arraycopy(flat, (int) (i * width), row, 0, n);
                        out[from + i] = row;
                    }
                }
            }
        } finally {
            Ops.setGradMode(grad);
        }
        return out;
    }
}
