package dev.understudy.job;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.AdapterVectors;
import dev.understudy.job.engine.ExecutorModelCache;
import dev.understudy.job.engine.FederatedMethod;
import dev.understudy.job.engine.RoundEngine;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.job.method.Methods;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.job.storage.HadoopModelSink;
import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * {@code understudy export}: writes a committed round's global adapter (by default the last) as a
 * PEFT adapter directory to any Hadoop URI. Needs no Spark job, only the Hadoop configuration.
 */
public final class ExportJob {
    private ExportJob() {}

    /** What was exported: the round, and where (null for what was not asked). */
    public record Result(int round, String peftUri, String mergedUri) {}

    /**
     * @param round committed round, or null for the last
     * @param peftUri where to write the PEFT adapter directory, or null
     * @param mergedUri where to write the merged model (base + adapter, streamed tensor by tensor), or null
     */
    public static Result run(Configuration hadoop, JobConfig given, Integer round, String peftUri, String mergedUri)
            throws IOException {
        if (peftUri == null && mergedUri == null) {
            throw new IllegalArgumentException("export needs --peft URI and/or --merged URI");
        }
        RunStore store = new RunStore(URI.create(given.output().dir()), hadoop);
        JobConfig cfg = EvaluateJob.committedConfig(store, given);
        RunStore.CommittedRound committed = store.readRoundOrLast(round, "run the job first");
        int r = committed.round();
        FederatedMethod method = Methods.create(cfg);
        Path localModel = ExecutorModelCache.localDir(method.clientModelUri(), hadoop);
        TrainSettings settings;
        try (Tokenizer tok = Tokenizer.load(localModel)) {
            settings = FederatedJob.settings(cfg, method.clientModelUri(), tok.padIdOrEos(), 1, 0, HadoopConf.of(hadoop));
        }
        byte[] bytes = committed.files().get("global.safetensors");
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel base = HfModels.load(localModel, m, DataType.FLOAT32)) {
            Map<String, long[]> layout;
            try (NDManager s = m.newSubManager(); LoraAdapter init = LoraAdapter.create(base, settings.lora(), 0, s)) {
                layout = AdapterVectors.layoutOf(init.exportTensors());
            }
            String peftDir = peftUri;
            if (peftDir == null) { // the merge reads a PEFT directory: stage one next to the run's rounds
                peftDir = store.base() + "/exports/round-" + r + "-adapter";
            }
            RoundEngine.writePeft(new HadoopModelSink(URI.create(peftDir), hadoop), base, settings,
                    RoundEngine.readVector(bytes, layout), layout);
            if (peftUri != null) {
                System.out.println("exported round " + r + " of " + store.base() + " as a PEFT adapter to " + peftUri);
            }
        }
        if (mergedUri != null) {
            String peftDir = peftUri != null ? peftUri : store.base() + "/exports/round-" + r + "-adapter";
            dev.understudy.job.method.MergedExport.write(store.modelSource(URI.create(method.clientModelUri())),
                    store.modelSource(URI.create(peftDir)), new HadoopModelSink(URI.create(mergedUri), hadoop));
        }
        return new Result(r, peftUri, mergedUri);
    }
}
