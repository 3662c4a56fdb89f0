package dev.understudy.ops.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.understudy.ops.model.ModelConfig.Activation;
import dev.understudy.ops.model.ModelConfig.Family;
import dev.understudy.ops.util.ModelFormatException;

/**
 * Reads and writes Hugging Face {@code config.json} documents for the supported architectures
 * (LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM, GPT2LMHeadModel).
 *
 * <p>Fields that change the computation in ways Understudy does not implement (RoPE scaling,
 * tensor-parallel pretraining slices, quantisation, inverse-layer attention scaling, cross
 * attention, other activations) are rejected with an error that names the field, rather than
 * silently producing a different model. Fields that do not affect the forward pass (e.g. {@code
 * transformers_version}, {@code use_cache}) are ignored.
 */
public final class ModelConfigs {
    private ModelConfigs() {}

    /**
     * Parses a config.json object.
     *
     * @param json the parsed document
     * @param source where it came from, used in error messages
     * @throws ModelFormatException naming the field when a field is missing, malformed or unsupported
     */
    public static ModelConfig parse(JsonObject json, String source) throws ModelFormatException {
        String arch = null;
        if (json.has("architectures") && json.get("architectures").isJsonArray()) {
            JsonArray a = json.getAsJsonArray("architectures");
            if (a.size() > 0) {
                arch = a.get(0).getAsString();
            }
        }
        String modelType = str(json, "model_type", null);
        if (arch == null && modelType == null) {
            throw new ModelFormatException(
                    source + ": config.json has neither 'architectures' nor 'model_type'; cannot tell the architecture");
        }
        String family = arch != null ? arch : modelType;
        switch (family) {
            case "LlamaForCausalLM", "llama":
                return parseLlama(json, source, "llama");
            case "Qwen2ForCausalLM", "qwen2":
                return parseLlama(json, source, "qwen2");
            case "MistralForCausalLM", "mistral":
                return parseLlama(json, source, "mistral");
            case "GPT2LMHeadModel", "gpt2":
                return parseGpt2(json, source);
            default:
                throw new ModelFormatException(source + ": unsupported architecture '" + family
                        + "' in field 'architectures'/'model_type'; supported: LlamaForCausalLM, Qwen2ForCausalLM,"
                        + " MistralForCausalLM (no sliding window), GPT2LMHeadModel");
        }
    }

    private static ModelConfig parseLlama(JsonObject j, String src, String type) throws ModelFormatException {
        int vocab = reqInt(j, "vocab_size", src);
        int hidden = reqInt(j, "hidden_size", src);
        int inter = reqInt(j, "intermediate_size", src);
        int layers = reqInt(j, "num_hidden_layers", src);
        int heads = reqInt(j, "num_attention_heads", src);
        int kvHeads = optInt(j, "num_key_value_heads", heads, src);
        int headDim = optInt(j, "head_dim", hidden / heads, src);
        String act = str(j, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw unsupported(src, "hidden_act", act, "only \"silu\" (SwiGLU) is implemented for the LLaMA family");
        }
        if (!isNull(j, "rope_scaling")) {
            throw unsupported(src, "rope_scaling", j.get("rope_scaling").toString(),
                    "RoPE scaling is not implemented; use a model without rope_scaling");
        }
        if (optInt(j, "pretraining_tp", 1, src) != 1) {
            throw unsupported(src, "pretraining_tp", j.get("pretraining_tp").toString(), "only 1 is supported");
        }
        if (!isNull(j, "quantization_config")) {
            throw unsupported(src, "quantization_config", "present", "quantised checkpoints are not supported");
        }
        if (j.has("num_local_experts") || j.has("num_experts")) {
            throw unsupported(src, "num_experts", "present", "mixture-of-experts models are not supported");
        }
        boolean attnBias = optBool(j, "attention_bias", false, src);
        boolean qkvBias = attnBias;
        boolean outBias = attnBias;
        if (type.equals("qwen2")) {
            // Qwen2 always has q/k/v biases and never an o_proj bias (modeling_qwen2.py).
            qkvBias = true;
            outBias = false;
        }
        int window = 0;
        if (type.equals("mistral")) {
            window = isNull(j, "sliding_window") ? 0 : reqInt(j, "sliding_window", src);
        } else if (type.equals("qwen2") && optBool(j, "use_sliding_window", false, src)) {
            window = isNull(j, "sliding_window") ? 0 : reqInt(j, "sliding_window", src);
        }
        int bos = tokenId(j, "bos_token_id", src);
        int eos = tokenId(j, "eos_token_id", src);
        int pad = tokenId(j, "pad_token_id", src);
        return new ModelConfig(
                Family.LLAMA, type, vocab, hidden, layers, heads, kvHeads, headDim, inter,
                optInt(j, "max_position_embeddings", 2048, src),
                optDouble(j, "rms_norm_eps", 1e-6, src),
                ropeTheta(j, src),
                Activation.SILU,
                optBool(j, "tie_word_embeddings", false, src),
                qkvBias, outBias,
                optBool(j, "mlp_bias", false, src),
                window, 0.0, 0.0,
                optDouble(j, "attention_dropout", 0.0, src),
                bos, eos, pad, layerWidths(j, layers, inter, src));
    }

    private static ModelConfig parseGpt2(JsonObject j, String src) throws ModelFormatException {
        int hidden = reqInt(j, "n_embd", src);
        int heads = reqInt(j, "n_head", src);
        String actName = str(j, "activation_function", "gelu_new");
        Activation act = switch (actName) {
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> Activation.GELU_TANH;
            case "gelu" -> Activation.GELU;
            case "relu" -> Activation.RELU;
            case "silu", "swish" -> Activation.SILU;
            default -> throw unsupported(src, "activation_function", actName,
                    "supported: gelu_new, gelu_pytorch_tanh, gelu, relu, silu");
        };
        if (!optBool(j, "scale_attn_weights", true, src)) {
            throw unsupported(src, "scale_attn_weights", "false", "only scaled attention is implemented");
        }
        if (optBool(j, "scale_attn_by_inverse_layer_idx", false, src)) {
            throw unsupported(src, "scale_attn_by_inverse_layer_idx", "true", "not implemented");
        }
        if (optBool(j, "add_cross_attention", false, src)) {
            throw unsupported(src, "add_cross_attention", "true", "encoder-decoder GPT-2 is not supported");
        }
        int inner = isNull(j, "n_inner") ? 4 * hidden : reqInt(j, "n_inner", src);
        return new ModelConfig(
                Family.GPT2, "gpt2", reqInt(j, "vocab_size", src), hidden, reqInt(j, "n_layer", src), heads, heads,
                hidden / heads, inner, reqInt(j, "n_positions", src),
                optDouble(j, "layer_norm_epsilon", 1e-5, src), 0.0, act,
                optBool(j, "tie_word_embeddings", true, src), true, true, true, 0,
                optDouble(j, "embd_pdrop", 0.1, src),
                optDouble(j, "resid_pdrop", 0.1, src),
                optDouble(j, "attn_pdrop", 0.1, src),
                tokenId(j, "bos_token_id", src), tokenId(j, "eos_token_id", src), tokenId(j, "pad_token_id", src),
                layerWidths(j, reqInt(j, "n_layer", src), inner, src));
    }

    /** Writes a config.json document that Hugging Face transformers (and {@link #parse}) read back. */
    public static JsonObject toJson(ModelConfig c) {
        JsonObject j = new JsonObject();
        JsonArray arch = new JsonArray();
        if (c.family() == Family.GPT2) {
            arch.add("GPT2LMHeadModel");
            j.add("architectures", arch);
            j.addProperty("model_type", "gpt2");
            j.addProperty("vocab_size", c.vocabSize());
            j.addProperty("n_embd", c.hiddenSize());
            j.addProperty("n_layer", c.numLayers());
            j.addProperty("n_head", c.numHeads());
            j.addProperty("n_inner", c.intermediateSize());
            j.addProperty("n_positions", c.maxPositions());
            j.addProperty("n_ctx", c.maxPositions());
            j.addProperty("layer_norm_epsilon", c.normEps());
            j.addProperty("activation_function", switch (c.activation()) {
                case GELU_TANH -> "gelu_new";
                case GELU -> "gelu";
                case RELU -> "relu";
                case SILU -> "silu";
            });
            j.addProperty("embd_pdrop", c.embdDropout());
            j.addProperty("resid_pdrop", c.residDropout());
            j.addProperty("attn_pdrop", c.attnDropout());
            j.addProperty("scale_attn_weights", true);
            j.addProperty("tie_word_embeddings", c.tieWordEmbeddings());
        } else {
            arch.add(switch (c.modelType()) {
                case "qwen2" -> "Qwen2ForCausalLM";
                case "mistral" -> "MistralForCausalLM";
                default -> "LlamaForCausalLM";
            });
            j.add("architectures", arch);
            j.addProperty("model_type", c.modelType());
            j.addProperty("vocab_size", c.vocabSize());
            j.addProperty("hidden_size", c.hiddenSize());
            j.addProperty("intermediate_size", c.intermediateSize());
            j.addProperty("num_hidden_layers", c.numLayers());
            j.addProperty("num_attention_heads", c.numHeads());
            j.addProperty("num_key_value_heads", c.numKvHeads());
            j.addProperty("head_dim", c.headDim());
            j.addProperty("hidden_act", "silu");
            j.addProperty("max_position_embeddings", c.maxPositions());
            j.addProperty("rms_norm_eps", c.normEps());
            j.addProperty("rope_theta", c.ropeTheta()); // transformers 4 reads this
            JsonObject rope = new JsonObject(); // transformers 5 reads this
            rope.addProperty("rope_theta", c.ropeTheta());
            rope.addProperty("rope_type", "default");
            j.add("rope_parameters", rope);
            j.add("rope_scaling", com.google.gson.JsonNull.INSTANCE);
            j.addProperty("tie_word_embeddings", c.tieWordEmbeddings());
            j.addProperty("attention_dropout", c.attnDropout());
            if (c.modelType().equals("qwen2")) {
                j.addProperty("use_sliding_window", c.slidingWindow() > 0);
                if (c.slidingWindow() > 0) {
                    j.addProperty("sliding_window", c.slidingWindow());
                }
            } else {
                j.addProperty("attention_bias", c.qkvBias());
                j.addProperty("mlp_bias", c.mlpBias());
                if (c.modelType().equals("mistral")) {
                    if (c.slidingWindow() > 0) {
                        j.addProperty("sliding_window", c.slidingWindow());
                    } else {
                        j.add("sliding_window", com.google.gson.JsonNull.INSTANCE);
                    }
                }
            }
        }
        if (!c.uniformIntermediateSize()) {
            // Not a Hugging Face key: a derived model whose MLP widths differ per layer (model surgery).
            JsonArray widths = new JsonArray();
            c.layerIntermediateSizes().forEach(widths::add);
            j.add(LAYER_WIDTHS_KEY, widths);
        }
        putToken(j, "bos_token_id", c.bosTokenId());
        putToken(j, "eos_token_id", c.eosTokenId());
        putToken(j, "pad_token_id", c.padTokenId());
        j.addProperty("torch_dtype", "float32");
        return j;
    }

    /**
     * The config.json key of per-layer MLP widths ({@link ModelConfig#layerIntermediateSizes}).
     * Understudy's own extension: transformers ignores it and builds every layer at {@code
     * intermediate_size} (the maximum), so such a checkpoint does not load there.
     */
    public static final String LAYER_WIDTHS_KEY = "understudy_intermediate_sizes";

    private static java.util.List<Integer> layerWidths(JsonObject j, int layers, int max, String src)
            throws ModelFormatException {
        if (isNull(j, LAYER_WIDTHS_KEY)) {
            return java.util.List.of();
        }
        JsonElement e = j.get(LAYER_WIDTHS_KEY);
        if (!e.isJsonArray() || e.getAsJsonArray().size() != layers) {
            throw new ModelFormatException(src + ": config.json field '" + LAYER_WIDTHS_KEY + "' must be a list of "
                    + layers + " integers (one MLP width per layer), got " + e);
        }
        java.util.List<Integer> out = new java.util.ArrayList<>();
        for (JsonElement w : e.getAsJsonArray()) {
            int v = asInt(w, LAYER_WIDTHS_KEY, src);
            if (v <= 0 || v > max) {
                throw new ModelFormatException(src + ": config.json field '" + LAYER_WIDTHS_KEY + "' has entry " + v
                        + "; entries must be in [1, intermediate_size=" + max + "]");
            }
            out.add(v);
        }
        return out;
    }

    private static void putToken(JsonObject j, String key, int id) {
        if (id >= 0) {
            j.addProperty(key, id);
        }
    }

    /**
     * RoPE base frequency. transformers 5 writes it inside {@code rope_parameters} ({@code
     * {"rope_theta": 1e6, "rope_type": "default"}}); transformers 4 wrote a top-level {@code
     * rope_theta}. Both are read; a rope_type other than "default" (YaRN, linear, dynamic, llama3)
     * is rejected, as is a file whose two values disagree.
     */
    private static double ropeTheta(JsonObject j, String src) throws ModelFormatException {
        double legacy = optDouble(j, "rope_theta", Double.NaN, src);
        if (isNull(j, "rope_parameters")) {
            return Double.isNaN(legacy) ? 10000.0 : legacy;
        }
        JsonElement e = j.get("rope_parameters");
        if (!e.isJsonObject()) {
            throw new ModelFormatException(src + ": config.json field 'rope_parameters' must be an object, got " + e);
        }
        JsonObject rp = e.getAsJsonObject();
        String type = str(rp, "rope_type", str(rp, "type", "default"));
        if (!type.equals("default")) {
            throw unsupported(src, "rope_parameters", rp.toString(),
                    "RoPE scaling (rope_type '" + type + "') is not implemented; use a model with rope_type \"default\"");
        }
        double theta = optDouble(rp, "rope_theta", Double.NaN, src);
        if (Double.isNaN(theta)) {
            return Double.isNaN(legacy) ? 10000.0 : legacy;
        }
        if (!Double.isNaN(legacy) && legacy != theta) {
            throw new ModelFormatException(src + ": config.json sets rope_theta=" + legacy
                    + " but rope_parameters.rope_theta=" + theta + "; keep one of them");
        }
        return theta;
    }

    private static ModelFormatException unsupported(String src, String field, String value, String why) {
        return new ModelFormatException(
                src + ": unsupported value " + value + " for config.json field '" + field + "': " + why);
    }

    private static boolean isNull(JsonObject j, String key) {
        return !j.has(key) || j.get(key).isJsonNull();
    }

    private static String str(JsonObject j, String key, String dflt) {
        return isNull(j, key) ? dflt : j.get(key).getAsString();
    }

    private static int reqInt(JsonObject j, String key, String src) throws ModelFormatException {
        if (isNull(j, key)) {
            throw new ModelFormatException(src + ": config.json lacks the required field '" + key + "'");
        }
        return asInt(j.get(key), key, src);
    }

    private static int optInt(JsonObject j, String key, int dflt, String src) throws ModelFormatException {
        return isNull(j, key) ? dflt : asInt(j.get(key), key, src);
    }

    private static int asInt(JsonElement e, String key, String src) throws ModelFormatException {
        if (!e.isJsonPrimitive() || !((JsonPrimitive) e).isNumber()) {
            throw new ModelFormatException(src + ": config.json field '" + key + "' must be an integer, got " + e);
        }
        double d = e.getAsDouble();
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new ModelFormatException(src + ": config.json field '" + key + "' must be an integer, got " + e);
        }
        return (int) d;
    }

    private static double optDouble(JsonObject j, String key, double dflt, String src) throws ModelFormatException {
        if (isNull(j, key)) {
            return dflt;
        }
        JsonElement e = j.get(key);
        if (!e.isJsonPrimitive() || !((JsonPrimitive) e).isNumber()) {
            throw new ModelFormatException(src + ": config.json field '" + key + "' must be a number, got " + e);
        }
        return e.getAsDouble();
    }

    private static boolean optBool(JsonObject j, String key, boolean dflt, String src) throws ModelFormatException {
        if (isNull(j, key)) {
            return dflt;
        }
        JsonElement e = j.get(key);
        if (!e.isJsonPrimitive() || !((JsonPrimitive) e).isBoolean()) {
            throw new ModelFormatException(src + ": config.json field '" + key + "' must be true or false, got " + e);
        }
        return e.getAsBoolean();
    }

    /** Token ids may be an int, null, or (for eos in newer configs) a list whose first entry is used. */
    private static int tokenId(JsonObject j, String key, String src) throws ModelFormatException {
        if (isNull(j, key)) {
            return -1;
        }
        JsonElement e = j.get(key);
        if (e.isJsonArray()) {
            JsonArray a = e.getAsJsonArray();
            return a.size() == 0 ? -1 : asInt(a.get(0), key, src);
        }
        return asInt(e, key, src);
    }
}
