package dev.understudy.ops.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokenizers encode the same in Understudy and in transformers 5.18: for every tokenizer kind the
 * project writes (pretraining's byte-level BPE) or reads (GPT-2, Llama 3, Llama 2 / Mistral
 * sentencepiece-style BPE, Qwen2), {@code AutoTokenizer.from_pretrained(dir)(text)} returned, when
 * {@code make_tokenizer_oracle.py} ran, exactly the ids Understudy feeds the model: {@link
 * Tokenizer#encode(String, boolean, boolean)} with {@link Tokenizer#addBosByDefault()} /{@link
 * Tokenizer#addEosByDefault()}. Fixtures: {@code src/test/resources/oracle/tokenizers/<kind>/}.
 */
class TokenizerOracleTest {
    static final Path DIR = Path.of("src/test/resources/oracle/tokenizers");
    static final Set<String> KINDS = Set.of("understudy-bytelevel-bpe", "gpt2-bytelevel-bpe", "llama3-bytelevel-bpe",
            "llama2-sentencepiece-bpe", "qwen2-bytelevel-bpe");

    @Test
    void everyKindHasAFixture() throws IOException {
        Set<String> found = new TreeSet<>();
        try (Stream<Path> s = Files.list(DIR)) {
            s.filter(d -> Files.isRegularFile(d.resolve("expected.json"))).forEach(d -> found.add(d.getFileName().toString()));
        }
        assertThat(found).containsAll(KINDS);
    }

    @TestFactory
    Stream<DynamicTest> understudyIdsEqualTransformersIds() {
        return KINDS.stream().sorted().map(kind -> DynamicTest.dynamicTest(kind, () -> {
            Path d = DIR.resolve(kind);
            JsonObject exp = JsonParser.parseString(Files.readString(d.resolve("expected.json"))).getAsJsonObject();
            List<String> texts = new ArrayList<>();
            exp.getAsJsonArray("texts").forEach(e -> texts.add(e.getAsString()));
            try (Tokenizer tok = Tokenizer.load(d)) {
                for (int i = 0; i < texts.size(); i++) {
                    String text = texts.get(i);
                    int[] fed = tok.encode(text, tok.addBosByDefault(), tok.addEosByDefault());
                    assertThat(fed).as("%s: ids fed to the model for %s", kind, quoted(text))
                            .isEqualTo(ints(exp.getAsJsonArray("input_ids").get(i).getAsJsonArray()));
                    int[] plain = tok.encode(text);
                    assertThat(plain).as("%s: ids without special tokens for %s", kind, quoted(text))
                            .isEqualTo(ints(exp.getAsJsonArray("input_ids_no_special").get(i).getAsJsonArray()));
                    assertThat(tok.decode(plain)).as("%s: decode of %s", kind, quoted(text))
                            .isEqualTo(exp.getAsJsonArray("decoded").get(i).getAsString());
                }
            }
        }));
    }

    /**
     * Regression for the BOS mismatch: transformers 5 ignores add_bos_token for a plain fast
     * tokenizer, so the tokenizer.json Understudy writes must carry a template that adds the BOS.
     */
    @Test
    void transformersGetsTheBosUnderstudyPrepends() throws IOException {
        Path d = DIR.resolve("understudy-bytelevel-bpe");
        JsonObject exp = JsonParser.parseString(Files.readString(d.resolve("expected.json"))).getAsJsonObject();
        try (Tokenizer tok = Tokenizer.load(d)) {
            assertThat(tok.addBosByDefault()).isTrue();
            int bos = tok.bosId().orElseThrow();
            for (var ids : exp.getAsJsonArray("input_ids")) {
                assertThat(ids.getAsJsonArray().get(0).getAsInt()).as("transformers' first id").isEqualTo(bos);
            }
        }
    }

    /** The fixture is what pretraining writes today; if the writer changes, regenerate the oracle. */
    @Test
    void understudyFixtureIsWhatTheWriterWritesToday(@TempDir Path tmp) throws IOException {
        OracleTokenizerWriter.spec().writeTo(tmp);
        Path fixture = DIR.resolve("understudy-bytelevel-bpe");
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
            assertThat(Files.readString(tmp.resolve(f)))
                    .as("%s differs from the oracle fixture; run model-ops/src/test/python/regenerate-oracle.sh", f)
                    .isEqualTo(Files.readString(fixture.resolve(f)));
        }
    }

    private static String quoted(String s) {
        return '"' + s.replace("\n", "\\n").replace("\t", "\\t") + '"';
    }

    private static int[] ints(JsonArray a) {
        int[] x = new int[a.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = a.get(i).getAsInt();
        }
        return x;
    }
}
