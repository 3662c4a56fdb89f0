package dev.understudy.ops.infer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** ROUGE-L against values computed by hand (Lin 2004, §3.1's own example first). */
class RougeLTest {
    @Test
    void linsExampleSentences() {
        // Lin 2004 §3.1: reference S1 "police killed the gunman"; S2 shares "police the gunman"
        // (LCS 3 of 4 words each side), S3 "the gunman kill police" only "the gunman" (LCS 2).
        RougeL.Score s2 = RougeL.score("police kill the gunman", "police killed the gunman");
        assertThat(s2.lcs()).isEqualTo(3);
        assertThat(s2.recall()).isEqualTo(0.75);
        assertThat(s2.precision()).isEqualTo(0.75);
        assertThat(s2.f1()).isCloseTo(0.75, within(1e-12));
        RougeL.Score s3 = RougeL.score("the gunman kill police", "police killed the gunman");
        assertThat(s3.lcs()).isEqualTo(2);
        assertThat(s3.f1()).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void unequalLengthsGiveTheHarmonicMeanOfRecallAndPrecision() {
        // LCS "a c e" = 3; R = 3/6, P = 3/5, F1 = 2·0.5·0.6 / 1.1 = 6/11
        RougeL.Score s = RougeL.score("a b c d e", "a x c y e z");
        assertThat(s.lcs()).isEqualTo(3);
        assertThat(s.recall()).isEqualTo(0.5);
        assertThat(s.precision()).isEqualTo(0.6);
        assertThat(s.f1()).isCloseTo(6.0 / 11.0, within(1e-12));
    }

    @Test
    void lcsIsASubsequenceNotASubstring() {
        assertThat(RougeL.lcs(List.of("a", "b", "a"), List.of("b", "a", "b"))).isEqualTo(2);
        assertThat(RougeL.lcs(List.of("a", "b", "c", "b", "d", "a", "b"), List.of("b", "d", "c", "a", "b", "a")))
                .isEqualTo(4); // "b c b a" (CLRS 15.4)
        assertThat(RougeL.lcs(List.of(), List.of("a"))).isZero();
    }

    @Test
    void tokensAreLowerCasedAlphanumericRuns() {
        assertThat(RougeL.tokens("Dog's, (noun) 3-legged!  ")).containsExactly("dog", "s", "noun", "3", "legged");
        assertThat(RougeL.tokens("  ...  ")).isEmpty();
        assertThat(RougeL.tokens(null)).isEmpty();
        // case and punctuation do not matter: identical word sequences score 1
        assertThat(RougeL.score("A domesticated CARNIVORE.", "a domesticated carnivore").f1()).isEqualTo(1.0);
    }

    @Test
    void emptyOrDisjointTextsScoreZero() {
        assertThat(RougeL.score("", "a b").f1()).isZero();
        assertThat(RougeL.score("a b", "").f1()).isZero();
        assertThat(RougeL.score("x y", "a b").f1()).isZero();
    }
}
