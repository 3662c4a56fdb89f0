package dev.understudy.job.engine;

import ai.djl.ndarray.NDManager;
import dev.understudy.ops.infer.Scorer;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * Per-client evaluation of the global adapter (or of the bare base model when the broadcast is
 * null) on each client's held-out examples, run as one Spark job: the response negative
 * log-likelihood and its token count, and, for classification data, the accuracy of label scoring
 * (the label whose response tokens are most likely after the prompt; Scorer#pickLabels).
 */
public final class EvalFunction implements FlatMapFunction<Iterator<Tuple2<String, ClientData>>, EvalFunction.ClientEval> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<float[]> global;
    private final Map<String, long[]> layout;
    private final TrainSettings settings;
    private final Labels labels;

    /**
     * The candidate responses of a classification task, tokenised exactly as the examples'
     * responses are (response + EOS, encoded apart from the prompt).
     *
     * @param names label values, in candidate order
     * @param responses token ids of each label's response
     */
    public record Labels(List<String> names, List<int[]> responses) implements Serializable {
        public Labels {
            if (names.size() != responses.size() || names.size() < 2) {
                throw new IllegalArgumentException("label scoring needs at least two labels with one response each, got "
                        + names + " / " + responses.size());
            }
        }

        /** Index of the candidate equal to {@code response}, or −1 (e.g. a truncated response). */
        int indexOf(int[] response) {
            for (int i = 0; i < responses.size(); i++) {
                if (Arrays.equals(responses.get(i), response)) {
                    return i;
                }
            }
            return -1;
        }
    }

    public EvalFunction(Broadcast<float[]> global, Map<String, long[]> layout, TrainSettings settings, Labels labels) {
        this.global = global;
        this.layout = layout;
        this.settings = settings;
        this.labels = labels;
    }

    public EvalFunction(Broadcast<float[]> global, Map<String, long[]> layout, TrainSettings settings) {
        this(global, layout, settings, null);
    }

    /**
     * One client's held-out figures.
     *
     * @param nll summed response negative log-likelihood (nats)
     * @param tokens response tokens it covers
     * @param correct examples whose label scoring picked the true label
     * @param scored examples scored for accuracy (0 without labels; excludes responses matching no label)
     * @param examples held-out examples
     */
    public record ClientEval(String clientId, double nll, long tokens, long correct, long scored, long examples)
            implements Serializable {
        public double loss() {
            return tokens == 0 ? Double.NaN : nll / tokens;
        }

        public double accuracy() {
            return scored == 0 ? Double.NaN : (double) correct / scored;
        }
    }

    /** A JSON/Parquet row of one client's evaluation in {@code round}. */
    public static Map<String, Object> row(int round, ClientEval e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("round", round);
        m.put("client_id", e.clientId());
        m.put("examples", e.examples());
        m.put("tokens", e.tokens());
        m.put("loss", e.loss());
        m.put("perplexity", Math.exp(e.loss()));
        m.put("accuracy", e.accuracy());
        return m;
    }

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
                    base = ExecutorModelCache.get(settings.modelUri(), TaskDevices.gpuIndex(), settings.hadoop());
                    if (global != null) {
                        m = base.manager().newSubManager();
                        lora = LoraAdapter.create(base, settings.lora(), 0, m);
                        lora.load(AdapterVectors.unflatten(layout, global.value()));
                    }
                }
                out.add(evaluate(new Scorer(base, lora, settings.batchSize(), settings.padId()), data, labels));
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

    /** Loss (and accuracy, with labels) of one client's held-out examples. */
    public static ClientEval evaluate(Scorer scorer, ClientData data, Labels labels) {
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
        long correct = 0;
        long scored = 0;
        if (labels != null) {
            List<int[]> prompts = new ArrayList<>();
            List<Integer> truth = new ArrayList<>();
            for (ClientData.Tokens t : data.eval()) {
                int[] ids = t.ids();
                int truthIdx = labels.indexOf(Arrays.copyOfRange(ids, t.promptLength(), ids.length));
                if (truthIdx >= 0) {
                    prompts.add(Arrays.copyOf(ids, t.promptLength()));
                    truth.add(truthIdx);
                }
            }
            if (!prompts.isEmpty()) {
                int[] picked = scorer.pickLabels(prompts, labels.responses());
                for (int i = 0; i < picked.length; i++) {
                    if (picked[i] == truth.get(i)) {
                        correct++;
                    }
                }
                scored = prompts.size();
            }
        }
        return new ClientEval(data.clientId(), nll, n, correct, scored, data.eval().size());
    }
}
