package dev.understudy.ops.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.ops.testing.TinyModels;
import dev.understudy.ops.util.ModelFormatException;
import org.junit.jupiter.api.Test;

class ModelConfigsTest {
    static JsonObject json(String s) {
        return JsonParser.parseString(s).getAsJsonObject();
    }

    @Test
    void parsesAHuggingFaceLlamaConfig() throws Exception {
        ModelConfig c = ModelConfigs.parse(json("""
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000,
                 "hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22,
                 "num_attention_heads": 32, "num_key_value_heads": 4, "hidden_act": "silu",
                 "max_position_embeddings": 2048, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
                 "rope_scaling": null, "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2,
                 "torch_dtype": "bfloat16", "use_cache": true, "transformers_version": "4.35.0"}"""), "tinyllama");
        assertThat(c.family()).isEqualTo(ModelConfig.Family.LLAMA);
        assertThat(c.numKvHeads()).isEqualTo(4);
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.groupSize()).isEqualTo(8);
        assertThat(c.eosTokenId()).isEqualTo(2);
        assertThat(c.padTokenId()).isEqualTo(-1);
    }

    @Test
    void qwen2HasQkvBiasAndEosListsTakeTheFirst() throws Exception {
        ModelConfig c = ModelConfigs.parse(json("""
                {"architectures": ["Qwen2ForCausalLM"], "vocab_size": 151936, "hidden_size": 896,
                 "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
                 "num_key_value_heads": 2, "rope_theta": 1000000.0, "tie_word_embeddings": true,
                 "use_sliding_window": false, "sliding_window": 32768, "eos_token_id": [151645, 151643]}"""), "qwen");
        assertThat(c.qkvBias()).isTrue();
        assertThat(c.outputBias()).isFalse();
        assertThat(c.slidingWindow()).isZero();
        assertThat(c.eosTokenId()).isEqualTo(151645);
    }

    /**
     * Regression: transformers 5 writes rope_theta only inside rope_parameters; reading the
     * top-level field alone gave Qwen2 theta 1e4 instead of 1e6 (HfOracleTest: |Δlogit| 0.15).
     */
    @Test
    void ropeThetaIsReadFromTransformers5RopeParameters() throws Exception {
        String base = """
                {"architectures": ["Qwen2ForCausalLM"], "vocab_size": 10, "hidden_size": 8, "intermediate_size": 8,
                 "num_hidden_layers": 1, "num_attention_heads": 2, %s}""";
        assertThat(ModelConfigs.parse(json(base.formatted(
                "\"rope_parameters\": {\"rope_theta\": 1000000.0, \"rope_type\": \"default\"}")), "m").ropeTheta())
                .isEqualTo(1e6);
        assertThat(ModelConfigs.parse(json(base.formatted("\"rope_theta\": 500000.0")), "m").ropeTheta()).isEqualTo(5e5);
        assertThat(ModelConfigs.parse(json(base.formatted("\"rope_theta\": 5e5, \"rope_parameters\": {\"rope_theta\": 5e5}")), "m")
                .ropeTheta()).isEqualTo(5e5);
        assertThat(ModelConfigs.parse(json(base.formatted("\"use_cache\": true")), "m").ropeTheta()).isEqualTo(1e4);
        assertThatThrownBy(() -> ModelConfigs.parse(json(base.formatted(
                "\"rope_parameters\": {\"rope_theta\": 1e4, \"rope_type\": \"yarn\", \"factor\": 4}")), "m"))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("'rope_parameters'").hasMessageContaining("yarn");
        assertThatThrownBy(() -> ModelConfigs.parse(json(base.formatted(
                "\"rope_theta\": 1e4, \"rope_parameters\": {\"rope_theta\": 1e6}")), "m"))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("keep one of them");
        // what we write carries both forms
        JsonObject written = ModelConfigs.toJson(TinyModels.qwen2Tied());
        assertThat(written.getAsJsonObject("rope_parameters").get("rope_theta").getAsDouble())
                .isEqualTo(written.get("rope_theta").getAsDouble());
    }

    @Test
    void toJsonRoundTrips() throws Exception {
        for (ModelConfig c : new ModelConfig[] {TinyModels.llamaGqa(), TinyModels.qwen2Tied(), TinyModels.gpt2(),
                TinyModels.llamaGqa().withSpecialTokens(1, 2, 0)}) {
            assertThat(ModelConfigs.parse(ModelConfigs.toJson(c), "x")).isEqualTo(c);
        }
    }

    @Test
    void unsupportedFieldsAreNamed() {
        String base = """
                {"architectures": ["LlamaForCausalLM"], "vocab_size": 10, "hidden_size": 8, "intermediate_size": 8,
                 "num_hidden_layers": 1, "num_attention_heads": 2, %s}""";
        assertThatThrownBy(() -> ModelConfigs.parse(json(base.formatted("\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}")), "m"))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("'rope_scaling'");
        assertThatThrownBy(() -> ModelConfigs.parse(json(base.formatted("\"hidden_act\": \"gelu\"")), "m"))
                .hasMessageContaining("'hidden_act'");
        assertThatThrownBy(() -> ModelConfigs.parse(json(base.formatted("\"pretraining_tp\": 2")), "m"))
                .hasMessageContaining("'pretraining_tp'");
        assertThatThrownBy(() -> ModelConfigs.parse(json("{\"architectures\": [\"BertModel\"]}"), "m"))
                .hasMessageContaining("BertModel");
        assertThatThrownBy(() -> ModelConfigs.parse(json("""
                {"model_type": "gpt2", "vocab_size": 10, "n_embd": 8, "n_layer": 1, "n_head": 2, "n_positions": 8,
                 "scale_attn_by_inverse_layer_idx": true}"""), "m")).hasMessageContaining("'scale_attn_by_inverse_layer_idx'");
        assertThatThrownBy(() -> ModelConfigs.parse(json("""
                {"model_type": "llama", "vocab_size": 10, "intermediate_size": 8, "num_hidden_layers": 1,
                 "num_attention_heads": 2}"""), "dir/x")).hasMessageContaining("dir/x").hasMessageContaining("'hidden_size'");
    }

    @Test
    void mistralSlidingWindowIsEnforcedAtForwardTime() throws Exception {
        ModelConfig c = ModelConfigs.parse(json("""
                {"architectures": ["MistralForCausalLM"], "vocab_size": 16, "hidden_size": 8, "intermediate_size": 8,
                 "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
                 "max_position_embeddings": 32, "sliding_window": 4}"""), "m");
        assertThat(c.slidingWindow()).isEqualTo(4);
        try (var m = ai.djl.ndarray.NDManager.newBaseManager("PyTorch");
                DecoderModel model = DecoderModel.randomInit(c, 1, m, ai.djl.ndarray.types.DataType.FLOAT32)) {
            model.forward(m.create(new long[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(1, 4)));
            assertThatThrownBy(() -> model.forward(m.create(new long[] {1, 2, 3, 4, 5}, new ai.djl.ndarray.types.Shape(1, 5))))
                    .hasMessageContaining("sliding_window=4");
        }
    }
}
