package dev.understudy.ops.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;

/**
 * Per-layer key/value cache for incremental decoding. Keys and values are held as {@code [B, KV,
 * T_past, head_dim]} after rotary embedding, in a manager owned by the cache, so they survive the
 * per-step {@link NDScope}s of the caller. Close the cache to release them.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int length;

    /** Creates an empty cache for {@code layers} layers whose arrays live under {@code parent}. */
    public KvCache(NDManager parent, int layers) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    /** Number of positions already cached. */
    public int length() {
        return length;
    }

    NDArray keys(int layer) {
        return keys[layer];
    }

    NDArray values(int layer) {
        return values[layer];
    }

    /** Replaces the cached keys/values of one layer with the (longer) concatenated arrays. */
    void put(int layer, NDArray k, NDArray v) {
        NDScope.unregister(k, v);
        k.attach(manager);
        v.attach(manager);
        if (keys[layer] != null) {
            keys[layer].close();
            values[layer].close();
        }
        keys[layer] = k;
        values[layer] = v;
    }

    /** Called by the model once all layers have been updated for a forward pass of {@code added} positions. */
    void advance(int added) {
        length += added;
    }

    @Override
    public void close() {
        manager.close();
    }
}
