package dev.understudy.ops.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.ops.tokenizer.Tokenizer.SpecialTokens;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Special-token resolution from HF config files, file-format variants and load errors. */
class TokenizerLoadTest {
    /** Specials: <|pad|>=0 <|bos|>=1 <|eos|>=2 <s>=3 </s>=4; bytes from 5. */
    static TokenizerSpec spec;

    @TempDir
    Path dir;

    @BeforeAll
    static void train() {
        spec = ByteLevelBpeTrainer.train(
                Corpora.english(), 400, List.of("<|pad|>", "<|bos|>", "<|eos|>", "<s>", "</s>"));
    }

    private void write(String file, String json) throws IOException {
        Files.writeString(dir.resolve(file), json, StandardCharsets.UTF_8);
    }

    private void writeTokenizerJson() throws IOException {
        write("tokenizer.json", spec.tokenizerJson());
    }

    @Test
    void tokenizerJsonAloneDefinesNoRoles() throws Exception {
        writeTokenizerJson();

        try (Tokenizer t = Tokenizer.load(dir)) {
            assertThat(t.specialTokens()).isEqualTo(SpecialTokens.none());
            assertThat(t.bosId()).isEmpty();
            assertThat(t.addBosByDefault()).isFalse();
            assertThat(t.modelMaxLength()).isEmpty();
            assertThat(t.vocabSize()).isEqualTo(400);
        }
    }

    @Test
    void acceptsTheTokenizerJsonFileItself() throws Exception {
        writeTokenizerJson();
        write("tokenizer_config.json", "{\"eos_token\": \"</s>\"}");

        try (Tokenizer t = Tokenizer.load(dir.resolve("tokenizer.json"))) {
            assertThat(t.eosId()).hasValue(4);
        }
    }

    @Test
    void tokenizerConfigBeatsSpecialTokensMapBeatsConfigJson() throws Exception {
        writeTokenizerJson();
        // bos: only in special_tokens_map; eos: object form in tokenizer_config, overriding the map;
        // pad: null in tokenizer_config, so special_tokens_map; unk: only config.json's id.
        write("tokenizer_config.json", """
                {"eos_token": {"content": "</s>", "lstrip": false, "__type": "AddedToken"},
                 "pad_token": null, "add_bos_token": false, "add_eos_token": true,
                 "model_max_length": 2048}""");
        write("special_tokens_map.json", """
                {"bos_token": {"content": "<s>"}, "eos_token": "<|eos|>", "pad_token": "<|pad|>"}""");
        write("config.json", """
                {"bos_token_id": 1, "eos_token_id": [2, 4], "pad_token_id": 2, "unk_token_id": 1}""");

        try (Tokenizer t = Tokenizer.load(dir)) {
            assertThat(t.bosId()).hasValue(3);
            assertThat(t.eosId()).hasValue(4);
            assertThat(t.padId()).hasValue(0);
            assertThat(t.unkId()).hasValue(1);
            assertThat(t.specialTokens()).isEqualTo(new SpecialTokens("<s>", "</s>", "<|pad|>", "<|bos|>"));
            assertThat(t.addBosByDefault()).isFalse();
            assertThat(t.addEosByDefault()).isTrue();
            assertThat(t.modelMaxLength()).hasValue(2048);
        }
    }

    @Test
    void configJsonIdsFillRolesTheTokenizerFilesLeaveOpen() throws Exception {
        writeTokenizerJson();
        write("config.json", "{\"bos_token_id\": 3, \"eos_token_id\": [4, 2], \"pad_token_id\": null}");
        write("tokenizer_config.json", "{\"model_max_length\": 1000000000000000019884624838656}");

        try (Tokenizer t = Tokenizer.load(dir)) {
            assertThat(t.bosId()).hasValue(3);
            assertThat(t.eosId()).hasValue(4);
            assertThat(t.padId()).isEmpty();
            assertThat(t.padIdOrEos()).isEqualTo(4);
            assertThat(t.modelMaxLength()).as("transformers' 'unset' marker").isEmpty();
        }
    }

    @Test
    void templatePostProcessorImpliesAddBos() throws Exception {
        JsonObject json = JsonParser.parseString(spec.tokenizerJson()).getAsJsonObject();
        json.add("post_processor", JsonParser.parseString("""
                {"type": "Sequence", "processors": [
                  {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": true},
                  {"type": "TemplateProcessing",
                   "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                   "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                   "special_tokens": {"<s>": {"id": "<s>", "ids": [3], "tokens": ["<s>"]}}}]}"""));
        write("tokenizer.json", json.toString());
        write("special_tokens_map.json", "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}");

        try (Tokenizer t = Tokenizer.load(dir)) {
            assertThat(t.addBosByDefault()).isTrue();
            assertThat(t.addEosByDefault()).isFalse();
            assertThat(t.encode("hi")).as("the template is not applied").containsExactly(5 + 'h', 5 + 'i');
        }
    }

    @Test
    void readsPairFormMergesAndIgnoresTruncationAndPaddingSections() throws Exception {
        JsonObject json = JsonParser.parseString(spec.tokenizerJson()).getAsJsonObject();
        JsonArray pairs = new JsonArray();
        for (JsonElement m : json.getAsJsonObject("model").getAsJsonArray("merges")) {
            String[] parts = m.getAsString().split(" ");
            JsonArray pair = new JsonArray();
            pair.add(parts[0]);
            pair.add(parts[1]);
            pairs.add(pair);
        }
        json.getAsJsonObject("model").add("merges", pairs);
        json.add("truncation", JsonParser.parseString(
                "{\"direction\": \"Right\", \"max_length\": 4, \"strategy\": \"LongestFirst\", \"stride\": 0}"));
        json.add("padding", JsonParser.parseString("""
                {"strategy": {"Fixed": 64}, "direction": "Right", "pad_to_multiple_of": null,
                 "pad_id": 0, "pad_type_id": 0, "pad_token": "<|pad|>"}"""));
        write("tokenizer.json", json.toString());
        String text = "The small model learns the shape of a language.";

        try (Tokenizer t = Tokenizer.load(dir)) {
            int[] ids = t.encode(text);
            assertThat(ids).containsExactly(spec.encoder().encode(text));
            assertThat(ids.length).isGreaterThan(4).isLessThan(64);
            assertThat(BpeEncoder.fromJson(json.toString(), "pairs").encode(text)).containsExactly(ids);
        }
    }

    @Test
    void missingTokenizerJsonNamesTheDirectory() {
        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("No tokenizer.json in " + dir.toAbsolutePath());
    }

    @Test
    void malformedTokenizerJsonNamesTheFile() throws Exception {
        write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": ");

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(dir.resolve("tokenizer.json").toString())
                .hasMessageContaining("not valid JSON");
    }

    @Test
    void tokenizerJsonTheNativesRejectNamesTheFile() throws Exception {
        write("tokenizer.json", "{\"model\": {\"type\": \"NoSuchModel\", \"vocab\": {\"a\": 0}}}");

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("HF tokenizers cannot load " + dir.resolve("tokenizer.json"));
    }

    @Test
    void malformedConfigNamesThatFile() throws Exception {
        writeTokenizerJson();
        write("tokenizer_config.json", "{\"bos_token\": ");

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(dir.resolve("tokenizer_config.json").toString());
    }

    @Test
    void unknownSpecialTokenIsAnError() throws Exception {
        writeTokenizerJson();
        write("tokenizer_config.json", "{\"pad_token\": \"<pad>\"}");

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer_config.json sets pad_token to '<pad>'")
                .hasMessageContaining("not in the vocabulary");
    }

    @Test
    void outOfRangeConfigIdIsAnError() throws Exception {
        writeTokenizerJson();
        write("config.json", "{\"eos_token_id\": 50256}");

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("config.json sets eos_token_id to 50256")
                .hasMessageContaining("vocabulary size 400");
    }

    @Test
    void bpeEncoderRejectsUnsupportedFiles() throws Exception {
        JsonObject json = JsonParser.parseString(spec.tokenizerJson()).getAsJsonObject();
        json.add("normalizer", JsonParser.parseString("{\"type\": \"NFC\"}"));
        write("tokenizer.json", json.toString());

        assertThatThrownBy(() -> BpeEncoder.load(dir.resolve("tokenizer.json")))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.json: a normalizer is not supported");
        assertThatThrownBy(() -> BpeEncoder.load(dir.resolve("missing.json")))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("not found");
    }
}
