package dev.understudy.ops.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.ops.tokenizer.Tokenizer.PromptResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Boundary and truncation rules of {@link Tokenizer#encodePromptResponse}, on the byte-level
 * tokenizer (pad=0, bos=1, eos=2, byte b = 3 + b) so every expected id is exact.
 */
class PromptResponseTest {
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        tokenizer = TokenizerSpec.byteLevel(ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS).toTokenizer();
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private static int b(char c) {
        return 3 + c;
    }

    @Test
    void fitsWithoutTruncation() {
        PromptResponse pr = tokenizer.encodePromptResponse("Q:", " A", 16, true, true);

        assertThat(pr.ids()).containsExactly(1, b('Q'), b(':'), b(' '), b('A'), 2);
        assertThat(pr.promptLength()).isEqualTo(3);
        assertThat(pr.responseLength()).isEqualTo(3);
        assertThat(pr.truncated()).isFalse();
    }

    @Test
    void exactFitIsNotTruncated() {
        PromptResponse pr = tokenizer.encodePromptResponse("ab", "cd", 6, true, true);

        assertThat(pr.ids()).containsExactly(1, b('a'), b('b'), b('c'), b('d'), 2);
        assertThat(pr.truncated()).isFalse();
    }

    @Test
    void noBosNoEos() {
        PromptResponse pr = tokenizer.encodePromptResponse("ab", "cd", 10, false, false);

        assertThat(pr.ids()).containsExactly(b('a'), b('b'), b('c'), b('d'));
        assertThat(pr.promptLength()).isEqualTo(2);
    }

    @Test
    void promptAndResponseAreEncodedSeparately() {
        // Joint encoding of "ab" would be the same bytes; with merges the boundary could differ, so the
        // contract is checked through the concatenation of the two separate encodings.
        PromptResponse pr = tokenizer.encodePromptResponse("hello ", "world", 64, false, false);

        int[] prompt = tokenizer.encode("hello ");
        assertThat(pr.promptLength()).isEqualTo(prompt.length);
        assertThat(pr.ids()).startsWith(prompt).endsWith(tokenizer.encode("world"));
    }

    @Test
    void promptIsCutFromTheLeftFirst() {
        PromptResponse pr = tokenizer.encodePromptResponse("abcdef", "xy", 6, true, true);

        // 1 + 6 + 2 + 1 = 10 > 6: drop 4 prompt tokens from the left, keep BOS.
        assertThat(pr.ids()).containsExactly(1, b('e'), b('f'), b('x'), b('y'), 2);
        assertThat(pr.promptLength()).isEqualTo(3);
        assertThat(pr.truncated()).isTrue();
    }

    @Test
    void thenTheResponseEndIsCutAndLosesEos() {
        PromptResponse pr = tokenizer.encodePromptResponse("abc", "wxyz", 4, true, true);

        // Prompt fully dropped; BOS + 4 + EOS = 6 > 4: keep BOS + first 3 response tokens, no EOS.
        assertThat(pr.ids()).containsExactly(1, b('w'), b('x'), b('y'));
        assertThat(pr.promptLength()).isEqualTo(1);
        assertThat(pr.truncated()).isTrue();
    }

    @Test
    void responseThatFitsOnlyWithoutEosKeepsAllTokens() {
        PromptResponse pr = tokenizer.encodePromptResponse("abc", "xyz", 4, true, true);

        assertThat(pr.ids()).containsExactly(1, b('x'), b('y'), b('z'));
        assertThat(pr.truncated()).isTrue();
    }

    @Test
    void promptCutExactlyToZero() {
        PromptResponse pr = tokenizer.encodePromptResponse("ab", "xy", 3, false, true);

        assertThat(pr.ids()).containsExactly(b('x'), b('y'), 2);
        assertThat(pr.promptLength()).isZero();
        assertThat(pr.truncated()).isTrue();
    }

    @Test
    void multibyteCharactersMayBeSplitByTruncation() {
        // "é" is two byte tokens; truncation works on tokens, not characters.
        PromptResponse pr = tokenizer.encodePromptResponse("é", "z", 3, true, false);

        assertThat(pr.ids()).containsExactly(1, b((char) 0xA9), b('z'));
    }

    @Test
    void pureAssembleRules() {
        PromptResponse pr = Tokenizer.assemble(new int[] {10, 11, 12}, new int[] {20, 21}, -1, 9, 4);

        assertThat(pr).isEqualTo(new PromptResponse(new int[] {12, 20, 21, 9}, 1, true));
        assertThat(Tokenizer.assemble(new int[0], new int[0], 1, 2, 2))
                .isEqualTo(new PromptResponse(new int[] {1, 2}, 1, false));
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> tokenizer.encodePromptResponse("a", "b", 1, true, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxLength to 1");
        assertThat(tokenizer.encodePromptResponse("a", "b", 1, false, false).ids()).containsExactly(b('b'));
    }

    @Test
    void worksWithATrainedTokenizer() throws Exception {
        TokenizerSpec spec = ByteLevelBpeTrainer.train(Corpora.english(), 350, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);
        try (Tokenizer t = spec.toTokenizer()) {
            String prompt = "Question: what does a tokenizer do?\nAnswer:";
            String response = " It turns text into numbers.";

            PromptResponse pr = t.encodePromptResponse(prompt, response, 1000, true, true);

            assertThat(t.decode(pr.ids(), true)).isEqualTo(prompt + response);
            assertThat(t.decode(java.util.Arrays.copyOfRange(pr.ids(), pr.promptLength(), pr.ids().length), true))
                    .isEqualTo(response);
            assertThat(List.of(pr.ids()[0], pr.ids()[pr.ids().length - 1])).containsExactly(1, 2);
        }
    }
}
