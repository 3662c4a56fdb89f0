package dev.understudy.job.engine;

import ai.djl.ndarray.NDManager;
import dev.understudy.ops.infer.Scorer;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * Per-client evaluation of the global adapter on each client's held-out examples: emits {@code
 * (clientId, nll sum, loss tokens)}, so the driver gets both the global loss and per-client figures.
 */
public final class EvalFunction implements FlatMapFunction<Iterator<Tuple2<String, ClientData>>, EvalFunction.ClientEval> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<float[]> global;
    private final Map<String, long[]> layout;
    private final TrainSettings settings;

    public EvalFunction(Broadcast<float[]> global, Map<String, long[]> layout, TrainSettings settings) {
        this.global = global;
        this.layout = layout;
        this.settings = settings;
    }

    /** One client's held-out negative log-likelihood and the number of tokens it covers. */
    public record ClientEval(String clientId, double nll, long tokens) implements java.io.Serializable {}

    @Override
    public Iterator<ClientEval> call(Iterator<Tuple2<String, ClientData>> clients) {
        List<ClientEval> out = new ArrayList<>();
        DecoderModel base = null;
        LoraAdapter lora = null;
        NDManager m = null;
        try {
            while (clients.hasNext()) {
                ClientData data = clients.next()._2();
                if (data.eval().isEmpty()) {
                    continue;
                }
                if (base == null) {
                    base = ExecutorModelCache.get(settings.modelUri());
                    m = base.manager().newSubManager();
                    lora = LoraAdapter.create(base, settings.lora(), 0, m);
                    lora.load(AdapterVectors.unflatten(layout, global.value()));
                }
                Scorer scorer = new Scorer(base, lora, settings.batchSize(), settings.padId());
                List<int[]> seqs = new ArrayList<>();
                for (ClientData.Tokens t : data.eval()) {
                    seqs.add(t.ids());
                }
                double[][] lp = scorer.tokenLogProbs(seqs);
                double nll = 0;
                long n = 0;
                for (int i = 0; i < lp.length; i++) {
                    int from = Math.max(1, data.eval().get(i).promptLength()) - 1;
                    for (int j = from; j < lp[i].length; j++) {
                        nll -= lp[i][j];
                        n++;
                    }
                }
                out.add(new ClientEval(data.clientId(), nll, n));
            }
        } finally {
            if (lora != null) {
                lora.close();
            }
            if (m != null) {
                m.close();
            }
        }
        return out.iterator();
    }
}
