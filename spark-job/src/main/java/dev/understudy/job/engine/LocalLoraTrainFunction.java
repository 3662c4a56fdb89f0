package dev.understudy.job.engine;

import ai.djl.ndarray.NDManager;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.Trainer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * Executor side of a round: trains every sampled client that lives in this partition, starting
 * from the broadcast global adapter, and emits its delta. A client's result depends only on (seed,
 * round, client id, global adapter): the data order and dropout come from a seed derived from those,
 * and the learning-rate schedule continues at {@code round × local_steps}; a retried or speculative
 * task therefore produces the identical update.
 */
public final class LocalLoraTrainFunction implements FlatMapFunction<Iterator<Tuple2<String, ClientData>>, ClientResult> {
    private static final long serialVersionUID = 1L;

    private final int round;
    private final Broadcast<float[]> global;
    private final Map<String, long[]> layout;
    private final Set<String> sampled;
    private final TrainSettings settings;
    private final ClientTask task;
    private final Set<String> retired;

    /** Today's LoRA training ({@link LoraClientTask}) of {@code settings.modelUri()}. */
    public LocalLoraTrainFunction(int round, Broadcast<float[]> global, Map<String, long[]> layout, Set<String> sampled,
            TrainSettings settings) {
        this(round, global, layout, sampled, settings, new LoraClientTask(), Set.of());
    }

    /**
     * @param task what each client does (the method's {@link ClientTask})
     * @param retired model URIs of earlier client-model versions: dropped from the executor's cache
     *     before the version in force ({@code settings.modelUri()}) is loaded
     */
    public LocalLoraTrainFunction(int round, Broadcast<float[]> global, Map<String, long[]> layout, Set<String> sampled,
            TrainSettings settings, ClientTask task, Set<String> retired) {
        this.round = round;
        this.global = global;
        this.layout = layout;
        this.sampled = sampled;
        this.settings = settings;
        this.task = task;
        this.retired = retired;
    }

    /** Seed of one client's local training in one round. */
    public static long clientSeed(long seed, int round, String clientId) {
        return Trainer.mix(Trainer.mix(seed, round), clientId.hashCode());
    }

    /**
     * Trains this partition's sampled clients one at a time, as the returned iterator is consumed:
     * a consumer that folds the results into a partial sum holds one update at a time, so an
     * executor's memory does not grow with its number of clients.
     */
    @Override
    public Iterator<ClientResult> call(Iterator<Tuple2<String, ClientData>> clients) {
        int attempt = TaskContext.get() == null ? 0 : TaskContext.get().attemptNumber();
        // Train in client-id order, whatever order the shuffle delivered the partition in, so the
        // per-partition partial sums are reproducible.
        List<ClientData> mine = new ArrayList<>();
        while (clients.hasNext()) {
            ClientData data = clients.next()._2();
            if (sampled.contains(data.clientId()) && !data.train().isEmpty()) {
                mine.add(data);
            }
        }
        mine.sort(java.util.Comparator.comparing(ClientData::clientId));
        Iterator<ClientData> todo = mine.iterator();
        return new Iterator<>() {
            private DecoderModel base;

            @Override
            public boolean hasNext() {
                return todo.hasNext();
            }

            @Override
            public ClientResult next() {
                ClientData data = todo.next();
                FaultInjection.maybeFail(round, data.clientId(), attempt);
                if (base == null) {
                    ExecutorModelCache.retire(retired);
                    base = ExecutorModelCache.get(settings.modelUri(), settings.hadoop());
                }
                try {
                    return task.train(new ClientTask.Round(round, global.value(), layout, settings, base, attempt), data);
                } catch (dev.understudy.ops.util.TrainingDivergedException e) {
                    // a diverged client is data for the server's failure policy, not a task failure
                    return ClientResult.failed(data.clientId(), round, e.getMessage(), attempt);
                }
            }
        };
    }

    /** One client's LoRA training from the global adapter {@code start} ({@link LoraClientTask}). */
    public static ClientResult trainLora(DecoderModel base, ClientData data, int attempt, int round, float[] start,
            Map<String, long[]> layout, TrainSettings settings) {
        try (NDManager m = base.manager().newSubManager();
                LoraAdapter lora = LoraAdapter.create(base, settings.lora(), 0, m)) {
            Map<String, HostTensor> init = AdapterVectors.unflatten(layout, start);
            lora.load(init);
            List<Example> examples = new ArrayList<>(data.train().size());
            for (ClientData.Tokens t : data.train()) {
                examples.add(new Example(t.ids(), t.promptLength()));
            }
            long seed = clientSeed(settings.seed(), round, data.clientId());
            try (Trainer trainer = new Trainer(base, lora, settings.trainConfig(seed), settings.padId(), m)) {
                int steps = settings.stepsFor(examples.size());
                trainer.resumeAt((long) (round - 1) * steps, 0, 0); // the schedule continues across rounds
                trainer.setProximal(settings.proximalMu()); // anchored at the global adapter just loaded
                Trainer.TrainResult r = trainer.train(examples, steps);
                float[] delta = AdapterVectors.minus(AdapterVectors.flatten(lora.exportTensors()), start);
                double meanLoss = java.util.Arrays.stream(r.losses()).average().orElse(Double.NaN);
                String diverged = settings.guard().check(round, data.clientId(), steps, delta, meanLoss,
                        base.config().vocabSize());
                if (diverged != null) { // a named client failure, never an aggregated update
                    return ClientResult.failed(data.clientId(), round, diverged, attempt);
                }
                return new ClientResult(data.clientId(), round, data.numTrain(), delta, meanLoss, r.tokens(), r.seconds(),
                        attempt, null);
            }
        }
    }
}
