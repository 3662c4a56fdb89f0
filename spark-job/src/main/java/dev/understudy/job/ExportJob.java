package dev.understudy.job;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.engine.RoundCheckpoint;
import dev.understudy.job.engine.ServerModel;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.job.method.MergedExport;
import dev.understudy.job.run.CommittedRun;
import dev.understudy.job.storage.HadoopModelSink;
import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.IOException;
import java.net.URI;
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
        try (CommittedRun run = CommittedRun.open(hadoop, given, round, false, "run the job first")) {
            RunStore store = run.store();
            int r = run.round();
            String clientUri = run.clientModel().uri();
            try (NDManager m = NDManager.newBaseManager("PyTorch");
                    DecoderModel base = HfModels.load(run.localClientModel(), m, DataType.FLOAT32)) {
                TrainSettings settings;
                try (Tokenizer tok = Tokenizer.load(run.localClientModel())) {
                    settings = run.settings(tok.padIdOrEos());
                }
                // the client model in force at the round with the global adapter (FederatedMethod#serverModel's client)
                ServerModel.Adapted adapted = run.clientServerModel(CommittedRun.layout(base, settings));
                String peftDir = peftUri;
                if (peftDir == null) { // the merge reads a PEFT directory: stage one next to the run's rounds
                    peftDir = store.base() + "/exports/round-" + r + "-adapter";
                }
                RoundCheckpoint.writePeft(new HadoopModelSink(URI.create(peftDir), hadoop), base, settings, adapted.adapter(),
                        adapted.layout());
                if (peftUri != null) {
                    System.out.println("exported round " + r + " of " + store.base() + " as a PEFT adapter to " + peftUri);
                }
            }
            if (mergedUri != null) {
                String peftDir = peftUri != null ? peftUri : store.base() + "/exports/round-" + r + "-adapter";
                MergedExport.write(store.modelSource(URI.create(clientUri)), store.modelSource(URI.create(peftDir)),
                        new HadoopModelSink(URI.create(mergedUri), hadoop));
            }
            return new Result(r, peftUri, mergedUri);
        }
    }
}
