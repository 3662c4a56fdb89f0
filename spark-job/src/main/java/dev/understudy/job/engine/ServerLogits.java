package dev.understudy.job.engine;

import dev.understudy.ops.infer.LogitSource;
import dev.understudy.ops.infer.ModelLogitSource;
import dev.understudy.ops.infer.ProxyLogitSource;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import ai.djl.ndarray.NDManager;
import java.io.IOException;

/**
 * A {@link ServerModel} run on the driver as a {@link LogitSource} (for {@code generate}): the
 * value's kind says how the models combine, so the caller needs to know no method.
 */
public final class ServerLogits implements AutoCloseable {
    private final NDManager manager;
    private final LoraAdapter adapter;
    private final LogitSource logits;

    private ServerLogits(NDManager manager, LoraAdapter adapter, LogitSource logits) {
        this.manager = manager;
        this.adapter = adapter;
        this.logits = logits;
    }

    /**
     * @param models where the value's model URIs are loaded (and stay owned)
     * @param lora the LoRA shape of the value's adapter (the run's {@code model.lora})
     * @param padId the client tokenizer's pad id
     */
    public static ServerLogits open(ServerModel model, DriverModels models, LoraConfig lora, int padId) throws IOException {
        // the kinds are a sealed set: a new kind adds its combination here
        String smallUri = model instanceof ServerModel.Adapted a ? a.modelUri() : ((ServerModel.ProxyTuned) model).smallUri();
        float[] vector = model instanceof ServerModel.Adapted a ? a.adapter() : ((ServerModel.ProxyTuned) model).expert();
        java.util.Map<String, long[]> layout = model instanceof ServerModel.Adapted a ? a.layout()
                : ((ServerModel.ProxyTuned) model).layout();
        DecoderModel small = models.get(smallUri);
        NDManager m = small.manager().newSubManager();
        LoraAdapter adapter = null;
        try {
            if (vector != null) {
                adapter = LoraAdapter.create(small, lora, 0, m);
                adapter.load(AdapterVectors.unflatten(layout, vector));
            }
            LogitSource source;
            if (model instanceof ServerModel.ProxyTuned p) {
                LogitSource large = new ModelLogitSource(models.get(p.largeUri()), null, padId);
                source = adapter == null ? large : ProxyLogitSource.of(large, small, adapter, p.alpha(), padId);
            } else {
                source = new ModelLogitSource(small, adapter, padId);
            }
            return new ServerLogits(m, adapter, source);
        } catch (IOException | RuntimeException e) {
            if (adapter != null) {
                adapter.close();
            }
            m.close();
            throw e;
        }
    }

    public LogitSource logits() {
        return logits;
    }

    @Override
    public void close() {
        if (adapter != null) {
            adapter.close();
        }
        manager.close();
    }
}
