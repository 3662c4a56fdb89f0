package dev.understudy.job.engine;

import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.privacy.DpClipping;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * DP-FedAvg's client side: runs the method's task, then clips the client's whole update to L2 norm
 * {@code clipNorm} ({@link DpClipping}) inside the task, on the executor, so no unclipped update
 * ever leaves it or enters a partial sum. The result carries weight 1 (a data-dependent weight
 * would raise the sensitivity above C, and the client's row count is itself private) and the
 * statistic {@value #CLIPPED} (1 if this update was scaled down), which the engine sums for the
 * clipped fraction and adaptive clipping.
 */
final class ClippingClientTask implements ClientTask {
    private static final long serialVersionUID = 1L;

    /** The statistic counting clipped clients. */
    static final String CLIPPED = "dp.clipped";

    private final ClientTask inner;
    private final float clipNorm;

    ClippingClientTask(ClientTask inner, float clipNorm) {
        this.inner = inner;
        this.clipNorm = clipNorm;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public Map<String, HostTensor> initialState(DecoderModel clientModel, TrainSettings settings) {
        return inner.initialState(clientModel, settings);
    }

    @Override
    public ClientResult train(Round round, ClientData data) {
        return clip(inner.train(round, data), clipNorm);
    }

    /** {@code r} with its delta clipped to {@code clipNorm}, weight 1 and the clipped bit; failures unchanged. */
    static ClientResult clip(ClientResult r, float clipNorm) {
        if (!r.ok()) {
            return r;
        }
        DpClipping.Clipped c = DpClipping.clip(r.delta(), clipNorm);
        Map<String, double[]> stats = new TreeMap<>(r.statistics());
        stats.put(CLIPPED, new double[] {c.clipped() ? 1 : 0});
        return new ClientResult(r.clientId(), r.round(), 1, c.delta(), r.trainLoss(), r.trainTokens(), r.trainSeconds(),
                r.attempt(), null, stats);
    }

    @Override
    public void writeFinal(ModelSink sink, DecoderModel clientModel, TrainSettings settings, float[] global,
            Map<String, long[]> layout) throws IOException {
        inner.writeFinal(sink, clientModel, settings, global, layout);
    }
}
