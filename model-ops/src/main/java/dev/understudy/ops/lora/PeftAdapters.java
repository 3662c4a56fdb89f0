package dev.understudy.ops.lora;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import ai.djl.ndarray.NDManager;
import dev.understudy.ops.io.DType;
import dev.understudy.ops.io.JsonFiles;
import dev.understudy.ops.io.ModelSink;
import dev.understudy.ops.io.ModelSource;
import dev.understudy.ops.io.SafetensorsReader;
import dev.understudy.ops.io.SafetensorsWriter;
import dev.understudy.ops.io.TensorEntry;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LoRA adapters in Hugging Face PEFT's on-disk format: {@code adapter_config.json} plus {@code
 * adapter_model.safetensors} whose keys are {@code base_model.model.<module>.lora_A.weight} /
 * {@code .lora_B.weight} (e.g. {@code
 * base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}), so {@code
 * PeftModel.from_pretrained(base, dir)} loads what {@link #save} writes and {@link #load} reads
 * adapters PEFT saved.
 */
public final class PeftAdapters {
    private PeftAdapters() {}

    static final String PREFIX = "base_model.model.";
    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";

    /** PEFT tensor key of a factor ({@code "A"} or {@code "B"}) of a module. */
    public static String peftKey(String module, String factor) {
        return PREFIX + module + ".lora_" + factor + ".weight";
    }

    /** Writes the adapter (F32) and its config. */
    public static void save(LoraAdapter adapter, ModelConfig base, ModelSink sink, String baseModelNameOrPath)
            throws IOException {
        List<TensorEntry> entries = new ArrayList<>();
        for (Map.Entry<String, HostTensor> e : adapter.exportTensors().entrySet()) {
            String key = e.getKey(); // <module>.lora_A
            String module = key.substring(0, key.lastIndexOf('.'));
            String factor = key.endsWith("lora_A") ? "A" : "B";
            entries.add(TensorEntry.ofFloats(peftKey(module, factor), e.getValue().shape(), e.getValue().values(), DType.F32));
        }
        JsonFiles.write(sink, CONFIG_FILE, configJson(adapter.config(), base, baseModelNameOrPath));
        sink.write(WEIGHTS_FILE, out -> SafetensorsWriter.write(out, entries, null));
    }

    static JsonObject configJson(LoraConfig c, ModelConfig base, String baseModelNameOrPath) {
        JsonObject j = new JsonObject();
        j.add("alpha_pattern", new JsonObject());
        j.add("auto_mapping", JsonNull.INSTANCE);
        j.addProperty("base_model_name_or_path", baseModelNameOrPath);
        j.addProperty("bias", "none");
        // GPT-2's Conv1D stores [in, out]; PEFT needs fan_in_fan_out=true to merge correctly.
        j.addProperty("fan_in_fan_out", base.family() == ModelConfig.Family.GPT2);
        j.addProperty("inference_mode", true);
        j.addProperty("init_lora_weights", true);
        j.add("layers_pattern", JsonNull.INSTANCE);
        j.add("layers_to_transform", JsonNull.INSTANCE);
        if (c.alpha() == Math.rint(c.alpha())) {
            j.addProperty("lora_alpha", (long) c.alpha());
        } else {
            j.addProperty("lora_alpha", c.alpha());
        }
        j.addProperty("lora_dropout", c.dropout());
        j.add("modules_to_save", JsonNull.INSTANCE);
        j.addProperty("peft_type", "LORA");
        j.addProperty("r", c.rank());
        j.add("rank_pattern", new JsonObject());
        j.add("revision", JsonNull.INSTANCE);
        JsonArray targets = new JsonArray();
        c.targetModules().forEach(targets::add);
        j.add("target_modules", targets);
        j.addProperty("task_type", "CAUSAL_LM");
        j.addProperty("use_dora", false);
        j.addProperty("use_rslora", false);
        return j;
    }

    /** Reads and validates {@code adapter_config.json}. */
    public static LoraConfig loadConfig(ModelSource source) throws IOException {
        JsonObject j = JsonFiles.read(source, CONFIG_FILE);
        String where = source.describe(CONFIG_FILE);
        String type = str(j, "peft_type");
        if (!"LORA".equals(type)) {
            throw new ModelFormatException(where + ": peft_type is " + type + "; only LORA adapters are supported");
        }
        rejectIf(j, "use_dora", where, "DoRA adapters are not supported");
        rejectIf(j, "use_rslora", where, "rank-stabilised LoRA scaling is not supported");
        if (j.has("bias") && !j.get("bias").isJsonNull() && !"none".equals(j.get("bias").getAsString())) {
            throw new ModelFormatException(where + ": field 'bias' is " + j.get("bias") + "; only \"none\" is supported");
        }
        if (j.has("modules_to_save") && !j.get("modules_to_save").isJsonNull()) {
            throw new ModelFormatException(where + ": field 'modules_to_save' is not supported (got " + j.get("modules_to_save") + ")");
        }
        for (String pattern : new String[] {"rank_pattern", "alpha_pattern"}) {
            if (j.has(pattern) && j.get(pattern).isJsonObject() && j.getAsJsonObject(pattern).size() > 0) {
                throw new ModelFormatException(where + ": field '" + pattern + "' (per-module ranks) is not supported");
            }
        }
        if (j.has("layers_to_transform") && !j.get("layers_to_transform").isJsonNull()) {
            throw new ModelFormatException(where + ": field 'layers_to_transform' is not supported");
        }
        JsonElement targets = j.get("target_modules");
        if (targets == null || !targets.isJsonArray()) {
            throw new ModelFormatException(where + ": field 'target_modules' must be a list of module names"
                    + " (regex strings are not supported), got " + targets);
        }
        List<String> names = new ArrayList<>();
        targets.getAsJsonArray().forEach(e -> names.add(e.getAsString()));
        try {
            return new LoraConfig(j.get("r").getAsInt(), j.get("lora_alpha").getAsDouble(),
                    j.has("lora_dropout") ? j.get("lora_dropout").getAsDouble() : 0.0, names);
        } catch (RuntimeException e) {
            throw new ModelFormatException(where + ": " + e.getMessage(), e);
        }
    }

    /** Loads an adapter for {@code model}; its manager is a child of {@code parent}. */
    public static LoraAdapter load(ModelSource source, DecoderModel model, NDManager parent) throws IOException {
        LoraConfig config = loadConfig(source);
        Map<String, HostTensor> tensors = loadFactors(source);
        try {
            return LoraAdapter.fromTensors(model, config, tensors, source.describe(WEIGHTS_FILE), parent);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(e.getMessage(), e);
        }
    }

    /**
     * Reads {@code adapter_model.safetensors} into host tensors keyed as {@link
     * LoraAdapter#exportTensors} keys them ({@code "<module>.lora_A"}), widened to float.
     */
    static Map<String, HostTensor> loadFactors(ModelSource source) throws IOException {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        String where = source.describe(WEIGHTS_FILE);
        try (InputStream in = source.open(WEIGHTS_FILE)) {
            SafetensorsReader.stream(in, where, t -> {
                String key = t.name();
                if (!key.startsWith(PREFIX) || !(key.endsWith(".lora_A.weight") || key.endsWith(".lora_B.weight"))) {
                    throw new ModelFormatException(where + ": unexpected tensor " + key
                            + "; expected base_model.model.<module>.lora_A.weight / lora_B.weight");
                }
                String inner = key.substring(PREFIX.length(), key.length() - ".weight".length()); // <module>.lora_A
                tensors.put(inner, new HostTensor(t.shape(), t.toFloats()));
            });
        }
        return tensors;
    }

    private static String str(JsonObject j, String key) {
        return j.has(key) && !j.get(key).isJsonNull() ? j.get(key).getAsString() : null;
    }

    private static void rejectIf(JsonObject j, String key, String where, String why) throws ModelFormatException {
        if (j.has(key) && j.get(key).isJsonPrimitive() && j.get(key).getAsBoolean()) {
            throw new ModelFormatException(where + ": field '" + key + "' is true: " + why);
        }
    }
}
