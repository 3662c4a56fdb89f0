package dev.understudy.ops.distill;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.infer.LogitSource;
import dev.understudy.ops.infer.ProxyLogitSource;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DropoutRng;
import dev.understudy.ops.model.ModuleAdapter;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.Losses;
import dev.understudy.ops.train.Objective;
import dev.understudy.ops.train.TokenBatch;
import dev.understudy.ops.train.Trainer;
import java.util.ArrayList;
import java.util.List;

/**
 * Server-side distillation of a proxy-tuned large model into the small model's LoRA adapter, step 5
 * of FedPT (Gao et al. 2024, "FedPT: Federated Proxy-Tuning of Large Language Models on
 * Resource-Constrained Edge Devices", arXiv 2410.00362). After FedAvg has produced the aggregated
 * adapter θ̄_agg, the teacher is the proxy-tuned large model (Liu et al. 2024, arXiv 2401.08565)
 *
 * <pre>
 *   p̃(· | x_&lt;t) = softmax( z_large + α (z_(small + θ̄_agg) − z_small) )
 * </pre>
 *
 * and the student (the small model with θ̄_agg) is trained to minimise, over the distillation set's
 * loss positions (response tokens, or every token of a plain text example),
 *
 * <pre>
 *   (1 − λ) · T² · KL( p̃_T ‖ p_θ,T ) + λ · CE(reference tokens)
 * </pre>
 *
 * with the {@code T²} factor of Hinton et al. 2015 (arXiv 1503.02531), see {@link
 * Losses#forwardKlSum}. Only the LoRA factors are trained, so the next round's download keeps its
 * size. The KL loss, the temperature, λ, the data and the step budget are not published for FedPT
 * and are project defaults (methods.md §1(f)).
 *
 * <p>Which model plays which role is fixed here rather than left to the caller:
 *
 * <ul>
 *   <li>the <b>expert</b> is the small base with a frozen snapshot of the student adapter taken at
 *       construction, i.e. θ̄_agg before any distillation, so training the student never moves
 *       the teacher;
 *   <li>the <b>anti-expert</b> is the small base with no adapter at all: always the original
 *       checkpoint, never the distilled model (methods.md §1 "Important subtlety").
 * </ul>
 *
 * <p>The teacher's distributions are computed micro-batch by micro-batch inside the training step
 * (one forward of each of the three models, teacher-forced) and released with it; they are never
 * materialised for the whole set. The large model is used only through {@link LogitSource}; when it
 * has no one-pass teacher-forcing capability it is stepped token by token.
 *
 * <p>The loop (seeded data order, AdamW, schedule, accumulation, clipping, divergence check) is the
 * {@link Trainer}'s with a distillation {@link Objective}. Not thread-safe; one distiller per
 * round.
 *
 * <pre>
 * try (Distiller d = new Distiller(large, smallBase, aggregatedLora, DistillConfig.simple(1e-4, 8, 200, seed), padId, m)) {
 *     DistillResult r = d.distill(serverSet);      // aggregatedLora now holds the distilled adapter
 * }
 * </pre>
 */
public final class Distiller implements AutoCloseable {
    private final DistillConfig config;
    private final int padId;
    private final DecoderModel small;
    private final LoraAdapter student;
    private final NDManager manager;
    private final LoraAdapter expertSnapshot;
    private final ProxyLogitSource teacher;
    private final DistillObjective objective;
    private final Trainer trainer;

    /**
     * @param large the large base model, logits only (its vocabulary may not exceed the small
     *     model's; see {@link dev.understudy.ops.infer.ProxyTuning})
     * @param smallBase the original small checkpoint θ_s^0 (frozen; it is also the anti-expert, so
     *     no adapter may be merged into its weights)
     * @param student the aggregated adapter θ̄_agg: snapshotted as the teacher's expert, then
     *     trained in place
     * @param padId padding id of the small model's tokenizer
     * @param parent manager under which the snapshot and optimiser state live until {@link #close}
     */
    public Distiller(LogitSource large, DecoderModel smallBase, LoraAdapter student, DistillConfig config, int padId,
            NDManager parent) {
        this(large, smallBase, student, null, config, padId, parent);
    }

    /**
     * As {@link #Distiller(LogitSource, DecoderModel, LoraAdapter, DistillConfig, int, NDManager)}
     * with the teacher's expert given separately from the student's starting point.
     *
     * @param expert the teacher's expert adapter (snapshotted, so the caller may close it), or null
     *     for a snapshot of {@code student}
     */
    public Distiller(LogitSource large, DecoderModel smallBase, LoraAdapter student, LoraAdapter expert,
            DistillConfig config, int padId, NDManager parent) {
        this.config = checkNotNull(config, "distillation config");
        this.small = checkNotNull(smallBase, "small base model");
        this.student = checkNotNull(student, "student adapter");
        this.padId = padId;
        this.manager = parent.newSubManager();
        try {
            this.expertSnapshot = (expert == null ? student : expert).copy(manager);
            this.teacher = ProxyLogitSource.of(large, smallBase, expertSnapshot, config.alpha(), padId);
            this.objective = new DistillObjective(teacher, config.temperature(), config.ceWeight());
            this.trainer = new Trainer(smallBase, student, config.train(), padId, manager, objective);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * The frozen teacher: large + α (small with the pre-distillation adapter − small). Valid until
     * {@link #close}.
     */
    public ProxyLogitSource teacher() {
        return teacher;
    }

    /**
     * Runs {@link DistillConfig#steps} optimiser steps on {@code data} (seeded order, continuing
     * where a previous call stopped) and measures the KL on the first {@link
     * DistillConfig#evalExamples} examples before and after.
     *
     * @param data the server's distillation set (public data, disjoint from client data): prompts
     *     with reference responses ({@code promptLength > 0}: loss on the response) or plain text
     */
    public DistillResult distill(List<Example> data) {
        checkArgument(!data.isEmpty(), "Cannot distil on an empty distillation set");
        long start = System.nanoTime();
        List<Example> eval = data.subList(0, Math.min(config.evalExamples(), data.size()));
        double before = eval.isEmpty() ? Double.NaN : meanKl(eval);
        int steps = config.steps();
        double[] losses = new double[steps];
        double[] kl = new double[steps];
        double[] ce = new double[steps];
        long tokens = 0;
        for (int s = 0; s < steps; s++) {
            objective.reset();
            Trainer.TrainResult r = trainer.train(data, 1);
            losses[s] = r.losses()[0];
            kl[s] = objective.klSum / r.tokens();
            ce[s] = config.ceWeight() > 0 ? objective.ceSum / r.tokens() : Double.NaN;
            tokens += r.tokens();
        }
        double after = eval.isEmpty() ? Double.NaN : meanKl(eval);
        return new DistillResult(losses, kl, ce, before, after, eval.size(), tokens, (System.nanoTime() - start) / 1e9,
                trainer.globalStep(), trainer.epoch(), trainer.cursor());
    }

    /**
     * Mean forward KL(p̃ ‖ p_θ) per loss token at temperature 1 (the distributions used for
     * decoding), between the teacher and the student as it is now, without dropout. Computed in
     * batches of the training batch size.
     */
    public double meanKl(List<Example> examples) {
        checkArgument(!examples.isEmpty(), "Cannot measure the KL on an empty set");
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        double sum = 0;
        long n = 0;
        try {
            int bs = config.train().batchSize();
            for (int from = 0; from < examples.size(); from += bs) {
                List<Example> mb = examples.subList(from, Math.min(examples.size(), from + bs));
                try (NDScope ignored = new NDScope();
                        NDManager m = small.manager().newSubManager();
                        TokenBatch batch = TokenBatch.collate(mb, padId, m)) {
                    NDArray t = teacher.sequenceLogits(ids(mb), m);
                    NDArray s = small.forward(batch.ids(), batch.mask(), null, null, student, null);
                    sum += scalar(Losses.forwardKlSum(s, t, batch.labels(), 1.0));
                    n += batch.lossTokens();
                }
            }
        } finally {
            Ops.setGradMode(grad);
        }
        return sum / n;
    }

    /** Continues the student's schedule and data order from an earlier position (see {@link Trainer#resumeAt}). */
    public void resumeAt(long step, long epoch, int cursor) {
        trainer.resumeAt(step, epoch, cursor);
    }

    private static List<int[]> ids(List<Example> examples) {
        List<int[]> out = new ArrayList<>(examples.size());
        for (Example e : examples) {
            out.add(e.ids());
        }
        return out;
    }

    private static double scalar(NDArray x) {
        try (NDArray d = x.toType(DataType.FLOAT64, true)) {
            return d.getDouble();
        }
    }

    /**
     * Result of {@link #distill}: per-step objective, its mean KL term ({@code T²}-scaled, per loss
     * token) and CE term (NaN when λ = 0), the mean KL at temperature 1 on the evaluation examples
     * before and after (NaN when none), loss tokens seen, wall seconds, and the position to resume
     * from.
     */
    public record DistillResult(double[] losses, double[] kl, double[] ce, double klBefore, double klAfter,
            int evalExamples, long tokens, double seconds, long nextStep, long epoch, int cursor) {}

    @Override
    public void close() {
        try {
            trainer.close();
        } finally {
            manager.close();
        }
    }

    /** (1 − λ) · T²·KL(teacher ‖ student) + λ · CE, per micro-batch, normalised by the step's loss tokens. */
    private static final class DistillObjective implements Objective {
        private final ProxyLogitSource teacher;
        private final double temperature;
        private final double ceWeight;
        double klSum;
        double ceSum;

        DistillObjective(ProxyLogitSource teacher, double temperature, double ceWeight) {
            this.teacher = teacher;
            this.temperature = temperature;
            this.ceWeight = ceWeight;
        }

        void reset() {
            klSum = 0;
            ceSum = 0;
        }

        @Override
        public NDArray loss(DecoderModel model, ModuleAdapter adapter, List<Example> examples, TokenBatch batch,
                DropoutRng dropout, int stepTokens) {
            // 1. teacher distribution of this micro-batch only, without autograd
            NDArray teacherLogits;
            boolean grad = Ops.isGradMode();
            Ops.setGradMode(false);
            try {
                teacherLogits = teacher.sequenceLogits(ids(examples), batch.ids().getManager()); // (B, T, V_large)
            } finally {
                Ops.setGradMode(grad);
            }
            // 2. student forward and the mixed loss
            return Ops.scoped(() -> {
                NDArray logits = model.forward(batch.ids(), batch.mask(), null, null, adapter, dropout); // (B, T, V_small)
                NDArray kl = Losses.forwardKlSum(logits, teacherLogits, batch.labels(), temperature);
                klSum += scalar(kl);
                NDArray total = kl;
                if (ceWeight > 0) {
                    NDArray ce = Losses.causalLmNllSum(logits, batch.labels());
                    ceSum += scalar(ce);
                    total = Ops.mul(kl, 1 - ceWeight).add(Ops.mul(ce, ceWeight));
                }
                return Ops.div(total, stepTokens);
            });
        }
    }
}
