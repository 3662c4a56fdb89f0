package dev.understudy.job.engine;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.job.storage.HadoopModelSource;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;

/**
 * The frozen base model, loaded once per executor JVM and shared read-only by the tasks of that
 * JVM (the forward pass is thread-safe; each task trains its own adapter). Keyed by model URI: a
 * task asking for another URI replaces (and closes) the cached model, which is how a job that
 * changes models releases the old one.
 */
public final class ExecutorModelCache {
    private ExecutorModelCache() {}

    private static String uri;
    private static NDManager manager;
    private static DecoderModel model;
    private static String tokenizerUri;
    private static dev.understudy.ops.tokenizer.Tokenizer tokenizer;

    /** The tokenizer of the model directory at {@code modelUri}, loaded once per executor JVM. */
    public static synchronized dev.understudy.ops.tokenizer.Tokenizer tokenizer(String modelUri) {
        if (tokenizer != null && modelUri.equals(tokenizerUri)) {
            return tokenizer;
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
        try {
            Path local = localDir(modelUri);
            tokenizer = dev.understudy.ops.tokenizer.Tokenizer.load(local);
            tokenizerUri = modelUri;
            return tokenizer;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the tokenizer of " + modelUri + " on this executor", e);
        }
    }

    /** The model directory on local disk (copied from a remote filesystem once per JVM). */
    public static Path localDir(String modelUri) throws IOException {
        HadoopModelSource src = new HadoopModelSource(URI.create(modelUri), new Configuration());
        return src.localCopy(Path.of(System.getProperty("java.io.tmpdir"), "understudy-models"));
    }

    /** The model at {@code modelUri}, loading it (copied to local disk first if remote) on first use. */
    public static synchronized DecoderModel get(String modelUri) {
        if (model != null && modelUri.equals(uri)) {
            return model;
        }
        invalidate();
        try {
            Path local = localDir(modelUri);
            NDManager m = NDManager.newBaseManager("PyTorch");
            model = HfModels.load(local, m, DataType.FLOAT32);
            manager = m;
            uri = modelUri;
            return model;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load base model " + modelUri + " on this executor", e);
        }
    }

    /** Drops the cached model (e.g. when a job finishes or switches models). */
    public static synchronized void invalidate() {
        if (model != null) {
            model.close();
            manager.close();
        }
        model = null;
        manager = null;
        uri = null;
    }
}
