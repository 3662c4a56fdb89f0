package dev.understudy.job.engine;

import ai.djl.ndarray.NDManager;
import dev.understudy.ops.infer.ModelLogitSource;
import dev.understudy.ops.infer.ProxyLogitSource;
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
 * Per-client evaluation of the proxy-tuned large model {@code z_large + α (z_small+θ − z_small)}
 * (Liu et al. 2024, arXiv 2401.08565; FedPT's inference, methods.md §1) on the executors: each
 * executor loads the large and the small base model once (ExecutorModelCache) and scores its
 * clients' held-out rows with the three models teacher-forced. With {@code global == null} it
 * scores the large base alone.
 */
public final class ProxyEvalFunction implements FlatMapFunction<Iterator<Tuple2<String, ClientData>>, EvalFunction.ClientEval> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<float[]> global;
    private final Map<String, long[]> layout;
    private final TrainSettings settings;
    private final String largeUri;
    private final double alpha;
    private final EvalFunction.Labels labels;

    public ProxyEvalFunction(Broadcast<float[]> global, Map<String, long[]> layout, TrainSettings settings, String largeUri,
            double alpha, EvalFunction.Labels labels) {
        this.global = global;
        this.layout = layout;
        this.settings = settings;
        this.largeUri = largeUri;
        this.alpha = alpha;
        this.labels = labels;
    }

    @Override
    public Iterator<EvalFunction.ClientEval> call(Iterator<Tuple2<String, ClientData>> clients) {
        List<EvalFunction.ClientEval> out = new ArrayList<>();
        Scorer scorer = null;
        NDManager m = null;
        LoraAdapter lora = null;
        try {
            while (clients.hasNext()) {
                ClientData data = clients.next()._2();
                if (data.eval().isEmpty()) {
                    continue;
                }
                if (scorer == null) {
                    DecoderModel large = ExecutorModelCache.get(largeUri, settings.hadoop());
                    ModelLogitSource largeSource = new ModelLogitSource(large, null, settings.padId());
                    if (global == null) {
                        scorer = new Scorer(large, null, settings.batchSize(), settings.padId());
                    } else {
                        DecoderModel small = ExecutorModelCache.get(settings.modelUri(), settings.hadoop());
                        m = small.manager().newSubManager();
                        lora = LoraAdapter.create(small, settings.lora(), 0, m);
                        lora.load(AdapterVectors.unflatten(layout, global.value()));
                        scorer = new Scorer(ProxyLogitSource.of(largeSource, small, lora, alpha, settings.padId()),
                                settings.batchSize(), m);
                    }
                }
                out.add(EvalFunction.evaluate(scorer, data, labels));
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
