package dev.understudy.ops.pretrain;

import dev.understudy.ops.io.SafetensorsFile;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.io.SafetensorsWriter;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One file holding everything a pretraining run needs to continue bit for bit: the weights (Hugging
 * Face names and layout, F32) under {@code model/}, the AdamW moments under {@code optim/m/i} and
 * {@code optim/v/i}, and the position (step, data epoch and cursor, AdamW step count, tokens and
 * seconds so far) plus the run key in the safetensors metadata. The data order and dropout are pure
 * functions of the seed and these counters, so no RNG state needs saving. The file is written to a
 * temporary name and renamed over the previous checkpoint, so a crash leaves the old one intact.
 */
final class PretrainCheckpoint {
    static final String FORMAT = "understudy-pretrain-checkpoint/1";

    private PretrainCheckpoint() {}

    /**
     * Where a run stands.
     *
     * @param step optimiser steps done
     * @param epoch data epoch of the next block
     * @param cursor position of the next block in that epoch's order
     * @param adamSteps AdamW's bias-correction step count
     * @param tokens input tokens trained on so far
     * @param trainSeconds wall seconds spent in training steps so far
     * @param runKey identifies the spec, member and corpus; resuming checks it
     */
    record State(long step, long epoch, int cursor, long adamSteps, long tokens, double trainSeconds, String runKey) {}

    /** A checkpoint read back. */
    record Loaded(State state, Map<String, HostTensor> model, List<HostTensor> optimizer) {}

    static void write(Path file, Map<String, HostTensor> model, List<HostTensor> optimizer, State s) throws IOException {
        List<TensorEntry> entries = new ArrayList<>();
        for (Map.Entry<String, HostTensor> e : model.entrySet()) {
            entries.add(TensorEntry.ofFloats("model/" + e.getKey(), e.getValue().shape(), e.getValue().values()));
        }
        for (int i = 0; i < optimizer.size(); i += 2) {
            HostTensor m = optimizer.get(i);
            HostTensor v = optimizer.get(i + 1);
            entries.add(TensorEntry.ofFloats("optim/m/" + i / 2, m.shape(), m.values()));
            entries.add(TensorEntry.ofFloats("optim/v/" + i / 2, v.shape(), v.values()));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("understudy_format", FORMAT);
        meta.put("step", Long.toString(s.step()));
        meta.put("epoch", Long.toString(s.epoch()));
        meta.put("cursor", Integer.toString(s.cursor()));
        meta.put("adam_steps", Long.toString(s.adamSteps()));
        meta.put("tokens", Long.toString(s.tokens()));
        // Exact round trip of the double, so resumed tokens/s figures add up.
        meta.put("train_seconds", Double.toString(s.trainSeconds()));
        meta.put("run_key", s.runKey());
        SafetensorsWriter.write(file, entries, meta);
    }

    static Loaded read(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsReader.read(file)) {
            Map<String, String> meta = f.metadata();
            if (!FORMAT.equals(meta.get("understudy_format"))) {
                throw new ModelFormatException(file + " is not a pretraining checkpoint (understudy_format="
                        + meta.get("understudy_format") + ", expected " + FORMAT + "); delete it or run without"
                        + " --resume");
            }
            State s;
            try {
                s = new State(Long.parseLong(meta.get("step")), Long.parseLong(meta.get("epoch")),
                        Integer.parseInt(meta.get("cursor")), Long.parseLong(meta.get("adam_steps")),
                        Long.parseLong(meta.get("tokens")), Double.parseDouble(meta.get("train_seconds")),
                        meta.get("run_key"));
            } catch (RuntimeException e) {
                throw new ModelFormatException(file + " has unreadable position metadata " + meta + ": " + e.getMessage(), e);
            }
            Map<String, HostTensor> model = new LinkedHashMap<>();
            Map<Integer, HostTensor> ms = new LinkedHashMap<>();
            Map<Integer, HostTensor> vs = new LinkedHashMap<>();
            for (Map.Entry<String, TensorEntry> e : f.all().entrySet()) {
                String name = e.getKey();
                HostTensor t = new HostTensor(e.getValue().shape(), e.getValue().toFloats());
                if (name.startsWith("model/")) {
                    model.put(name.substring("model/".length()), t);
                } else if (name.startsWith("optim/m/")) {
                    ms.put(Integer.parseInt(name.substring("optim/m/".length())), t);
                } else if (name.startsWith("optim/v/")) {
                    vs.put(Integer.parseInt(name.substring("optim/v/".length())), t);
                } else {
                    throw new ModelFormatException(file + " holds an unexpected tensor '" + name + "'");
                }
            }
            List<HostTensor> optimizer = new ArrayList<>();
            for (int i = 0; i < ms.size(); i++) {
                if (!ms.containsKey(i) || !vs.containsKey(i)) {
                    throw new ModelFormatException(file + " lacks the AdamW moments of parameter " + i);
                }
                optimizer.add(ms.get(i));
                optimizer.add(vs.get(i));
            }
            return new Loaded(s, model, optimizer);
        }
    }
}
