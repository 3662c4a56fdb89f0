package dev.understudy.ops.train;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.Ops;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Slices of model tensors trained while the rest of each tensor stays bit-identical: FedPFT's
 * neuron-level alignment updates only the chosen neurons' rows of the FFN input weights and
 * columns of its output weight (methods.md §2(a), Step C). Each selected tensor gets a 0/1 mask;
 * gradients are multiplied by it before clipping and the step (so clipping and AdamW's moments see
 * only the selected entries), and after the step the unselected entries are restored from a
 * snapshot, which also undoes weight decay there. Whole tensors (FedPFT's output bias and norm)
 * can be added unmasked. Changes the model in place.
 */
public final class MaskedTrainables implements Trainables {
    private static final NDIndex ALL = new NDIndex("...");

    private final DecoderModel model;
    private final Map<String, NDArray> params = new LinkedHashMap<>();
    private final Map<String, NDArray> masks = new LinkedHashMap<>(); // bool, param shape; absent = whole tensor
    private final Map<String, NDArray> frozen = new LinkedHashMap<>(); // snapshot of the masked tensors

    /**
     * @param slices tensor name (on-disk naming and axes, as {@link
     *     dev.understudy.ops.surgery.BlockLayout.NeuronAxis} gives them) → the slices to train
     * @param whole names of tensors trained in full
     */
    public MaskedTrainables(DecoderModel model, Map<String, Slice> slices, List<String> whole) {
        this.model = model;
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try {
            for (Map.Entry<String, Slice> e : slices.entrySet()) {
                String name = e.getKey();
                NDArray p = param(name);
                Shape s = p.getShape();
                int axis = e.getValue().axis();
                checkArgument(axis < s.dimension(), "axis %s of %s-D tensor %s", axis, s.dimension(), name);
                if (s.dimension() == 2 && model.storedTransposed(name)) {
                    axis = 1 - axis; // Conv1D: on-disk axes are swapped in memory
                }
                long rows = s.get(0);
                long cols = s.dimension() == 2 ? s.get(1) : 1;
                boolean[] on = new boolean[Math.toIntExact(rows * cols)];
                for (int j : e.getValue().indices()) {
                    checkArgument(j >= 0 && j < s.get(axis), "slice %s outside %s axis %s of length %s", j, name, axis,
                            s.get(axis));
                    if (axis == 0) {
                        for (long c = 0; c < cols; c++) {
                            on[Math.toIntExact(j * cols + c)] = true;
                        }
                    } else {
                        for (long r = 0; r < rows; r++) {
                            on[Math.toIntExact(r * cols + j)] = true;
                        }
                    }
                }
                NDArray mask = Ops.toTorchOwned(p.getManager().create(on, s), DataType.BOOLEAN);
                masks.put(name, mask);
                NDArray snap = p.duplicate();
                frozen.put(name, snap);
                params.put(name, p);
            }
            for (String name : whole) {
                params.put(name, param(name));
            }
        } finally {
            Ops.setGradMode(grad);
        }
        checkArgument(!params.isEmpty(), "no tensor is selected for training");
    }

    /** Slices {@code indices} along {@code axis} (0: rows, 1: columns, in the on-disk layout). */
    public record Slice(int axis, int[] indices) {}

    private NDArray param(String name) {
        NDArray p = model.parameters().get(name);
        checkArgument(p != null, "the model has no tensor %s", name);
        return p;
    }

    @Override
    public List<NDArray> parameters() {
        return new ArrayList<>(params.values());
    }

    @Override
    public void setTrainable(boolean trainable) {
        params.values().forEach(p -> p.setRequiresGradient(trainable));
    }

    @Override
    public void beforeStep() {
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try {
            for (Map.Entry<String, NDArray> e : masks.entrySet()) {
                NDArray p = params.get(e.getKey());
                try (NDArray g = p.getGradient(); NDArray zero = g.zerosLike();
                        NDArray masked = ai.djl.ndarray.NDArrays.where(e.getValue(), g, zero)) {
                    g.set(ALL, masked);
                }
            }
        } finally {
            Ops.setGradMode(grad);
        }
    }

    @Override
    public void afterStep() {
        boolean grad = Ops.isGradMode();
        Ops.setGradMode(false);
        try {
            for (Map.Entry<String, NDArray> e : masks.entrySet()) {
                NDArray p = params.get(e.getKey());
                try (NDArray restored = ai.djl.ndarray.NDArrays.where(e.getValue(), p, frozen.get(e.getKey()))) {
                    p.set(ALL, restored);
                }
            }
        } finally {
            Ops.setGradMode(grad);
        }
    }

    @Override
    public Map<String, HostTensor> exportChanged() {
        Map<String, HostTensor> all = model.exportTensors();
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (String n : params.keySet()) {
            out.put(n, all.get(n));
        }
        return out;
    }

    @Override
    public void close() {
        masks.values().forEach(NDArray::close);
        frozen.values().forEach(NDArray::close);
    }
}
