package dev.understudy.job.engine;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import ai.djl.ndarray.NDManager;
import dev.understudy.job.storage.RunStore;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.io.SafetensorsWriter;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.PeftAdapters;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The round checkpoint codec: a round's global state and the strategy's and method's state as
 * safetensors files (what {@link RoundEngine} commits and a resumed run or {@code evaluate},
 * {@code generate}, {@code export} read back), and the PEFT form of a global adapter.
 */
public final class RoundCheckpoint {
    private RoundCheckpoint() {}


    /** A committed round's state file ({@code strategy_state.safetensors}, {@code method_state.safetensors}), empty if absent. */
    public static Map<String, float[]> readState(RunStore.CommittedRound cr, String file) throws IOException {
        Map<String, float[]> state = new LinkedHashMap<>();
        if (cr.files().containsKey(file)) {
            SafetensorsReader.stream(new ByteArrayInputStream(cr.files().get(file)), file,
                    t -> state.put(t.name(), t.toFloats()));
        }
        return state;
    }

    static void putState(Map<String, byte[]> files, String name, Map<String, float[]> state) {
        if (state.isEmpty()) {
            return;
        }
        List<TensorEntry> entries = new ArrayList<>();
        for (Map.Entry<String, float[]> e : new TreeMap<>(state).entrySet()) {
            entries.add(TensorEntry.ofFloats(e.getKey(), new long[] {e.getValue().length}, e.getValue()));
        }
        files.put(name, RunStore.bytes(out -> SafetensorsWriter.write(out, entries, null)));
    }


    /** Writes {@code global} as a PEFT adapter directory (adapter_config.json + adapter_model.safetensors). */
    public static void writePeft(dev.understudy.ops.io.ModelSink sink, DecoderModel base, TrainSettings settings,
            float[] global, Map<String, long[]> layout) throws IOException {
        try (NDManager m = base.manager().newSubManager();
                LoraAdapter adapter = LoraAdapter.create(base, settings.lora(), 0, m)) {
            adapter.load(AdapterVectors.unflatten(layout, global));
            PeftAdapters.save(adapter, base.config(), sink, settings.modelUri());
        }
    }

    static byte[] writeVector(float[] v, Map<String, long[]> layout) {
        List<TensorEntry> entries = new ArrayList<>();
        AdapterVectors.unflatten(layout, v).forEach((k, t) -> entries.add(TensorEntry.ofFloats(k, t.shape(), t.values())));
        return RunStore.bytes(out -> SafetensorsWriter.write(out, entries, null));
    }

    public static float[] readVector(byte[] bytes, Map<String, long[]> layout) throws IOException {
        Map<String, HostTensor> t = new LinkedHashMap<>();
        SafetensorsReader.stream(new ByteArrayInputStream(bytes), "global adapter",
                e -> t.put(e.name(), new HostTensor(e.shape(), e.toFloats())));
        checkArgument(t.keySet().equals(layout.keySet()), "committed adapter tensors %s do not match the model's %s",
                t.keySet(), layout.keySet());
        Map<String, HostTensor> ordered = new LinkedHashMap<>();
        layout.keySet().forEach(k -> ordered.put(k, t.get(k)));
        return AdapterVectors.flatten(ordered);
    }
}
