package dev.understudy.ops.infer;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.KvCache;
import dev.understudy.ops.model.ModuleAdapter;
import dev.understudy.ops.model.Ops;
import java.util.List;

/**
 * {@link LogitSource} over a local {@link DecoderModel} (plus optional adapter) with a KV cache.
 * Prompts of different lengths are left-padded, with position ids taken from the attention mask,
 * so every sequence continues from its own last token. Teacher-forced logits of whole sequences
 * ({@link SequenceLogits}) take one right-padded forward pass.
 */
public final class ModelLogitSource implements LogitSource, SequenceLogits {
    private final DecoderModel model;
    private final ModuleAdapter adapter;
    private final int padId;

    public ModelLogitSource(DecoderModel model, ModuleAdapter adapter, int padId) {
        this.model = model;
        this.adapter = adapter;
        this.padId = padId;
    }

    @Override
    public int vocabSize() {
        return model.config().vocabSize();
    }

    /** The model behind this source. */
    public DecoderModel model() {
        return model;
    }

    /** The adapter applied on top of the model, or null for the bare model. */
    public ModuleAdapter adapter() {
        return adapter;
    }

    @Override
    public NDArray sequenceLogits(List<int[]> sequences, NDManager manager) {
        checkArgument(!sequences.isEmpty(), "teacher forcing needs at least one sequence");
        int b = sequences.size();
        int t = TeacherForcing.maxLength(sequences);
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < b; i++) {
            int[] s = sequences.get(i);
            checkArgument(s.length >= 1, "teacher forcing needs non-empty sequences");
            for (int j = 0; j < s.length; j++) {
                ids[i * t + j] = s[j];
                mask[i * t + j] = 1;
            }
        }
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try {
            NDArray out;
            try (NDScope ignored = new NDScope(); NDManager m = model.manager().newSubManager()) {
                NDArray idArr = Ops.fromLongs(m, ids, new Shape(b, t));
                NDArray maskArr = Ops.fromLongs(m, mask, new Shape(b, t));
                NDArray logits = model.forward(idArr, maskArr, null, null, adapter, null); // (B, T, V)
                DataType dt = logits.getDataType();
                out = dt == DataType.FLOAT32 || dt == DataType.FLOAT64 ? logits : logits.toType(DataType.FLOAT32, false);
                if (!out.getDevice().equals(manager.getDevice())) {
                    out = out.toDevice(manager.getDevice(), false);
                }
                NDScope.unregister(out);
                out.attach(manager);
            }
            NDScope.register(out);
            return out;
        } finally {
            Ops.setGradMode(grad);
        }
    }

    @Override
    public DecodingSession start(List<int[]> prompts) {
        return new Session(prompts);
    }

    private final class Session implements DecodingSession {
        private final NDManager manager = model.manager().newSubManager();
        private final KvCache cache = new KvCache(manager, model.config().numLayers());
        private final int batch;
        private long[] mask; // (B, total) row-major, grows by one column per step
        private int total;
        private float[][] last;

        Session(List<int[]> prompts) {
            checkArgument(!prompts.isEmpty(), "generation needs at least one prompt");
            batch = prompts.size();
            int t = 0;
            for (int[] p : prompts) {
                checkArgument(p.length >= 1, "prompts must be non-empty");
                t = Math.max(t, p.length);
            }
            long[] ids = new long[batch * t];
            mask = new long[batch * t];
            for (int b = 0; b < batch; b++) {
                int[] p = prompts.get(b);
                int offset = t - p.length; // left padding
                for (int j = 0; j < t; j++) {
                    ids[b * t + j] = j < offset ? padId : p[j - offset];
                    mask[b * t + j] = j < offset ? 0 : 1;
                }
            }
            total = t;
            run(ids, t);
        }

        private void run(long[] ids, int t) {
            boolean grad = Ops.isGradMode();
            Ops.setGradMode(false);
            try (NDScope ignored = new NDScope(); NDManager m = manager.newSubManager()) {
                NDArray idArr = Ops.fromLongs(m, ids, new Shape(batch, t));
                NDArray maskArr = Ops.fromLongs(m, mask, new Shape(batch, total));
                NDArray logits = model.forward(idArr, maskArr, null, cache, adapter, null); // (B, t, V)
                NDArray lastPos = logits.get(":, -1, :").toType(DataType.FLOAT32, false); // (B, V)
                float[] flat = lastPos.toFloatArray();
                int v = model.config().vocabSize();
                last = new float[batch][v];
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(flat, b * v, last[b], 0, v);
                }
            } finally {
                Ops.setGradMode(grad);
            }
        }

        @Override
        public float[][] nextLogits() {
            return last;
        }

        @Override
        public void append(int[] tokens) {
            checkArgument(tokens.length == batch, "append needs %s tokens, got %s", batch, tokens.length);
            long[] grown = new long[batch * (total + 1)];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(mask, b * total, grown, b * (total + 1), total);
                grown[b * (total + 1) + total] = 1;
            }
            mask = grown;
            total++;
            long[] ids = new long[batch];
            for (int b = 0; b < batch; b++) {
                ids[b] = tokens[b];
            }
            run(ids, 1);
        }

        @Override
        public void close() {
            cache.close();
            manager.close();
        }
    }
}
