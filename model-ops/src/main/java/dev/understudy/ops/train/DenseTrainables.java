package dev.understudy.ops.train;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDArray;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Named weights of a model trained in full (Offsite-Tuning's adapter layers, the FFNs of FedPFT's
 * compressed layers, a classifier head). The model is changed in place, so it must be private to
 * the trainer.
 */
public final class DenseTrainables implements Trainables {
    private final DecoderModel model;
    private final Map<String, NDArray> params = new LinkedHashMap<>();

    /** The model's tensors whose names {@code select} accepts (in model order); at least one. */
    public DenseTrainables(DecoderModel model, Predicate<String> select) {
        this.model = model;
        for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
            if (select.test(e.getKey())) {
                params.put(e.getKey(), e.getValue());
            }
        }
        checkArgument(!params.isEmpty(), "no tensor of the model is selected for training");
    }

    /** The tensors of blocks {@code layers} (by name prefix, e.g. {@code model.layers.3.}). */
    public static Predicate<String> layers(List<String> prefixes) {
        return name -> prefixes.stream().anyMatch(name::startsWith);
    }

    /** Names of the trained tensors. */
    public List<String> names() {
        return List.copyOf(params.keySet());
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
    public Map<String, HostTensor> exportChanged() {
        Map<String, HostTensor> all = model.exportTensors();
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (String n : params.keySet()) {
            out.put(n, all.get(n));
        }
        return out;
    }
}
