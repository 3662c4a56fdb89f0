package dev.understudy.job.run;

import ai.djl.ndarray.NDManager;
import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.engine.ClientModel;
import dev.understudy.job.engine.ExecutorModelCache;
import dev.understudy.job.engine.FederatedMethod;
import dev.understudy.job.engine.RoundCheckpoint;
import dev.understudy.job.engine.ServerModel;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.job.method.Methods;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * One reader of a committed run for {@code evaluate}, {@code generate}, {@code export} and the
 * benchmarks: the run's committed configuration, its method (with the round's method state
 * restored), the client model in force at the round (from the round's manifest), the global
 * adapter, and the server model the method describes for it ({@link FederatedMethod#serverModel}).
 * Or, for {@code --base}, the bare configured client model and no round.
 */
public final class CommittedRun implements AutoCloseable {
    private final RunStore store;
    private final JobConfig config;
    private final FederatedMethod method;
    private final Configuration hadoop;
    private final RunStore.CommittedRound round;
    private final ClientModel clientModel;
    private final Map<String, float[]> methodState;

    private CommittedRun(RunStore store, JobConfig config, FederatedMethod method, Configuration hadoop,
            RunStore.CommittedRound round, ClientModel clientModel, Map<String, float[]> methodState) {
        this.store = store;
        this.config = config;
        this.method = method;
        this.hadoop = hadoop;
        this.round = round;
        this.clientModel = clientModel;
        this.methodState = methodState;
    }

    /**
     * Opens the run in {@code given}'s {@code output.dir}.
     *
     * @param round the committed round, or null for the last
     * @param base the bare configured client model: reads no round (the run needs none)
     * @param hint what to do when there is no committed round, e.g. {@code run the job first}
     */
    public static CommittedRun open(Configuration hadoop, JobConfig given, Integer round, boolean base, String hint)
            throws IOException {
        RunStore store = new RunStore(URI.create(given.output().dir()), hadoop);
        JobConfig cfg = committedConfig(store, given);
        RunStore.CommittedRound cr = base ? null : store.readRoundOrLast(round, hint);
        FederatedMethod method = Methods.create(cfg);
        try {
            ClientModel configured = ClientModel.configured(method.clientModelUri());
            ClientModel cm = cr == null ? configured : ClientModel.fromManifest(cr.metadata(), store.base(), configured);
            Map<String, float[]> state = cr == null ? Map.of() : RoundCheckpoint.readState(cr, "method_state.safetensors");
            method.restoreState(state);
            return new CommittedRun(store, cfg, method, hadoop, cr, cm, state);
        } catch (IOException | RuntimeException e) {
            method.close();
            throw e;
        }
    }

    /** The configuration committed with the run in {@code output.dir}, else {@code given}. */
    public static JobConfig committedConfig(RunStore store, JobConfig given) throws IOException {
        if (!store.exists("config.yaml")) {
            return given;
        }
        return ConfigLoader.fromYaml(store.readString("config.yaml"), store.base() + "/config.yaml");
    }

    public RunStore store() {
        return store;
    }

    /** The committed configuration (the given one when the run has none yet). */
    public JobConfig config() {
        return config;
    }

    public FederatedMethod method() {
        return method;
    }

    /** Whether this is the bare client model ({@code --base}), without a round. */
    public boolean base() {
        return round == null;
    }

    /** The committed round read, or 0 for {@link #base()}. */
    public int round() {
        return round == null ? 0 : round.round();
    }

    /** {@code round-N}, or {@code base}. */
    public String what() {
        return round == null ? "base" : "round-" + round.round();
    }

    /** The client model in force at the round (the configured one for {@link #base()}). */
    public ClientModel clientModel() {
        return clientModel;
    }

    /** The round's committed method state (empty for {@link #base()}). */
    public Map<String, float[]> methodState() {
        return methodState;
    }

    /** The client model's directory on this machine (fetched once into the model cache). */
    public Path localClientModel() throws IOException {
        return ExecutorModelCache.localDir(clientModel.uri(), hadoop);
    }

    /** Client settings for evaluation and export (one step, no proximal term) on the client model in force. */
    public TrainSettings settings(int padId) {
        return JobSettings.settings(config, clientModel.uri(), padId, 1, 0, HadoopConf.of(hadoop));
    }

    /** The LoRA layout of {@code settings} on the loaded client model (name → shape, in the global vector's order). */
    public static Map<String, long[]> layout(DecoderModel clientModel, TrainSettings settings) {
        try (NDManager m = clientModel.manager().newSubManager();
                LoraAdapter init = LoraAdapter.create(clientModel, settings.lora(), 0, m)) {
            return AdapterVectors.layoutOf(init.exportTensors());
        }
    }

    /** The round's global adapter in {@code layout}, or null for {@link #base()}. */
    public float[] global(Map<String, long[]> layout) throws IOException {
        return round == null ? null : RoundCheckpoint.readVector(round.files().get("global.safetensors"), layout);
    }

    /**
     * The client model with the round's global adapter (the bare client model for {@link #base()}).
     *
     * @param layout the adapter layout ({@link #layout}); may be null for {@link #base()}
     */
    public ServerModel.Adapted clientServerModel(Map<String, long[]> layout) throws IOException {
        return new ServerModel.Adapted(clientModel.uri(), layout, global(layout));
    }

    /**
     * What the method's server holds for the round ({@link FederatedMethod#serverModel}); the client
     * model itself unless the method says otherwise, and always for {@link #base()}.
     */
    public ServerModel serverModel(ServerModel.Adapted client) {
        return round == null ? client : method.serverModel(client);
    }

    @Override
    public void close() {
        method.close();
    }
}
