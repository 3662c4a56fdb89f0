package dev.understudy.ops.lora;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TargetModuleCheckTest {
    static final List<String> LLAMA_2_LAYERS = List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
            "model.layers.0.mlp.up_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj",
            "model.layers.1.mlp.up_proj");

    @Test
    void someEntriesMatchingNamesWhatMatchedAndWhatDidNot() {
        String w = TargetModuleCheck.partialMatchWarning(List.of("q_proj", "c_attn", "v_proj", "qkv"), LLAMA_2_LAYERS);
        assertThat(w).isEqualTo("warning: model.lora.target_modules entries [c_attn, qkv] match no module of the model, so"
                + " they get no adapter; matched: [q_proj (2 modules), v_proj (2 modules)]; the model's modules: [q_proj,"
                + " up_proj, v_proj]. Remove the entries or name existing modules");
    }

    @Test
    void everyOrNoEntryMatchingGivesNoWarning() {
        assertThat(TargetModuleCheck.partialMatchWarning(List.of("q_proj", "up_proj"), LLAMA_2_LAYERS)).isNull();
        // no match at all is LoraAdapter's error, not a warning
        assertThat(TargetModuleCheck.partialMatchWarning(List.of("c_attn"), LLAMA_2_LAYERS)).isNull();
        // a full-name suffix matches as in PEFT; a bare substring does not
        assertThat(TargetModuleCheck.partialMatchWarning(List.of("self_attn.q_proj", "proj"), LLAMA_2_LAYERS))
                .contains("entries [proj] match no module").contains("matched: [self_attn.q_proj (2 modules)]");
    }
}
