package dev.understudy.ops.infer;

import static dev.understudy.ops.util.Preconditions.checkNotNull;
import static dev.understudy.ops.util.Preconditions.checkState;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.ModuleAdapter;
import java.util.List;

/**
 * A proxy-tuned large model as a {@link LogitSource}: at every decoding step the next-token logits
 * are {@code z_large + α (z_expert − z_anti)} ({@link ProxyTuning}; Liu et al. 2024, arXiv
 * 2401.08565). Each of the three sources keeps its own decoding session (its own KV cache) and
 * every chosen token is appended to all three. {@link Generator} applies temperature and top-p to
 * the combined logits, i.e. after the arithmetic, as proxy-tuning prescribes.
 *
 * <p>Teacher-forced logits ({@link SequenceLogits}, used by {@link Scorer} and by distillation)
 * apply the same arithmetic at every position of whole sequences, with one forward per model when
 * the component sources support it and token-by-token stepping otherwise (a black-box large model
 * behind the plain {@link LogitSource} interface).
 *
 * <p>The anti-expert must be the small model the expert was tuned from, untouched. For the usual
 * case of a LoRA expert, {@link #of} builds the expert and anti-expert from one small base model,
 * with the anti-expert being that model without any adapter, so the two cannot drift apart (in
 * FedPT, Gao et al. 2024, arXiv 2410.00362, the small global model absorbs distilled knowledge each
 * round, and only the original checkpoint measures "what tuning added").
 */
public final class ProxyLogitSource implements LogitSource, SequenceLogits {
    private final LogitSource large;
    private final LogitSource expert;
    private final LogitSource anti;
    private final double alpha;
    private final int vocab;

    /**
     * Combines three arbitrary sources. Prefer {@link #of} when expert and anti-expert are one small
     * model with and without an adapter.
     *
     * @param large the large base model (logits only; may be a remote black box)
     * @param expert the small tuned model
     * @param antiExpert the small model the expert was tuned from, never a later version of it
     * @param alpha proxy strength α ≥ 0 (1 in proxy-tuning)
     * @throws IllegalArgumentException if the expert or anti-expert vocabulary is smaller than the
     *     large model's (larger ones are truncated, see {@link ProxyTuning})
     */
    public ProxyLogitSource(LogitSource large, LogitSource expert, LogitSource antiExpert, double alpha) {
        this.large = checkNotNull(large, "large model source");
        this.expert = checkNotNull(expert, "expert source");
        this.anti = checkNotNull(antiExpert, "anti-expert source");
        this.alpha = ProxyTuning.checkAlpha(alpha);
        this.vocab = ProxyTuning.checkVocab(large.vocabSize(), expert.vocabSize(), antiExpert.vocabSize());
    }

    /**
     * The proxy of a LoRA-style expert: expert = {@code smallBase} with {@code expertAdapter},
     * anti-expert = {@code smallBase} with no adapter.
     *
     * <p>The adapter is used as it is at each call, not copied: do not train it while this source is
     * in use (the distiller snapshots the adapter for its teacher for that reason).
     *
     * @param smallBase the original small checkpoint, which must not have an adapter merged into
     *     its weights
     * @param expertAdapter the tuning of the small model (e.g. FedAvg-aggregated LoRA)
     * @param padId padding id of the small model's tokenizer
     */
    public static ProxyLogitSource of(
            LogitSource large, DecoderModel smallBase, ModuleAdapter expertAdapter, double alpha, int padId) {
        checkNotNull(smallBase, "small base model");
        checkNotNull(expertAdapter, "expert adapter (a proxy with no adapter would be the large model itself)");
        return new ProxyLogitSource(large, new ModelLogitSource(smallBase, expertAdapter, padId),
                new ModelLogitSource(smallBase, null, padId), alpha);
    }

    /** The proxy strength α. */
    public double alpha() {
        return alpha;
    }

    public LogitSource large() {
        return large;
    }

    public LogitSource expert() {
        return expert;
    }

    public LogitSource antiExpert() {
        return anti;
    }

    /** The large model's vocabulary size (expert and anti-expert logits are truncated to it). */
    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public DecodingSession start(List<int[]> prompts) {
        LogitSource.DecodingSession l = large.start(prompts);
        LogitSource.DecodingSession e = null;
        try {
            e = expert.start(prompts);
            return new Session(l, e, anti.start(prompts), prompts.size());
        } catch (RuntimeException ex) {
            closeAll(ex, e, l);
            throw ex;
        }
    }

    @Override
    public NDArray sequenceLogits(List<int[]> sequences, NDManager manager) {
        NDArray out;
        try (NDScope ignored = new NDScope()) {
            NDArray l = TeacherForcing.logits(large, sequences, manager);
            NDArray e = TeacherForcing.logits(expert, sequences, manager);
            NDArray a = TeacherForcing.logits(anti, sequences, manager);
            out = ProxyTuning.combine(l, e, a, alpha);
            NDScope.unregister(out);
        }
        NDScope.register(out);
        return out;
    }

    private final class Session implements DecodingSession {
        private final DecodingSession l;
        private final DecodingSession e;
        private final DecodingSession a;
        private final int batch;
        private float[][] next;

        Session(DecodingSession l, DecodingSession e, DecodingSession a, int batch) {
            this.l = l;
            this.e = e;
            this.a = a;
            this.batch = batch;
        }

        @Override
        public float[][] nextLogits() {
            if (next == null) {
                float[][] zl = l.nextLogits();
                float[][] ze = e.nextLogits();
                float[][] za = a.nextLogits();
                checkState(zl.length == batch && ze.length == batch && za.length == batch,
                        "component sources returned %s/%s/%s rows for a batch of %s", zl.length, ze.length, za.length,
                        batch);
                next = new float[batch][];
                for (int i = 0; i < batch; i++) {
                    next[i] = ProxyTuning.combine(zl[i], ze[i], za[i], alpha);
                }
            }
            return next;
        }

        @Override
        public void append(int[] tokens) {
            next = null;
            l.append(tokens);
            e.append(tokens);
            a.append(tokens);
        }

        @Override
        public void close() {
            RuntimeException first = null;
            for (DecodingSession s : new DecodingSession[] {a, e, l}) {
                try {
                    s.close();
                } catch (RuntimeException ex) {
                    if (first == null) {
                        first = ex;
                    } else {
                        first.addSuppressed(ex);
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    private static void closeAll(RuntimeException cause, DecodingSession... sessions) {
        for (DecodingSession s : sessions) {
            if (s != null) {
                try {
                    s.close();
                } catch (RuntimeException ex) {
                    cause.addSuppressed(ex);
                }
            }
        }
    }
}
