package dev.understudy.ops.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pure-Java encoder, without natives. */
class BpeEncoderTest {

    @Test
    void encodesWithMergesInRankOrder() {
        // Merges "h e" (rank 0), "t he" (1), "Ġ the" (2); see ByteLevelBpeTrainerTest.
        TokenizerSpec spec = ByteLevelBpeTrainer.train(List.of("the the the cat"), 1000, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);
        BpeEncoder encoder = spec.encoder();

        assertThat(encoder.encode(" the")).containsExactly(261);
        assertThat(encoder.encode("the")).containsExactly(260);
        assertThat(encoder.encode("he")).containsExactly(259);
        assertThat(encoder.encode("theme")).containsExactly(260, 3 + 'm', 3 + 'e');
        assertThat(encoder.encode(" cat")).containsExactly(3 + ' ', 3 + 'c', 3 + 'a', 3 + 't');
        assertThat(encoder.token(261)).isEqualTo("Ġthe");
        assertThat(encoder.vocabSize()).isEqualTo(262);
    }

    @Test
    void roundTripsWithoutNatives() {
        BpeEncoder encoder = ByteLevelBpeTrainer.train(Corpora.english(), 500, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS).encoder();

        for (String s : TokenizerTest.SAMPLES) {
            assertThat(encoder.decode(encoder.encode(s), false)).isEqualTo(s);
        }
        assertThat(encoder.decode(encoder.encode("x<|bos|>y"), true)).isEqualTo("xy");
        assertThatThrownBy(() -> encoder.decode(new int[] {500}, false)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void loadsTheWrittenFile(@TempDir Path dir) throws Exception {
        TokenizerSpec spec = ByteLevelBpeTrainer.train(Corpora.synthetic(30_000, 1), 700, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);
        spec.writeTo(dir);

        BpeEncoder loaded = BpeEncoder.load(dir.resolve("tokenizer.json"));

        for (String s : Corpora.english()) {
            assertThat(loaded.encode(s)).containsExactly(spec.encoder().encode(s));
        }
        assertThat(loaded.vocabSize()).isEqualTo(700);
    }

    @Test
    void addedTokensMatchLeftmostThenLongest() {
        List<String> segments = new ArrayList<>();

        BpeEncoder.splitAdded("x<a><ab>y<a", List.of("<a>", "<ab>", "<a"), (s, added) -> segments.add(added ? "[" + s + "]" : s));

        assertThat(segments).containsExactly("x", "[<a>]", "[<ab>]", "y", "[<a]");
    }

    @Test
    void loneSurrogatesBecomeReplacementChars() {
        assertThat(ByteLevel.replaceLoneSurrogates("a\uD83D")).isEqualTo("a\uFFFD");
        assertThat(ByteLevel.replaceLoneSurrogates("\uDE42b\uD83D\uDE42")).isEqualTo("\uFFFDb\uD83D\uDE42");
        String clean = "no surrogates";
        assertThat(ByteLevel.replaceLoneSurrogates(clean)).isSameAs(clean);
    }
}
