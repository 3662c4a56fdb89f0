package dev.understudy.job.engine;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * Models loaded on the driver by URI (float32), each once, closed together: what a {@link
 * ServerModel} needs when the driver itself runs it ({@link ServerLogits}).
 */
public final class DriverModels implements AutoCloseable {
    private final Configuration hadoop;
    private final Map<String, DecoderModel> loaded = new LinkedHashMap<>();
    private final List<NDManager> managers = new ArrayList<>();

    /** @param hadoop the driver's Hadoop settings, to reach remote model directories */
    public DriverModels(Configuration hadoop) {
        this.hadoop = hadoop;
    }

    /** The model at {@code uri}, loaded on first use. */
    public DecoderModel get(String uri) throws IOException {
        DecoderModel m = loaded.get(uri);
        if (m == null) {
            NDManager manager = NDManager.newBaseManager("PyTorch");
            try {
                m = HfModels.load(ExecutorModelCache.localDir(uri, hadoop), manager, DataType.FLOAT32);
            } catch (IOException | RuntimeException e) {
                manager.close();
                throw e;
            }
            managers.add(manager);
            loaded.put(uri, m);
        }
        return m;
    }

    @Override
    public void close() {
        loaded.values().forEach(DecoderModel::close);
        loaded.clear();
        managers.forEach(NDManager::close);
        managers.clear();
    }
}
