package dev.understudy.ops.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.understudy.ops.tokenizer.Tokenizer.SpecialTokens;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DJL-backed tokenizer on a tokenizer trained by {@link ByteLevelBpeTrainer}. */
class TokenizerTest {
    static final List<String> SAMPLES = List.of(
            "",
            "hello the world!",
            "The quick brown fox jumps over the lazy dog.",
            "  leading and trailing spaces  ",
            "tabs\tand\nnewlines\n\n\nand\r\nCRLF",
            "whitespace runs:     five,\u00A0nbsp,\u3000ideographic",
            "Café naïve Zürich São Paulo — “quotes” ‘single’ …",
            "東京 日本語のテキスト 한국어 Ελληνικά русский עברית العربية",
            "emoji 🙂🚀👩‍👩‍👧‍👦 flags 🇩🇪 skin 👍🏽",
            "numbers 3.14159 1,000,000 2019-12-31 0x1F",
            "it's we're they've I'm you'll he'd can't",
            "code: for (int i = 0; i < n; i++) { sum += a[i]; }",
            "\n",
            "   ",
            "a");

    @TempDir
    static Path dir;

    static TokenizerSpec spec;
    static Tokenizer tokenizer;

    @BeforeAll
    static void train() throws Exception {
        List<String> corpus = new ArrayList<>(Corpora.english());
        corpus.addAll(Corpora.synthetic(50_000, 5));
        spec = ByteLevelBpeTrainer.train(corpus, 1200, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);
        spec.writeTo(dir);
        tokenizer = Tokenizer.load(dir);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void roundTripsArbitraryText() {
        for (String s : SAMPLES) {
            assertThat(tokenizer.decode(tokenizer.encode(s))).as("round trip of %s", s).isEqualTo(s);
        }
    }

    @Test
    void idsMatchTheJavaReferenceEncoder() {
        BpeEncoder reference = spec.encoder();
        for (String s : SAMPLES) {
            assertThat(tokenizer.encode(s)).as("ids of %s", s).containsExactly(reference.encode(s));
        }
        for (String s : Corpora.synthetic(20_000, 99)) {
            assertThat(tokenizer.encode(s)).containsExactly(reference.encode(s));
        }
        for (String s : Corpora.english()) {
            assertThat(tokenizer.encode(s)).containsExactly(reference.encode(s));
        }
    }

    @Test
    void mergesAreUsed() {
        int[] ids = tokenizer.encode("of the the");

        assertThat(ids.length).isLessThan(6);
        assertThat(tokenizer.token(ids[ids.length - 2])).isEqualTo("Ġthe");
        assertThat(tokenizer.token(ids[ids.length - 1])).isEqualTo("Ġthe");
    }

    @Test
    void specialTokens() {
        assertThat(tokenizer.vocabSize()).isEqualTo(1200);
        assertThat(tokenizer.padId()).hasValue(0);
        assertThat(tokenizer.bosId()).hasValue(1);
        assertThat(tokenizer.eosId()).hasValue(2);
        assertThat(tokenizer.unkId()).isEmpty();
        assertThat(tokenizer.padIdOrEos()).isZero();
        assertThat(tokenizer.specialTokens()).isEqualTo(SpecialTokens.defaults());
        assertThat(tokenizer.addBosByDefault()).isTrue();
        assertThat(tokenizer.addEosByDefault()).isFalse();
        assertThat(tokenizer.modelMaxLength()).hasValue(1024);
        assertThat(tokenizer.tokenId("<|eos|>")).hasValue(2);
        assertThat(tokenizer.tokenId("Ġthe")).isPresent();
        assertThat(tokenizer.tokenId("no such token")).isEmpty();
        assertThat(tokenizer.token(1)).isEqualTo("<|bos|>");
        assertThat(tokenizer.isSpecial(2)).isTrue();
        assertThat(tokenizer.isSpecial(3)).isFalse();
        assertThatThrownBy(() -> tokenizer.token(1200)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void encodeAddsNoSpecialTokensUnlessAsked() {
        int[] plain = tokenizer.encode("hello");

        assertThat(tokenizer.encode("hello", false, false)).containsExactly(plain);
        int[] both = tokenizer.encode("hello", true, true);
        assertThat(both).hasSize(plain.length + 2);
        assertThat(both[0]).isEqualTo(1);
        assertThat(both[both.length - 1]).isEqualTo(2);
        assertThat(tokenizer.encode("hello", true, false)).startsWith(1).endsWith(plain);
    }

    @Test
    void specialTokenTextInTheInputIsMatched() {
        int[] ids = tokenizer.encode("a<|eos|>b");

        assertThat(ids).containsExactly(3 + 'a', 2, 3 + 'b');
        assertThat(tokenizer.decode(ids)).isEqualTo("a<|eos|>b");
        assertThat(tokenizer.decode(ids, true)).isEqualTo("ab");
        assertThat(spec.encoder().encode("a<|eos|>b")).containsExactly(ids);
    }

    @Test
    void neverTruncatesLongText() {
        // DJL's default would cut at 512 tokens.
        String text = "x".repeat(1).concat(" zq".repeat(3000));

        int[] ids = tokenizer.encode(text);

        assertThat(ids.length).isGreaterThan(3000);
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
    }

    @Test
    void batchIsUnpaddedAndEqualsSingleEncodes() {
        List<String> texts = List.of("short", "a much longer text with many more tokens in it", "", "🙂");

        List<int[]> batch = tokenizer.encodeBatch(texts);

        assertThat(batch).hasSize(4);
        for (int i = 0; i < texts.size(); i++) {
            assertThat(batch.get(i)).containsExactly(tokenizer.encode(texts.get(i)));
        }
        assertThat(tokenizer.encodeBatch(List.of())).isEmpty();
    }

    @Test
    void decodeRejectsIdsOutsideTheVocabulary() {
        assertThatThrownBy(() -> tokenizer.decode(new int[] {5, 1200}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("id 1200 at position 1");
        assertThatThrownBy(() -> tokenizer.decode(new int[] {-1}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void partialUtf8DecodesToReplacementChar() {
        int[] ids = tokenizer.encode("é");

        assertThat(ids).containsExactly(3 + 0xC3, 3 + 0xA9);
        assertThat(tokenizer.decode(new int[] {ids[0]})).isEqualTo("\uFFFD");
    }

    @Test
    void loneSurrogatesDoNotCrash() {
        String broken = "a\uD83Db";

        int[] ids = tokenizer.encode(broken);

        assertThat(ids).containsExactly(spec.encoder().encode(broken));
        assertThat(tokenizer.decode(ids)).isEqualTo("a\uFFFDb");
        assertThat(tokenizer.encodeBatch(List.of(broken)).get(0)).containsExactly(ids);
    }

    @Test
    void concurrentEncodingEqualsSequential() throws Exception {
        List<String> texts = Corpora.synthetic(60_000, 123).subList(0, 100);
        List<String> inputs = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            inputs.add(texts.get(i % texts.size()) + " #" + i);
        }
        List<int[]> sequential = new ArrayList<>();
        for (String s : inputs) {
            sequential.add(tokenizer.encode(s));
        }
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<List<int[]>>> futures = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                futures.add(pool.submit(() -> {
                    List<int[]> out = new ArrayList<>();
                    for (String s : inputs) {
                        out.add(tokenizer.encode(s));
                    }
                    return out;
                }));
            }
            for (Future<List<int[]>> f : futures) {
                List<int[]> got = f.get();
                for (int i = 0; i < inputs.size(); i++) {
                    assertThat(got.get(i)).containsExactly(sequential.get(i));
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void loadsFromAStreamWithExplicitSpecials() throws Exception {
        byte[] json = spec.tokenizerJson().getBytes(StandardCharsets.UTF_8);

        try (Tokenizer t = Tokenizer.load(new ByteArrayInputStream(json), new SpecialTokens(null, "<|eos|>", null, null))) {
            assertThat(t.eosId()).hasValue(2);
            assertThat(t.bosId()).isEmpty();
            assertThat(t.padId()).isEmpty();
            assertThat(t.padIdOrEos()).isEqualTo(2);
            assertThat(t.addBosByDefault()).isFalse();
            assertThat(t.encode("hello the world!")).containsExactly(tokenizer.encode("hello the world!"));
            assertThatThrownBy(() -> t.encode("x", true, false))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no BOS token");
        }
        try (Tokenizer t = Tokenizer.load(new ByteArrayInputStream(json), SpecialTokens.none())) {
            assertThatThrownBy(t::padIdOrEos)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("neither a pad nor an eos token");
        }
        assertThatThrownBy(() -> Tokenizer.load(new ByteArrayInputStream(json), new SpecialTokens("<s>", null, null, null)))
                .isInstanceOf(dev.understudy.ops.util.ModelFormatException.class)
                .hasMessageContaining("bos token '<s>' is not in the vocabulary");
    }

    @Test
    void specToTokenizerNeedsNoFiles() throws Exception {
        try (Tokenizer t = spec.toTokenizer()) {
            assertThat(t.encode("Café 🙂")).containsExactly(tokenizer.encode("Café 🙂"));
            assertThat(t.eosId()).hasValue(2);
        }
    }

    @Test
    void closedTokenizerFailsClearly() throws Exception {
        Tokenizer t = Tokenizer.load(dir);
        t.close();
        t.close();

        assertThatThrownBy(() -> t.encode("x")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }
}
