package dev.understudy.job.engine;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.storage.HadoopConf;
import dev.understudy.job.storage.HadoopModelSource;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.Devices;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * Frozen base models, loaded once per executor JVM (and device) and shared read-only by the tasks
 * of that JVM (the forward pass is thread-safe; each task trains its own adapter). Keyed by model
 * URI and device: a task on GPU 1 gets its own copy on {@code cuda:1}. At most {@link #maxModels()}
 * distinct URIs stay loaded (least recently used first out, closing its native memory), so a job
 * that changes models releases the old one while a method that needs two (a small and a large
 * model) keeps both. The limit is the system property {@code understudy.executor.max_models}
 * (default 2). A model a running task got is never closed under it: eviction removes it from the
 * cache at once and its last task's end closes it.
 */
public final class ExecutorModelCache {
    private ExecutorModelCache() {}

    /** A loaded model and the tasks using it; closed when dropped and no task uses it any more. */
    static final class Loaded {
        final NDManager manager;
        final DecoderModel model;
        int users;
        boolean dropped;
        boolean closed;

        Loaded(NDManager manager, DecoderModel model) {
            this.manager = manager;
            this.model = model;
        }

        DecoderModel model() {
            return model;
        }
    }

    private static final Map<String, Loaded> MODELS = new LinkedHashMap<>(4, 0.75f, true); // access order
    private static final Map<String, Tokenizer> TOKENIZERS = new LinkedHashMap<>(4, 0.75f, true);

    static int maxModels() {
        return Math.max(1, Integer.getInteger("understudy.executor.max_models", 2));
    }

    /**
     * The tokenizer of the model directory at {@code modelUri}, loaded once per executor JVM.
     *
     * @param hadoop the driver's Hadoop settings, to reach a remote {@code modelUri}
     */
    public static synchronized Tokenizer tokenizer(String modelUri, HadoopConf hadoop) {
        Tokenizer t = TOKENIZERS.get(modelUri);
        if (t != null) {
            return t;
        }
        try {
            t = Tokenizer.load(localDir(modelUri, hadoop.toConfiguration()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the tokenizer of " + modelUri + " on this executor", e);
        }
        TOKENIZERS.put(modelUri, t);
        evict(TOKENIZERS, Tokenizer::close);
        return t;
    }

    /**
     * The model directory on local disk: a {@code file:} URI in place, a remote one copied under
     * {@code java.io.tmpdir/understudy-models} once per host (see {@link HadoopModelSource#localCopy}).
     *
     * @param conf Hadoop settings to reach a remote {@code modelUri} (the driver's, or {@link HadoopConf#toConfiguration})
     */
    public static Path localDir(String modelUri, Configuration conf) throws IOException {
        HadoopModelSource src = new HadoopModelSource(URI.create(modelUri), conf);
        if ("file".equals(new org.apache.hadoop.fs.Path(modelUri).getFileSystem(conf).getUri().getScheme())) {
            return src.localCopy(null); // used in place
        }
        return src.localCopy(dev.understudy.job.storage.VerifiedCopy.privateRoot(Path.of(System.getProperty("java.io.tmpdir"))));
    }

    /**
     * The model at {@code modelUri} on the calling task's device ({@link TaskDevices}).
     *
     * @param hadoop the driver's Hadoop settings, to reach a remote {@code modelUri}
     */
    public static DecoderModel get(String modelUri, HadoopConf hadoop) {
        return get(modelUri, TaskDevices.gpuIndex(), hadoop);
    }

    /** The model at {@code modelUri} on {@code cuda:gpuIndex} (CPU for −1), loading it on first use. */
    public static synchronized DecoderModel get(String modelUri, int gpuIndex, HadoopConf hadoop) {
        Loaded l = acquire(modelUri, gpuIndex, hadoop);
        org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
        if (task != null) { // in use until the task ends: eviction meanwhile defers the close
            task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> release(l));
        } else {
            release(l); // driver or test code: not pinned
        }
        return l.model();
    }

    /** The loaded model, counted as used until {@link #release}. */
    static synchronized Loaded acquire(String modelUri, int gpuIndex, HadoopConf hadoop) {
        String key = gpuIndex + "|" + modelUri;
        Loaded l = MODELS.get(key);
        if (l != null) {
            l.users++;
            return l;
        }
        NDManager m = NDManager.newBaseManager(Devices.select(gpuIndex), "PyTorch");
        try {
            l = new Loaded(m, HfModels.load(localDir(modelUri, hadoop.toConfiguration()), m, DataType.FLOAT32));
        } catch (IOException | RuntimeException e) {
            m.close();
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot load base model " + modelUri + " on this executor", io);
            }
            throw (RuntimeException) e;
        }
        l.users++;
        MODELS.put(key, l);
        // evict by URI: all devices' copies of the least recently used URIs beyond the limit
        List<String> uris = new ArrayList<>();
        for (String k : MODELS.keySet()) {
            String u = k.substring(k.indexOf('|') + 1);
            uris.remove(u);
            uris.add(u); // most recent last
        }
        while (uris.size() > maxModels()) {
            String drop = uris.remove(0);
            for (Iterator<Map.Entry<String, Loaded>> it = MODELS.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, Loaded> e = it.next();
                if (e.getKey().endsWith("|" + drop)) {
                    close(e.getValue());
                    it.remove();
                }
            }
        }
        return l;
    }

    /** Ends one use; a model dropped meanwhile is closed by its last user. */
    static synchronized void release(Loaded l) {
        l.users--;
        if (l.users == 0 && l.dropped) {
            close(l);
        }
    }

    /**
     * Closes and drops every cached copy of the models at {@code uris} (earlier versions of a
     * client model the method has replaced, {@link ClientModel}); a no-op for URIs not loaded.
     */
    public static synchronized void retire(java.util.Collection<String> uris) {
        if (uris.isEmpty()) {
            return;
        }
        for (Iterator<Map.Entry<String, Loaded>> it = MODELS.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Loaded> e = it.next();
            if (uris.contains(e.getKey().substring(e.getKey().indexOf('|') + 1))) {
                close(e.getValue());
                it.remove();
            }
        }
    }

    /** Whether a copy of the model at {@code modelUri} is loaded in this JVM (on any device). */
    public static synchronized boolean isLoaded(String modelUri) {
        return MODELS.keySet().stream().anyMatch(k -> k.endsWith("|" + modelUri));
    }

    private static <T> void evict(Map<String, T> map, java.util.function.Consumer<T> close) {
        while (map.size() > maxModels()) {
            Iterator<Map.Entry<String, T>> it = map.entrySet().iterator();
            close.accept(it.next().getValue());
            it.remove();
        }
    }

    /** Drops a model from the cache; its native memory is freed now, or by its last user's release. */
    private static void close(Loaded l) {
        l.dropped = true;
        if (l.users > 0 || l.closed) {
            return;
        }
        l.closed = true;
        l.model.close();
        l.manager.close();
    }

    /** Drops every cached model and tokenizer (e.g. when a job finishes). */
    public static synchronized void invalidate() {
        MODELS.values().forEach(ExecutorModelCache::close);
        MODELS.clear();
        TOKENIZERS.values().forEach(Tokenizer::close);
        TOKENIZERS.clear();
    }
}
