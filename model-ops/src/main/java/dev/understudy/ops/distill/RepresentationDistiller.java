package dev.understudy.ops.distill;

import static dev.understudy.ops.util.Preconditions.checkArgument;
import static dev.understudy.ops.util.Preconditions.checkNotNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DropoutRng;
import dev.understudy.ops.model.ForwardTap;
import dev.understudy.ops.model.ModuleAdapter;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.Losses;
import dev.understudy.ops.train.Objective;
import dev.understudy.ops.train.TokenBatch;
import dev.understudy.ops.train.Trainables;
import dev.understudy.ops.train.Trainer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Representation distillation of a derived (student) model towards the model it was derived from
 * (teacher), on public text: FedPFT's layer-level alignment (methods.md §2(a) Steps B and C),
 * Offsite-Tuning's emulator distillation (§4(a)), FedBiOT's server alignment (§4(b)) and FedProxy's
 * Stage 1 (§3). The loss per optimiser step is
 *
 * <pre>
 *   L = w_kd · mean_pairs ℓ_nmse(H_T, H_S) + w_lm · CE(student) + w_kl · T² · KL(p_T ‖ p_S)
 * </pre>
 *
 * with the pairs given by an {@link Alignment} and {@code ℓ_nmse} of {@link Nmse} over the valid
 * tokens. With gradient accumulation, each micro-batch's {@code ℓ_nmse} is weighted by its share of
 * the step's loss tokens (one micro-batch per step gives exactly the reference formula). What is
 * trained is a {@link Trainables} set of the student: only the FFNs of the compressed layers, only
 * the emulator's layers, masked neuron slices, or a LoRA adapter.
 *
 * <p>Memory is bounded by one micro-batch: the teacher runs without autograd inside the step's
 * {@link NDScope}, and only the hidden states an alignment pair needs survive its forward; they
 * are freed when the micro-batch ends. The loop (seeded order, schedule, accumulation, clipping,
 * divergence check, resumable position) is the {@link Trainer}'s. Not thread-safe.
 *
 * <pre>
 * try (var trainables = new DenseTrainables(student, DenseTrainables.layers(List.of("model.layers.1.mlp.")));
 *         var d = new RepresentationDistiller(parent, null, student, trainables, null,
 *                 Alignment.fromDerivation(derivation, true), RepDistillConfig.fedPft(train), padId, manager)) {
 *     d.train(publicBlocks, 500, null);
 *     Evaluation e = d.evaluate(heldoutBlocks);
 * }
 * </pre>
 */
public final class RepresentationDistiller implements AutoCloseable {
    private final DecoderModel teacher;
    private final ModuleAdapter teacherAdapter;
    private final DecoderModel student;
    private final ModuleAdapter frozenStudentAdapter;
    private final Alignment alignment;
    private final RepDistillConfig config;
    private final int padId;
    private final RepObjective objective = new RepObjective();
    private final Trainer trainer;

    /** Called after every optimiser step. */
    @FunctionalInterface
    public interface StepListener {
        void onStep(long step, double loss, double tokensPerSecond);
    }

    /**
     * @param teacher the parent model (frozen; not changed)
     * @param teacherAdapter an adapter the teacher runs with (FedBiOT: full model + current
     *     adapter), or null
     * @param student the derived model; changed in place where {@code trainables} are dense
     * @param trainables what to train (its adapter, if any, is applied to the student)
     * @param frozenStudentAdapter an adapter the student runs with but does not train (FedBiOT:
     *     emulator + adapter), used when {@code trainables} has no adapter; null for none
     * @param padId padding id of the shared tokenizer
     * @param parent manager under which the optimiser state lives until {@link #close}
     */
    public RepresentationDistiller(DecoderModel teacher, ModuleAdapter teacherAdapter, DecoderModel student,
            Trainables trainables, ModuleAdapter frozenStudentAdapter, Alignment alignment, RepDistillConfig config,
            int padId, NDManager parent) {
        this.teacher = checkNotNull(teacher, "teacher model");
        this.student = checkNotNull(student, "student model");
        this.teacherAdapter = teacherAdapter;
        this.frozenStudentAdapter = frozenStudentAdapter;
        this.alignment = checkNotNull(alignment, "alignment");
        this.config = checkNotNull(config, "distillation config");
        this.padId = padId;
        checkArgument(teacher.config().hiddenSize() == student.config().hiddenSize(),
                "teacher hidden size %s and student hidden size %s differ; hidden states cannot be matched",
                teacher.config().hiddenSize(), student.config().hiddenSize());
        checkArgument(config.klWeight() == 0 || teacher.config().vocabSize() <= student.config().vocabSize(),
                "the KL term needs the student to cover the teacher's %s token ids (it has %s)",
                teacher.config().vocabSize(), student.config().vocabSize());
        validate(alignment, teacher.config().numLayers(), student.config().numLayers());
        this.trainer = new Trainer(student, trainables, config.train(), padId, parent, objective);
    }

    private static void validate(Alignment a, int teacherLayers, int studentLayers) {
        if (a instanceof Alignment.LayerPairs p) {
            for (int i = 0; i < p.teacherLayers().length; i++) {
                checkArgument(p.teacherLayers()[i] >= 0 && p.teacherLayers()[i] < teacherLayers,
                        "alignment teacher layer %s outside [0, %s)", p.teacherLayers()[i], teacherLayers);
                checkArgument(p.studentLayers()[i] >= 0 && p.studentLayers()[i] < studentLayers,
                        "alignment student layer %s outside [0, %s)", p.studentLayers()[i], studentLayers);
            }
        } else if (a instanceof Alignment.BlockRange r) {
            checkArgument(r.teacherTo() <= teacherLayers, "teacher block range [%s, %s) outside its %s layers",
                    r.teacherFrom(), r.teacherTo(), teacherLayers);
            checkArgument(r.studentTo() <= studentLayers, "student block range [%s, %s) outside its %s layers",
                    r.studentFrom(), r.studentTo(), studentLayers);
        }
    }

    /**
     * Runs {@code steps} optimiser steps over {@code data} (seeded order, continuing where the
     * previous call stopped), calling {@code listener} (may be null) after each.
     */
    public Result train(List<Example> data, int steps, StepListener listener) {
        checkArgument(steps >= 0, "Cannot run %s distillation steps", steps);
        long start = System.nanoTime();
        double[] losses = new double[steps];
        double[] nmse = new double[steps];
        double[] ce = new double[steps];
        double[] kl = new double[steps];
        long tokens = 0;
        for (int s = 0; s < steps; s++) {
            objective.reset();
            Trainer.TrainResult r = trainer.train(data, 1);
            losses[s] = r.losses()[0];
            nmse[s] = objective.nmseWeighted / r.tokens();
            ce[s] = objective.ceSum / r.tokens();
            kl[s] = objective.klSum / r.tokens();
            tokens += r.tokens();
            if (listener != null) {
                listener.onStep(trainer.globalStep(), losses[s], tokens / ((System.nanoTime() - start) / 1e9));
            }
        }
        return new Result(losses, nmse, ce, kl, tokens, (System.nanoTime() - start) / 1e9, trainer.globalStep(),
                trainer.epoch(), trainer.cursor());
    }

    /**
     * Held-out figures of the student as it is now, without dropout or autograd, in micro-batches
     * of the training batch size: mean {@code ℓ_nmse} (weighted by loss tokens), mean CE per loss
     * token, its perplexity, and mean KL per loss token at temperature 1.
     */
    public Evaluation evaluate(List<Example> heldout) {
        checkArgument(!heldout.isEmpty(), "Cannot evaluate distillation on an empty held-out set");
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        double nmse = 0;
        double ce = 0;
        double kl = 0;
        long n = 0;
        try {
            int bs = config.train().batchSize();
            for (int from = 0; from < heldout.size(); from += bs) {
                List<Example> mb = heldout.subList(from, Math.min(heldout.size(), from + bs));
                try (NDScope ignored = new NDScope();
                        NDManager m = student.manager().newSubManager();
                        TokenBatch batch = TokenBatch.collate(mb, padId, m)) {
                    Terms t = terms(batch, studentAdapter(null), null, true, true, 1.0);
                    nmse += scalar(t.nmse) * batch.lossTokens();
                    ce += scalar(t.ceSum);
                    kl += scalar(t.klSum);
                    n += batch.lossTokens();
                }
            }
        } finally {
            Ops.setGradMode(grad);
        }
        return new Evaluation(nmse / n, ce / n, Math.exp(ce / n), kl / n, n);
    }

    /** Continues the schedule and data order from an earlier position (see {@link Trainer#resumeAt}). */
    public void resumeAt(long step, long epoch, int cursor) {
        trainer.resumeAt(step, epoch, cursor);
    }

    /** The underlying trainer (optimiser state for checkpoints, position). */
    public Trainer trainer() {
        return trainer;
    }

    private ModuleAdapter studentAdapter(ModuleAdapter trained) {
        return trained != null ? trained : frozenStudentAdapter;
    }

    /** The three loss terms of one micro-batch: nmse (mean over pairs), CE and KL sums over loss tokens. */
    private record Terms(NDArray nmse, NDArray ceSum, NDArray klSum) {}

    /**
     * 1. the student's forward (with autograd when on), keeping the hidden states the alignment
     * needs; 2. the teacher's, without autograd; 3. the terms. {@code allTerms} computes every term
     * (evaluation) instead of only those with a non-zero weight.
     */
    private Terms terms(TokenBatch batch, ModuleAdapter sAdapter, DropoutRng dropout, boolean allTerms,
            boolean evalKlAtOne, double temperature) {
        boolean needKd = allTerms || config.kdWeight() > 0;
        boolean needCe = allTerms || config.lmWeight() > 0;
        boolean needKl = allTerms ? teacher.config().vocabSize() <= student.config().vocabSize() : config.klWeight() > 0;
        NDArray ids = batch.ids();
        NDArray mask = batch.mask();
        // 1. student
        Captured s = new Captured(student.config().numLayers());
        NDArray sFinal = student.hiddenStates(ids, mask, null, null, sAdapter, dropout, s);
        NDArray sLogits = needCe || needKl ? student.logits(sFinal) : null; // (B, T, V_s)

        // 2. teacher: no autograd; only the tensors the terms need leave its scope
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        NDList teacherStates = new NDList();
        NDArray tLogits = null;
        try (NDScope scope = new NDScope()) {
            if (needKd && alignment instanceof Alignment.LayerPairs p) {
                Captured t = new Captured(teacher.config().numLayers());
                NDArray tFinal = teacher.hiddenStates(ids, mask, null, null, teacherAdapter, null, t);
                t.finalHidden = tFinal;
                for (int l : p.teacherLayers()) {
                    teacherStates.add(t.output(l));
                }
                if (needKl) {
                    tLogits = teacher.logits(tFinal);
                }
            } else if (needKd && alignment instanceof Alignment.BlockRange r) {
                NDArray h = s.input(r.studentFrom()).stopGradient();
                teacherStates.add(teacher.runBlocks(r.teacherFrom(), r.teacherTo(), h, mask, teacherAdapter, null, null));
            }
            if (needKl && tLogits == null) {
                tLogits = teacher.forward(ids, mask, null, null, teacherAdapter, null);
            }
            for (NDArray x : teacherStates) {
                NDScope.unregister(x);
            }
            if (tLogits != null) {
                NDScope.unregister(tLogits);
            }
        } finally {
            Ops.setGradMode(grad);
        }
        for (NDArray x : teacherStates) {
            NDScope.register(x);
        }
        if (tLogits != null) {
            NDScope.register(tLogits);
        }

        // 3. terms
        NDArray nmse = null;
        if (needKd) {
            if (alignment instanceof Alignment.LayerPairs p) {
                for (int i = 0; i < p.studentLayers().length; i++) {
                    NDArray term = Nmse.loss(teacherStates.get(i), s.output(p.studentLayers()[i]), mask);
                    nmse = nmse == null ? term : nmse.add(term);
                }
                nmse = Ops.div(nmse, p.studentLayers().length);
            } else {
                Alignment.BlockRange r = (Alignment.BlockRange) alignment;
                nmse = Nmse.loss(teacherStates.get(0), s.blockOutput(r.studentTo() - 1), mask);
            }
        }
        NDArray ceSum = needCe ? Losses.causalLmNllSum(sLogits, batch.labels()) : null;
        NDArray klSum = needKl ? Losses.forwardKlSum(sLogits, tLogits, batch.labels(), evalKlAtOne ? 1.0 : temperature)
                : null;
        return new Terms(nmse, ceSum, klSum);
    }

    private static double scalar(NDArray x) {
        if (x == null) {
            return Double.NaN;
        }
        try (NDArray d = x.toType(DataType.FLOAT64, true)) {
            return d.getDouble();
        }
    }

    /** Block inputs and outputs of one forward, by block index; the last block's output is the final-norm state. */
    private static final class Captured implements ForwardTap {
        private final int layers;
        private final Map<Integer, NDArray> outputs = new HashMap<>();
        private NDArray embeddings;
        NDArray finalHidden;

        Captured(int layers) {
            this.layers = layers;
        }

        @Override
        public void embeddings(NDArray x) {
            embeddings = x;
        }

        @Override
        public void blockOutput(int layer, NDArray x) {
            outputs.put(layer, x);
        }

        @Override
        public void finalHidden(NDArray x) {
            finalHidden = x;
        }

        /** The input of block {@code l}: the embeddings or block {@code l − 1}'s output. */
        NDArray input(int l) {
            return l == 0 ? embeddings : outputs.get(l - 1);
        }

        /** Block {@code l}'s output before any final norm. */
        NDArray blockOutput(int l) {
            return outputs.get(l);
        }

        /** Block {@code l}'s output as transformers' output_hidden_states gives it (final norm after the last). */
        NDArray output(int l) {
            return l == layers - 1 ? finalHidden : outputs.get(l);
        }
    }

    /** The distillation objective: the weighted terms, normalised by the step's loss tokens. */
    private final class RepObjective implements Objective {
        double nmseWeighted;
        double ceSum;
        double klSum;

        void reset() {
            nmseWeighted = 0;
            ceSum = 0;
            klSum = 0;
        }

        @Override
        public NDArray loss(DecoderModel model, ModuleAdapter adapter, List<Example> examples, TokenBatch batch,
                DropoutRng dropout, int stepTokens) {
            Terms t = terms(batch, studentAdapter(adapter), dropout, false, false, config.temperature());
            NDArray total = null;
            if (t.nmse != null) {
                nmseWeighted += scalar(t.nmse) * batch.lossTokens();
                total = Ops.mul(t.nmse, config.kdWeight() * batch.lossTokens());
            }
            if (t.ceSum != null) {
                ceSum += scalar(t.ceSum);
                NDArray ce = Ops.mul(t.ceSum, config.lmWeight());
                total = total == null ? ce : total.add(ce);
            }
            if (t.klSum != null) {
                klSum += scalar(t.klSum);
                NDArray kl = Ops.mul(t.klSum, config.klWeight());
                total = total == null ? kl : total.add(kl);
            }
            return Ops.div(total, stepTokens);
        }
    }

    /**
     * Result of {@link #train}: per-step loss and its terms per loss token (nmse weighted by loss
     * tokens; CE and KL NaN-free zeros when their weight is 0), loss tokens seen, wall seconds, and
     * the position to resume from.
     */
    public record Result(double[] losses, double[] nmse, double[] ce, double[] kl, long tokens, double seconds,
            long nextStep, long epoch, int cursor) {}

    /** Held-out figures of {@link #evaluate}; {@code kl} is NaN when the vocabularies do not allow it. */
    public record Evaluation(double nmse, double ce, double perplexity, double kl, long tokens) {}

    @Override
    public void close() {
        trainer.close();
    }
}
