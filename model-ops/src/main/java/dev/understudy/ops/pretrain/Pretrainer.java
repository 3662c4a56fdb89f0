package dev.understudy.ops.pretrain;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.infer.Scorer;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.LrSchedule;
import dev.understudy.ops.train.TrainConfig;
import dev.understudy.ops.train.Trainer;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Pretrains one decoder from scratch: full-parameter causal-LM training (every weight trainable,
 * {@link Trainer} without an adapter) over fixed-length blocks, with periodic held-out perplexity
 * and checkpoints from which {@link #create} with {@code resume} continues bit for bit.
 *
 * <pre>
 * try (Pretrainer p = Pretrainer.create(config, settings, seqLen, lr, lr, seed, ckptFile, runKey, false, manager)) {
 *     Pretrainer.Result r = p.run(data.trainBlocks(seqLen), periodicEval, finalEval, listener);
 *     HfModels.save(p.model(), sink);
 * }
 * </pre>
 *
 * The model and the optimiser state live in sub-managers of {@code parent} and are freed by {@link
 * #close()}. Not thread-safe; trainers on different threads do not interfere (thread-local grad
 * mode).
 */
public final class Pretrainer implements AutoCloseable {
    /** Salt of the data-order seed, so it differs from the initialisation seed. */
    private static final long DATA_SALT = 0x4441_5441L; // "DATA"

    private final DecoderModel model;
    private final Trainer trainer;
    private final PretrainSettings settings;
    private final LrSchedule schedule;
    private final int seqLen;
    private final long totalSteps;
    private final Path checkpoint;
    private final String runKey;
    private final long startStep;
    private long tokens;
    private double trainSeconds;

    /** Callbacks for progress display; all optional. */
    public interface Listener {
        /** After each optimiser step ({@code step} counts from 1). */
        default void onStep(long step, long totalSteps, double loss, double lr, double tokensPerSecond) {}

        /** After each held-out evaluation, periodic or final. */
        default void onEval(EvalPoint eval, boolean isFinal) {}

        /** After a checkpoint was written. */
        default void onCheckpoint(long step, Path file) {}
    }

    /** Held-out mean loss per token (nats) and perplexity after {@code step} steps, over {@code tokens} predictions. */
    public record EvalPoint(long step, double loss, double perplexity, long tokens) {}

    /**
     * The outcome of {@link #run}.
     *
     * @param steps optimiser steps trained in total (resumed runs included)
     * @param tokens input tokens trained on in total
     * @param trainSeconds wall seconds of the training steps (evaluation and checkpoints excluded)
     * @param lastLoss training loss of the last step of this call (NaN when none ran)
     * @param resumedFrom step the run continued from (0 for a fresh run)
     * @param evals periodic evaluations of this call
     * @param finalEval the evaluation on the final held-out set
     */
    public record Result(long steps, long tokens, double trainSeconds, double lastLoss, long resumedFrom,
            List<EvalPoint> evals, EvalPoint finalEval) {
        /** Input tokens per second of training-step time. */
        public double tokensPerSecond() {
            return trainSeconds > 0 ? tokens / trainSeconds : Double.NaN;
        }
    }

    private Pretrainer(DecoderModel model, Trainer trainer, LrSchedule schedule, PretrainSettings settings, int seqLen,
            long totalSteps,
            Path checkpoint, String runKey, long startStep, long tokens, double trainSeconds) {
        this.model = model;
        this.trainer = trainer;
        this.settings = settings;
        this.schedule = schedule;
        this.seqLen = seqLen;
        this.totalSteps = totalSteps;
        this.checkpoint = checkpoint;
        this.runKey = runKey;
        this.startStep = startStep;
        this.tokens = tokens;
        this.trainSeconds = trainSeconds;
    }

    /**
     * Creates the model (random initialisation, or the checkpoint's weights when resuming) and its
     * trainer.
     *
     * @param config the architecture; {@code maxPositions} must cover {@code seqLen}
     * @param seqLen block length (sets the number of steps that spend the token budget)
     * @param lr peak learning rate
     * @param embeddingLr peak learning rate of the token embedding (and the tied head)
     * @param seed initialisation and data-order seed
     * @param checkpoint checkpoint file to write every {@code settings.checkpointEvery()} steps, or null
     * @param runKey identifies what is being trained; a checkpoint with another key is refused
     * @param resume continue from {@code checkpoint} when it exists (else start fresh)
     * @throws ModelFormatException when resuming from an unreadable checkpoint or one of another run
     */
    public static Pretrainer create(ModelConfig config, PretrainSettings settings, int seqLen, double lr,
            double embeddingLr, long seed, Path checkpoint, String runKey, boolean resume, NDManager parent)
            throws IOException {
        checkArgument(config.maxPositions() >= seqLen, "max_position_embeddings=%s is shorter than seq_len=%s",
                config.maxPositions(), seqLen);
        long totalSteps = settings.steps(seqLen);
        PretrainCheckpoint.Loaded loaded = null;
        if (resume && checkpoint != null && Files.exists(checkpoint)) {
            loaded = PretrainCheckpoint.read(checkpoint);
            if (!runKey.equals(loaded.state().runKey())) {
                throw new ModelFormatException(checkpoint + " was written by a different run (its key "
                        + loaded.state().runKey() + " ≠ " + runKey + ": the config or the corpus changed); run without"
                        + " --resume to start over");
            }
        }
        DecoderModel model = loaded == null
                ? DecoderModel.randomInit(config, seed, parent, DataType.FLOAT32, settings.initStd())
                : DecoderModel.fromTensors(config, loaded.model(), checkpoint.toString(), parent, DataType.FLOAT32);
        Trainer trainer = null;
        try {
            int padId = Math.max(0, config.padTokenId());
            TrainConfig tc = settings.trainConfig(lr, totalSteps, Trainer.mix(seed, DATA_SALT));
            trainer = new Trainer(model, null, tc, padId, parent);
            if (embeddingLr != lr) {
                // The trainer's AdamW holds model.parameters() in map order.
                double[] scales = new double[model.parameters().size()];
                int i = 0;
                for (var p : model.parameters().values()) {
                    scales[i++] = p == model.embeddingMatrix() ? embeddingLr / lr : 1.0;
                }
                trainer.optimizer().setLrScales(scales);
            }
            if (loaded == null) {
                return new Pretrainer(model, trainer, tc.schedule(), settings, seqLen, totalSteps, checkpoint, runKey, 0,
                        0, 0);
            }
            PretrainCheckpoint.State s = loaded.state();
            trainer.optimizer().importState(loaded.optimizer(), s.adamSteps());
            trainer.resumeAt(s.step(), s.epoch(), s.cursor());
            return new Pretrainer(model, trainer, tc.schedule(), settings, seqLen, totalSteps, checkpoint, runKey,
                    s.step(), s.tokens(), s.trainSeconds());
        } catch (RuntimeException | Error e) {
            if (trainer != null) {
                trainer.close();
            }
            model.close();
            throw e;
        }
    }

    /** The model being trained (owned by this pretrainer). */
    public DecoderModel model() {
        return model;
    }

    /** Optimiser steps the token budget gives. */
    public long totalSteps() {
        return totalSteps;
    }

    /** Steps already done (the checkpoint's step after a resume). */
    public long step() {
        return trainer.globalStep();
    }

    /**
     * Trains until the token budget is spent, then scores {@code finalEval}.
     *
     * @param train training blocks (shuffled per epoch by the trainer)
     * @param periodicEval held-out blocks scored every {@code evalEvery} steps (may be empty)
     * @param finalEval held-out blocks scored at the end
     */
    public Result run(List<Example> train, List<Example> periodicEval, List<Example> finalEval, Listener listener) {
        checkArgument(!train.isEmpty(), "Cannot pretrain on an empty set of blocks");
        checkArgument(!finalEval.isEmpty(), "Cannot evaluate on an empty held-out set");
        Listener l = listener == null ? new Listener() {} : listener;
        List<EvalPoint> evals = new ArrayList<>();
        double lastLoss = Double.NaN;
        long stepTokens = settings.tokensPerStep(seqLen);
        while (trainer.globalStep() < totalSteps) {
            long before = trainer.globalStep();
            Trainer.TrainResult r = trainer.train(train, 1);
            long step = r.nextStep();
            lastLoss = r.lastLoss();
            tokens += stepTokens;
            trainSeconds += r.seconds();
            l.onStep(step, totalSteps, lastLoss, schedule.lr(before), tokens / trainSeconds);
            if (settings.evalEvery() > 0 && step % settings.evalEvery() == 0 && step < totalSteps
                    && !periodicEval.isEmpty()) {
                EvalPoint e = evaluate(periodicEval, step);
                evals.add(e);
                l.onEval(e, false);
            }
            if (checkpoint != null && settings.checkpointEvery() > 0
                    && (step % settings.checkpointEvery() == 0 || step == totalSteps)) {
                writeCheckpoint();
                l.onCheckpoint(step, checkpoint);
            }
        }
        EvalPoint fin = evaluate(finalEval, trainer.globalStep());
        l.onEval(fin, true);
        return new Result(trainer.globalStep(), tokens, trainSeconds, lastLoss, startStep, evals, fin);
    }

    /** Mean held-out loss and perplexity of the current weights over {@code blocks}. */
    public EvalPoint evaluate(List<Example> blocks, long step) {
        Scorer scorer = new Scorer(model, null, settings.evalBatchSize(), Math.max(0, model.config().padTokenId()));
        double ppl = scorer.perplexity(blocks);
        long n = 0;
        for (Example e : blocks) {
            n += e.lossTokens();
        }
        return new EvalPoint(step, Math.log(ppl), ppl, n);
    }

    private void writeCheckpoint() {
        try {
            PretrainCheckpoint.write(checkpoint, model.exportTensors(), trainer.optimizer().exportState(),
                    new PretrainCheckpoint.State(trainer.globalStep(), trainer.epoch(), trainer.cursor(),
                            trainer.optimizer().stepCount(), tokens, trainSeconds, runKey));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write checkpoint " + checkpoint + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        trainer.close();
        model.close();
    }
}
