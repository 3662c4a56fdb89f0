package dev.understudy.ops.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.ops.io.DirectoryModelSource;
import dev.understudy.ops.util.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFamilyTest {
    static final String TOKENIZER = "{\"model\": {\"type\": \"BPE\"}}\n";
    static final String SHA = Digests.sha256Hex(TOKENIZER);

    static ModelFamily.Member member(String name, int vocab, String sha) {
        return new ModelFamily.Member(name, name, vocab, sha, 1000, 400, 16, 2, 2, 1, 32, 64, 1e-3, 10, 640, 1.5, 426.7,
                3.2, Math.exp(3.2), 600);
    }

    static ModelFamily family(List<ModelFamily.Member> members) {
        return new ModelFamily("fam", 300, SHA, "d".repeat(64), new ModelFamily.Corpus("c".repeat(64), 10, 9, 1, 5000,
                1200, 130, List.of("file:///corpus")), 640, members, null);
    }

    @Test
    void roundTripsThroughFamilyJson(@TempDir Path dir) throws IOException {
        ModelFamily f = family(List.of(member("small", 300, SHA), member("large", 300, SHA)));
        f.write(dir);
        ModelFamily back = ModelFamily.load(dir);

        assertThat(back.source()).isEqualTo(new DirectoryModelSource(dir).describe(ModelFamily.FILE));
        assertThat(back.withSource(null)).isEqualTo(f);
        assertThat(back.member("large").hiddenSize()).isEqualTo(16);
        assertThat(back.member("large").nonEmbeddingParameters()).isEqualTo(600);
        assertThat(back.memberDir(dir, "small")).isEqualTo(dir.resolve("small"));
        assertThat(back.cacheKey()).isEqualTo("d".repeat(64) + "/" + "c".repeat(64));
        assertThat(Files.readString(dir.resolve("family.json"))).contains("\"format\": \"understudy-model-family/1\"",
                "\"non_embedding_parameters\": 600");
    }

    @Test
    void nonFiniteFiguresSurviveTheRoundTrip(@TempDir Path dir) throws IOException {
        ModelFamily.Member m = new ModelFamily.Member("m", "m", 300, SHA, 1, 0, 16, 1, 2, 1, 8, 8, 1e-3, 0, 0, 0,
                Double.NaN, Double.NaN, Double.POSITIVE_INFINITY, 0);
        family(List.of(m)).write(dir);
        ModelFamily.Member back = ModelFamily.load(dir).member("m");
        assertThat(back.tokensPerSecond()).isNaN();
        assertThat(back.heldoutPerplexity()).isInfinite();
    }

    @Test
    void unknownMemberNamesTheMembers() {
        ModelFamily f = family(List.of(member("small", 300, SHA), member("large", 300, SHA)));
        assertThatThrownBy(() -> f.member("xl")).hasMessageContaining("no member 'xl'")
                .hasMessageContaining("[small, large]");
    }

    @Test
    void sharedVocabularyCheckNamesTheFileAndTheMember(@TempDir Path dir) throws IOException {
        family(List.of(member("small", 300, SHA), member("large", 512, SHA))).write(dir);
        ModelFamily f = ModelFamily.load(dir);
        assertThatThrownBy(f::checkSharedVocabulary)
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(dir.resolve("family.json").toUri().toString())
                .hasMessageContaining("member 'large' has vocab_size 512")
                .hasMessageContaining("300");
        // The pair that does share a vocabulary passes.
        assertThat(f.checkSharedVocabulary(List.of("small"))).isSameAs(f);

        family(List.of(member("small", 300, SHA), member("large", 300, "e".repeat(64)))).write(dir);
        assertThatThrownBy(() -> ModelFamily.load(dir).checkSharedVocabulary())
                .hasMessageContaining("member 'large' was trained with tokenizer " + "e".repeat(64));
    }

    @Test
    void verifyChecksTheFilesOnDisk(@TempDir Path dir) throws IOException {
        ModelFamily f = family(List.of(member("small", 300, SHA), member("large", 300, SHA)));
        f.write(dir);
        write(dir.resolve("tokenizer/tokenizer.json"), TOKENIZER);
        for (String m : List.of("small", "large")) {
            write(dir.resolve(m).resolve("tokenizer.json"), TOKENIZER);
            write(dir.resolve(m).resolve("config.json"), "{\"vocab_size\": 300}");
        }
        DirectoryModelSource source = new DirectoryModelSource(dir);
        assertThat(ModelFamily.load(dir).verify(source).memberNames()).containsExactly("small", "large");

        write(dir.resolve("large/tokenizer.json"), TOKENIZER.replace("BPE", "WordPiece"));
        assertThatThrownBy(() -> ModelFamily.load(dir).verify(source))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("large/tokenizer.json")
                .hasMessageContaining("member 'large'");

        write(dir.resolve("large/tokenizer.json"), TOKENIZER);
        write(dir.resolve("small/config.json"), "{\"vocab_size\": 301}");
        assertThatThrownBy(() -> ModelFamily.load(dir).verify(source))
                .hasMessageContaining("small/config.json")
                .hasMessageContaining("has vocab_size 301");
    }

    @Test
    void malformedManifestsNameTheFileAndTheKey(@TempDir Path dir) throws IOException {
        family(List.of(member("small", 300, SHA))).write(dir);
        Path file = dir.resolve("family.json");
        String json = Files.readString(file);

        Files.writeString(file, json.replace("\"hidden_size\": 16,", ""));
        assertThatThrownBy(() -> ModelFamily.load(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(file.toUri().toString())
                .hasMessageContaining("member 'small'")
                .hasMessageContaining("\"hidden_size\"");

        Files.writeString(file, json.replace("understudy-model-family/1", "something-else"));
        assertThatThrownBy(() -> ModelFamily.load(dir)).hasMessageContaining("format 'something-else'");

        Files.writeString(file, json.replace("\"dir\": \"small\"", "\"dir\": \"../escape\""));
        assertThatThrownBy(() -> ModelFamily.load(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("plain sub-directory name");
    }

    private static void write(Path p, String text) throws IOException {
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }
}
