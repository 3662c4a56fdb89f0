package dev.understudy.job;

import dev.understudy.job.config.ConfigLoader;
import dev.understudy.job.config.JobConfig;
import dev.understudy.job.storage.OutputLease;
import dev.understudy.job.storage.OwnedEntries;
import dev.understudy.job.storage.RunStore;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * How {@code run} and {@code resume} take over {@code output.dir} before any Spark work: take its
 * lease ({@link OutputLease}); refuse a {@code run} into a directory with committed rounds unless
 * {@code output.overwrite=true}, which deletes only Understudy's entries ({@link OwnedEntries}); on
 * {@code resume}, merge the committed configuration with the keys a resume may change ({@link
 * ResumeConfig}).
 *
 * @param lease the run directory's lease, held until {@link #close}
 * @param store the run directory, whose round commits first check the lease
 * @param config the configuration the run goes on with
 */
public record RunStart(OutputLease lease, RunStore store, JobConfig config) implements AutoCloseable {

    public static RunStart open(Configuration hadoop, JobConfig cfg, boolean resume) throws IOException {
        URI dir = URI.create(cfg.output().dir());
        OutputLease lease = OutputLease.acquire(dir, hadoop, resume ? "resume" : "run");
        try {
            RunStore store = new RunStore(dir, hadoop, cfg.output().keepRounds());
            List<Integer> committed = store.committedRounds();
            if (!committed.isEmpty() && !resume) {
                if (!cfg.output().overwrite()) {
                    throw new IllegalStateException("output.dir " + cfg.output().dir() + " already holds " + committed.size()
                            + " committed round(s); run `understudy resume` to continue it, or set output.overwrite=true"
                            + " to start over");
                }
                OwnedEntries.overwrite(dir, hadoop, inputs(cfg));
            }
            if (resume && !committed.isEmpty()) {
                int last = committed.get(committed.size() - 1);
                String saved = store.readString(RunStore.roundDir(last) + "/config.yaml");
                JobConfig savedCfg = ConfigLoader.fromYaml(saved, cfg.output().dir() + "/" + RunStore.roundDir(last)
                        + "/config.yaml");
                cfg = ResumeConfig.merge(savedCfg, cfg, "resume of " + cfg.output().dir(), last);
                store = new RunStore(dir, hadoop, cfg.output().keepRounds());
            }
            store.beforeCommit(lease::verify);
            return new RunStart(lease, store, cfg);
        } catch (IOException | RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    /** The job's input URIs, which an overwrite must not delete. */
    static List<String> inputs(JobConfig cfg) {
        List<String> in = new ArrayList<>();
        in.add(cfg.data().path());
        in.add(cfg.data().evalPath());
        in.add(cfg.model().base());
        for (Map.Entry<String, Object> e : cfg.methodParams().entrySet()) {
            if (e.getValue() instanceof String s && (s.contains("/") || s.contains(":"))) {
                in.add(s); // e.g. FedPT's large model
            }
        }
        return in;
    }

    @Override
    public void close() throws IOException {
        lease.close();
    }
}
