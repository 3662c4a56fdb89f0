package dev.understudy.ops.train;

import ai.djl.ndarray.NDArray;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModuleAdapter;
import java.util.List;
import java.util.Map;

/** A LoRA adapter as a {@link Trainables} set (the base model stays frozen and may be shared). */
public final class LoraTrainables implements Trainables {
    private final LoraAdapter adapter;

    public LoraTrainables(LoraAdapter adapter) {
        this.adapter = adapter;
    }

    @Override
    public List<NDArray> parameters() {
        return adapter.parameters();
    }

    @Override
    public void setTrainable(boolean trainable) {
        adapter.setTrainable(trainable);
    }

    @Override
    public ModuleAdapter adapter() {
        return adapter;
    }

    @Override
    public Map<String, HostTensor> exportChanged() {
        return adapter.exportTensors();
    }
}
