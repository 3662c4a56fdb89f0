package dev.understudy.job.engine;

import ai.djl.ndarray.NDManager;
import dev.understudy.ops.infer.Scorer;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.privacy.MembershipAuc;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * Executor side of the membership-inference audit (privacy.md; Yeom et al. 2018 loss attack and the
 * reference-model likelihood ratio of Carlini et al. 2022 with the base model as the reference):
 * scores each client's training rows (members) and held-out rows (non-members) with the tuned model
 * and with the base model, and returns one partition's two mergeable histograms. No row, score or
 * loss leaves the task: only bin counts.
 *
 * <p>Scores, higher meaning "member": {@code loss}: −(mean response NLL under the tuned model);
 * {@code ratio}: NLL under the base − NLL under the tuned model.
 */
public final class MembershipAuditFunction
        implements FlatMapFunction<Iterator<Tuple2<String, ClientData>>, MembershipAuditFunction.Partial> {
    private static final long serialVersionUID = 1L;

    /** Histogram ranges (nats); scores outside fall in the end bins. */
    public static final int BINS = 8192;

    /** One partition's histograms (a class, not a record: Kryo serialises it field by field). */
    public static final class Partial implements Serializable {
        private static final long serialVersionUID = 1L;
        private MembershipAuc.Histogram loss;
        private MembershipAuc.Histogram ratio;

        public static Partial empty() {
            Partial p = new Partial();
            p.loss = new MembershipAuc.Histogram(-30, 0, BINS);
            p.ratio = new MembershipAuc.Histogram(-15, 15, BINS);
            return p;
        }

        public MembershipAuc.Histogram loss() {
            return loss;
        }

        public MembershipAuc.Histogram ratio() {
            return ratio;
        }

        /** Merges {@code o} into this (returns this). */
        public Partial merge(Partial o) {
            loss = loss.merge(o.loss);
            ratio = ratio.merge(o.ratio);
            return this;
        }
    }

    private final Broadcast<float[]> global;
    private final Map<String, long[]> layout;
    private final TrainSettings settings;

    public MembershipAuditFunction(Broadcast<float[]> global, Map<String, long[]> layout, TrainSettings settings) {
        this.global = global;
        this.layout = layout;
        this.settings = settings;
    }

    @Override
    public Iterator<Partial> call(Iterator<Tuple2<String, ClientData>> clients) {
        Partial p = Partial.empty();
        DecoderModel base = ExecutorModelCache.get(settings.modelUri(), TaskDevices.gpuIndex(), settings.hadoop());
        try (NDManager m = base.manager().newSubManager();
                LoraAdapter lora = LoraAdapter.create(base, settings.lora(), 0, m)) {
            lora.load(AdapterVectors.unflatten(layout, global.value()));
            Scorer tuned = new Scorer(base, lora, settings.batchSize(), settings.padId());
            Scorer reference = new Scorer(base, null, settings.batchSize(), settings.padId());
            while (clients.hasNext()) {
                ClientData data = clients.next()._2();
                add(p, tuned, reference, data.train(), true);
                add(p, tuned, reference, data.eval(), false);
            }
        }
        return List.of(p).iterator();
    }

    private static void add(Partial p, Scorer tuned, Scorer reference, List<ClientData.Tokens> rows, boolean member) {
        if (rows.isEmpty()) {
            return;
        }
        double[] t = meanNll(tuned, rows);
        double[] r = meanNll(reference, rows);
        for (int i = 0; i < t.length; i++) {
            if (Double.isNaN(t[i])) {
                continue; // no response token: nothing to score
            }
            p.loss().add(-t[i], member);
            p.ratio().add(r[i] - t[i], member);
        }
    }

    /** Mean response NLL of each row (NaN without response tokens). */
    static double[] meanNll(Scorer scorer, List<ClientData.Tokens> rows) {
        List<int[]> seqs = new ArrayList<>(rows.size());
        rows.forEach(t -> seqs.add(t.ids()));
        double[][] lp = scorer.tokenLogProbs(seqs);
        double[] out = new double[lp.length];
        for (int i = 0; i < lp.length; i++) {
            int from = Math.max(1, rows.get(i).promptLength()) - 1;
            double nll = 0;
            int n = 0;
            for (int j = from; j < lp[i].length; j++) {
                nll -= lp[i][j];
                n++;
            }
            out[i] = n == 0 ? Double.NaN : nll / n;
        }
        return out;
    }
}
