package dev.understudy.ops.encoder;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.understudy.ops.model.ModelConfig.Activation;
import dev.understudy.ops.util.ModelFormatException;

/**
 * Hyper-parameters of a BERT encoder (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional
 * Transformers", arXiv:1810.04805), as in transformers' {@code BertConfig}: post-LayerNorm blocks,
 * GELU, learned absolute positions, token-type embeddings, a tanh pooler over the first token, and
 * optionally the masked-LM head.
 *
 * @param activation {@code hidden_act}: {@code GELU} for transformers' exact {@code "gelu"}, {@code
 *     GELU_TANH} for {@code "gelu_new"}, the tanh approximation Google's original TensorFlow BERT
 *     computes ({@code modeling.py}: {@code 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))}), which an
 *     import of Google's checkpoints therefore records
 * @param mlmHead whether the checkpoint carries {@code cls.predictions.*} (the MLM head)
 */
public record BertConfig(
        int vocabSize,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int intermediateSize,
        int maxPositions,
        int typeVocabSize,
        double layerNormEps,
        double hiddenDropout,
        double attentionDropout,
        double initializerRange,
        Activation activation,
        boolean mlmHead) {
    public BertConfig {
        checkArgument(vocabSize > 0 && hiddenSize > 0 && numLayers > 0 && numHeads > 0 && intermediateSize > 0
                && maxPositions > 0 && typeVocabSize > 0, "BERT sizes must be positive");
        checkArgument(hiddenSize % numHeads == 0, "hidden_size %s is not a multiple of num_attention_heads %s",
                hiddenSize, numHeads);
        checkArgument(hiddenDropout >= 0 && hiddenDropout < 1 && attentionDropout >= 0 && attentionDropout < 1,
                "dropout probabilities must be in [0, 1)");
        checkArgument(activation == Activation.GELU || activation == Activation.GELU_TANH,
                "BERT hidden_act must be gelu or gelu_new, got %s", activation);
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** transformers' {@code config.json} for a {@code BertForMaskedLM} (or {@code BertModel}) checkpoint. */
    public JsonObject toJson() {
        JsonObject j = new JsonObject();
        JsonArray arch = new JsonArray();
        arch.add(mlmHead ? "BertForMaskedLM" : "BertModel");
        j.add("architectures", arch);
        j.addProperty("attention_probs_dropout_prob", attentionDropout);
        j.addProperty("hidden_act", activation == Activation.GELU ? "gelu" : "gelu_new");
        j.addProperty("hidden_dropout_prob", hiddenDropout);
        j.addProperty("hidden_size", hiddenSize);
        j.addProperty("initializer_range", initializerRange);
        j.addProperty("intermediate_size", intermediateSize);
        j.addProperty("layer_norm_eps", layerNormEps);
        j.addProperty("max_position_embeddings", maxPositions);
        j.addProperty("model_type", "bert");
        j.addProperty("num_attention_heads", numHeads);
        j.addProperty("num_hidden_layers", numLayers);
        j.addProperty("pad_token_id", 0);
        j.addProperty("position_embedding_type", "absolute");
        j.addProperty("type_vocab_size", typeVocabSize);
        j.addProperty("vocab_size", vocabSize);
        return j;
    }

    /**
     * Reads transformers' {@code config.json}; {@code mlmHead} says whether the weights carry the MLM
     * head (the config does not).
     *
     * @throws ModelFormatException naming the key when the config is not a plain absolute-position,
     *     erf-GELU BERT
     */
    public static BertConfig fromJson(JsonObject j, boolean mlmHead, String where) throws ModelFormatException {
        String type = str(j, "model_type", "bert");
        if (!type.equals("bert")) {
            throw new ModelFormatException(where + ": model_type is '" + type + "', not 'bert'");
        }
        String act = str(j, "hidden_act", "gelu");
        Activation activation = switch (act) {
            case "gelu" -> Activation.GELU;
            case "gelu_new", "gelu_pytorch_tanh" -> Activation.GELU_TANH;
            default -> throw new ModelFormatException(where + ": hidden_act '" + act
                    + "' is not supported (BERT here: 'gelu', 'gelu_new' or 'gelu_pytorch_tanh')");
        };
        String pos = str(j, "position_embedding_type", "absolute");
        if (!pos.equals("absolute")) {
            throw new ModelFormatException(where + ": position_embedding_type '" + pos + "' is not supported");
        }
        try {
            return new BertConfig(j.get("vocab_size").getAsInt(), j.get("hidden_size").getAsInt(),
                    j.get("num_hidden_layers").getAsInt(), j.get("num_attention_heads").getAsInt(),
                    j.get("intermediate_size").getAsInt(), num(j, "max_position_embeddings", 512).intValue(),
                    num(j, "type_vocab_size", 2).intValue(), num(j, "layer_norm_eps", 1e-12).doubleValue(),
                    num(j, "hidden_dropout_prob", 0.1).doubleValue(),
                    num(j, "attention_probs_dropout_prob", 0.1).doubleValue(),
                    num(j, "initializer_range", 0.02).doubleValue(), activation, mlmHead);
        } catch (NullPointerException | IllegalArgumentException | UnsupportedOperationException e) {
            throw new ModelFormatException(where + ": not a valid BERT config (" + e.getMessage()
                    + "); it needs vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size", e);
        }
    }

    private static String str(JsonObject j, String key, String dflt) {
        JsonElement e = j.get(key);
        return e == null || e.isJsonNull() ? dflt : e.getAsString();
    }

    private static Number num(JsonObject j, String key, Number dflt) {
        JsonElement e = j.get(key);
        return e == null || e.isJsonNull() ? dflt : e.getAsNumber();
    }
}
