package dev.understudy.ops.train;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DropoutRng;
import dev.understudy.ops.model.ModuleAdapter;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.util.Preconditions;
import dev.understudy.ops.util.TrainingDivergedException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Causal-LM fine-tuning loop for one client: LoRA (the base model stays frozen and may be shared by
 * concurrent trainers) or full fine-tuning (the trainer updates the model it is given, which must
 * then be private to it). The loss is the prompt-masked causal-LM loss unless another {@link
 * Objective} is given (server-side distillation uses the same loop).
 *
 * <p>Autograd runs on libtorch's thread-local grad mode with a direct {@code backward} call, not
 * DJL's JVM-global GradientCollector, so trainers on different threads do not interfere (stack.md
 * §1). Data order and dropout masks come from {@code seed}, so a run is reproducible bit for bit.
 * Each micro-batch runs inside an {@link NDScope}, so the step's temporaries are freed when it
 * ends.
 *
 * <pre>
 * try (Trainer trainer = new Trainer(model, adapter, TrainConfig.simple(1e-3, 8, seed), padId, manager)) {
 *     TrainResult r = trainer.train(examples, 100);
 * }
 * </pre>
 */
public final class Trainer implements AutoCloseable {
    private final DecoderModel model;
    private final ModuleAdapter adapter;
    private final Trainables trainables;
    private final TrainConfig config;
    private final int padId;
    private final Objective objective;
    private final List<NDArray> params;
    private final AdamW optimizer;
    private long globalStep;
    private long epoch;
    private int cursor;
    private int[] order;
    private double proximalMu;
    private List<NDArray> anchors = List.of();

    /**
     * @param adapter the LoRA adapter to train, or null to fine-tune every weight of {@code model}
     * @param padId token id used to pad micro-batches (masked out of attention and loss)
     */
    public Trainer(DecoderModel model, LoraAdapter adapter, TrainConfig config, int padId, NDManager parent) {
        this(model, adapter, config, padId, parent, Objective.causalLm());
    }

    /**
     * As {@link #Trainer(DecoderModel, LoraAdapter, TrainConfig, int, NDManager)} with another
     * training objective (e.g. distillation from a teacher).
     */
    public Trainer(DecoderModel model, LoraAdapter adapter, TrainConfig config, int padId, NDManager parent,
            Objective objective) {
        this(model, adapter != null ? new LoraTrainables(adapter) : new DenseTrainables(model, name -> true), config,
                padId, parent, objective);
    }

    /**
     * Trains {@code trainables} (a LoRA adapter, named dense tensors or masked slices of them) with
     * {@code objective}: one optimiser path for every kind of trainable set.
     */
    public Trainer(DecoderModel model, Trainables trainables, TrainConfig config, int padId, NDManager parent,
            Objective objective) {
        this.model = model;
        this.trainables = Preconditions.checkNotNull(trainables, "trainable parameters");
        this.adapter = trainables.adapter();
        this.config = config;
        this.padId = padId;
        this.objective = Preconditions.checkNotNull(objective, "training objective");
        this.params = trainables.parameters();
        trainables.setTrainable(true);
        this.optimizer = new AdamW(params, config.beta1(), config.beta2(), config.eps(), config.weightDecay(), parent);
    }

    /** The global optimiser step the next update will use (drives the schedule). */
    public long globalStep() {
        return globalStep;
    }

    /** Continues the schedule (and data order) from a previous run, e.g. the previous federated round. */
    public void resumeAt(long step, long epoch, int cursor) {
        checkArgument(step >= 0 && epoch >= 0 && cursor >= 0, "invalid resume position %s/%s/%s", step, epoch, cursor);
        this.globalStep = step;
        this.epoch = epoch;
        this.cursor = cursor;
        this.order = null;
    }

    public long epoch() {
        return epoch;
    }

    public int cursor() {
        return cursor;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    /**
     * Adds the FedProx proximal term {@code μ/2·||w − w₀||²} to every following step, anchored at
     * the trainable parameters' current values (the global model a federated client starts from).
     * {@code mu == 0} removes it. See {@link Proximal}.
     */
    public void setProximal(double mu) {
        checkArgument(mu >= 0 && Double.isFinite(mu), "Cannot set the proximal weight mu to %s, must be ≥ 0", mu);
        anchors.forEach(NDArray::close);
        proximalMu = mu;
        if (mu == 0) {
            anchors = List.of();
            return;
        }
        List<NDArray> copies = new ArrayList<>(params.size());
        for (NDArray p : params) {
            NDArray c = p.duplicate();
            c.setRequiresGradient(false);
            copies.add(c);
        }
        anchors = copies;
    }

    /**
     * Runs {@code steps} optimiser steps over {@code data}, visiting it in a seeded random order per
     * epoch and continuing where the previous call stopped.
     */
    public TrainResult train(List<Example> data, int steps) {
        checkArgument(!data.isEmpty(), "Cannot train on an empty dataset");
        long start = System.nanoTime();
        double[] losses = new double[steps];
        long tokens = 0;
        for (int s = 0; s < steps; s++) {
            List<Example> batch = new ArrayList<>(config.examplesPerStep());
            while (batch.size() < config.examplesPerStep()) {
                if (order == null || order.length != data.size()) {
                    order = permutation(data.size(), mix(config.seed(), epoch));
                }
                if (cursor >= order.length) {
                    epoch++;
                    cursor = 0;
                    order = permutation(data.size(), mix(config.seed(), epoch));
                }
                batch.add(data.get(order[cursor++]));
            }
            StepResult r = step(batch);
            losses[s] = r.loss();
            tokens += r.tokens();
        }
        return new TrainResult(losses, tokens, (System.nanoTime() - start) / 1e9, globalStep);
    }

    /**
     * One optimiser step over exactly {@code examples} (split into {@code gradAccumSteps}
     * micro-batches of at most {@code batchSize}). The loss is the mean over all loss tokens of the
     * step, so accumulation gives the same gradient as one large batch.
     *
     * @throws TrainingDivergedException if a micro-batch loss is NaN or infinite
     */
    public StepResult step(List<Example> examples) {
        checkArgument(!examples.isEmpty(), "a step needs at least one example");
        int totalTokens = 0;
        for (Example e : examples) {
            totalTokens += e.lossTokens();
        }
        double lr = config.schedule().lr(globalStep);
        double lossSum = 0;
        int micro = 0;
        for (int from = 0; from < examples.size(); from += config.batchSize(), micro++) {
            List<Example> mb = examples.subList(from, Math.min(examples.size(), from + config.batchSize()));
            try (NDScope ignored = new NDScope();
                    NDManager m = model.manager().newSubManager();
                    TokenBatch batch = TokenBatch.collate(mb, padId, m)) {
                Ops.setGradMode(true);
                try {
                    DropoutRng dropout = new DropoutRng(mix(mix(config.seed(), globalStep), micro));
                    NDArray loss = objective.loss(model, adapter, mb, batch, dropout, totalTokens);
                    double value = scalar(loss);
                    if (!Double.isFinite(value)) {
                        throw new TrainingDivergedException(String.format(
                                "loss became %s at step %d, micro-batch %d (lr=%.3g); lower the learning rate or"
                                        + " enable gradient clipping (max_grad_norm)", value, globalStep, micro, lr),
                                globalStep, micro);
                    }
                    lossSum += value;
                    Ops.backward(loss);
                } finally {
                    Ops.setGradMode(false);
                }
            }
        }
        trainables.beforeStep();
        Proximal.addGradient(params, anchors, proximalMu);
        // The norm costs a device sync per tensor; skip it when clipping is off.
        double gradNorm = config.maxGradNorm() > 0 ? GradClip.clipByGlobalNorm(params, config.maxGradNorm()) : Double.NaN;
        optimizer.step(lr);
        trainables.afterStep();
        globalStep++;
        return new StepResult(globalStep - 1, lossSum, gradNorm, lr, totalTokens);
    }

    static double scalar(NDArray x) {
        try (NDArray d = x.toType(DataType.FLOAT64, true)) {
            return d.getDouble();
        }
    }

    /** SplitMix64 finaliser over (a, b): a well-mixed seed for per-epoch / per-step streams. */
    public static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }

    /** Result of one optimiser step ({@code gradNorm} is NaN when clipping is off). */
    public record StepResult(long step, double loss, double gradNorm, double lr, int tokens) {}

    /** Result of {@link #train}: per-step losses, loss tokens seen, wall seconds, next global step. */
    public record TrainResult(double[] losses, long tokens, double seconds, long nextStep) {
        public double lastLoss() {
            return losses[losses.length - 1];
        }

        public double tokensPerSecond() {
            return tokens / seconds;
        }
    }

    @Override
    public void close() {
        optimizer.close();
        anchors.forEach(NDArray::close);
        trainables.setTrainable(false);
    }

    /** What this trainer updates. */
    public Trainables trainables() {
        return trainables;
    }
}
