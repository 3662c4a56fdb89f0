package dev.understudy.ops.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.understudy.ops.tokenizer.ByteLevelBpeTrainer.Options;
import dev.understudy.ops.tokenizer.Tokenizer.SpecialTokens;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByteLevelBpeTrainerTest {

    @Test
    void firstMergesAreTheMostFrequentPairsWithLexicographicTieBreak() {
        // Prepare: pre-tokens "the" x1, "Ġthe" x2, "Ġcat" x1.
        // Pair counts: (t,h)=3, (h,e)=3, (Ġ,t)=2, rest 1. Tie (h,e) vs (t,h): "h" < "t" wins.
        // Then (t,he)=3, then (Ġ,the)=2; every remaining pair occurs once (< minFrequency 2).
        List<String> corpus = List.of("the the the cat");

        TokenizerSpec spec = ByteLevelBpeTrainer.train(corpus, 1000, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);

        assertThat(spec.merges()).containsExactly("h e", "t he", "Ġ the");
        assertThat(spec.vocabSize()).isEqualTo(3 + 256 + 3);
        assertThat(spec.tokens().subList(259, 262)).containsExactly("he", "the", "Ġthe");
    }

    @Test
    void spaceTPairWinsOnACorpusOfTWords() {
        // " t" starts every word after the first: (Ġ,t) occurs 5 times, (t,o) 3, (t,a) 2.
        TokenizerSpec spec = ByteLevelBpeTrainer.train(
                List.of("a to to to ta ta"), 1000, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);

        assertThat(spec.merges().get(0)).isEqualTo("Ġ t");
        assertThat(spec.merges().get(1)).isEqualTo("Ġt o");
    }

    @Test
    void idsAreSpecialsThenBytesThenMerges() {
        TokenizerSpec spec = ByteLevelBpeTrainer.train(Corpora.english(), 400, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);

        assertThat(spec.vocabSize()).isEqualTo(400);
        assertThat(spec.tokens().subList(0, 3)).containsExactly("<|pad|>", "<|bos|>", "<|eos|>");
        assertThat(spec.tokens().get(ByteLevelBpeTrainer.PAD_ID)).isEqualTo("<|pad|>");
        assertThat(spec.tokens().get(ByteLevelBpeTrainer.BOS_ID)).isEqualTo("<|bos|>");
        assertThat(spec.tokens().get(ByteLevelBpeTrainer.EOS_ID)).isEqualTo("<|eos|>");
        for (int b = 0; b < 256; b++) {
            assertThat(spec.tokens().get(3 + b)).isEqualTo(String.valueOf(ByteLevel.byteChar(b)));
        }
        assertThat(spec.tokens().get(3 + ' ')).isEqualTo("Ġ");
        assertThat(spec.tokens().get(3 + '\n')).isEqualTo("Ċ");
        assertThat(spec.roles()).isEqualTo(SpecialTokens.defaults());
    }

    @Test
    void byteLevelSpecHasNoMerges() {
        TokenizerSpec spec = TokenizerSpec.byteLevel(List.of("<|pad|>", "<|eos|>"));

        assertThat(spec.vocabSize()).isEqualTo(258);
        assertThat(spec.merges()).isEmpty();
        assertThat(spec.roles()).isEqualTo(new SpecialTokens(null, "<|eos|>", "<|pad|>", null));
        assertThat(spec.encoder().encode("hé")).containsExactly(2 + 'h', 2 + 0xC3, 2 + 0xA9);
        assertThat(ByteLevelBpeTrainer.byteLevel(List.of()).vocabSize()).isEqualTo(256);
    }

    @Test
    void incrementalCountsMatchANaiveRetrainingReference() {
        // Repeats, overlaps ("aaaa", "abab") and multibyte text stress the pair-count updates.
        List<String> corpus = new ArrayList<>(Corpora.english());
        corpus.add("aaaa aaaaa aaa abababab ababa baba aaaa bbbb ab ab ab ba ba");
        corpus.add("löwe löwen über übel 東京 東京都 🙂🙂🙂 🙂 ---- ==== ...... \n\n\n  \t\t");
        Options options = Options.defaults(700).withMinFrequency(1);

        TokenizerSpec spec = ByteLevelBpeTrainer.train(corpus, options);

        assertThat(spec.merges()).isEqualTo(naiveMerges(corpus, options));
        assertThat(spec.vocabSize()).isEqualTo(700);
    }

    @Test
    void specialTokensInTheCorpusDoNotFeedMerges() {
        TokenizerSpec spec = ByteLevelBpeTrainer.train(
                List.of("<|eos|><|eos|><|eos|><|eos|> ab ab"), 1000, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);

        assertThat(spec.merges()).containsExactly("a b", "Ġ ab");
    }

    @Test
    void trainingIsDeterministicAndIndependentOfCorpusOrder(@TempDir Path dir) throws Exception {
        List<String> corpus = Corpora.synthetic(60_000, 7);
        List<String> shuffled = new ArrayList<>(corpus);
        Collections.shuffle(shuffled, new java.util.Random(3));

        TokenizerSpec a = ByteLevelBpeTrainer.train(corpus, 800, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);
        TokenizerSpec b = ByteLevelBpeTrainer.train(corpus, 800, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);
        TokenizerSpec c = ByteLevelBpeTrainer.train(shuffled, 800, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);
        a.writeTo(dir.resolve("a"));
        b.writeTo(dir.resolve("b"));
        c.writeTo(dir.resolve("c"));

        for (String file : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
            byte[] bytesA = Files.readAllBytes(dir.resolve("a").resolve(file));
            assertThat(Files.readAllBytes(dir.resolve("b").resolve(file))).isEqualTo(bytesA);
            assertThat(Files.readAllBytes(dir.resolve("c").resolve(file))).isEqualTo(bytesA);
        }
    }

    @Test
    void writesHuggingFaceFiles(@TempDir Path dir) throws Exception {
        TokenizerSpec spec = ByteLevelBpeTrainer.train(Corpora.english(), 300, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);

        spec.writeTo(dir);

        JsonObject json = JsonParser.parseString(Files.readString(dir.resolve("tokenizer.json"))).getAsJsonObject();
        JsonObject model = json.getAsJsonObject("model");
        assertThat(model.get("type").getAsString()).isEqualTo("BPE");
        assertThat(model.get("byte_fallback").getAsBoolean()).isFalse();
        assertThat(model.getAsJsonObject("vocab").size()).isEqualTo(300);
        assertThat(model.getAsJsonArray("merges").get(0).getAsString()).isEqualTo(spec.merges().get(0));
        assertThat(json.getAsJsonObject("pre_tokenizer").get("type").getAsString()).isEqualTo("ByteLevel");
        assertThat(json.getAsJsonObject("pre_tokenizer").get("add_prefix_space").getAsBoolean()).isFalse();
        assertThat(json.getAsJsonObject("decoder").get("type").getAsString()).isEqualTo("ByteLevel");
        assertThat(json.get("padding").isJsonNull()).isTrue();
        JsonObject eos = json.getAsJsonArray("added_tokens").get(2).getAsJsonObject();
        assertThat(eos.get("id").getAsInt()).isEqualTo(2);
        assertThat(eos.get("content").getAsString()).isEqualTo("<|eos|>");
        assertThat(eos.get("special").getAsBoolean()).isTrue();
        String raw = Files.readString(dir.resolve("tokenizer.json"), StandardCharsets.UTF_8);
        assertThat(raw).contains("\"<|pad|>\": 0").doesNotContain("\\u003c");

        JsonObject config = JsonParser.parseString(Files.readString(dir.resolve("tokenizer_config.json"))).getAsJsonObject();
        assertThat(config.get("bos_token").getAsString()).isEqualTo("<|bos|>");
        assertThat(config.get("eos_token").getAsString()).isEqualTo("<|eos|>");
        assertThat(config.get("pad_token").getAsString()).isEqualTo("<|pad|>");
        assertThat(config.get("add_bos_token").getAsBoolean()).isTrue();
        assertThat(config.get("model_max_length").getAsInt()).isEqualTo(1024);
        JsonObject map = JsonParser.parseString(Files.readString(dir.resolve("special_tokens_map.json"))).getAsJsonObject();
        assertThat(map.keySet()).containsExactly("bos_token", "eos_token", "pad_token");
    }

    @Test
    void rejectsBadOptions() {
        assertThatThrownBy(() -> ByteLevelBpeTrainer.train(List.of("x"), 258, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("vocabSize to 258")
                .hasMessageContaining("259");
        assertThatThrownBy(() -> ByteLevelBpeTrainer.train(List.of("x"), 300, List.of("<a>", "<a>")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate");
        assertThatThrownBy(() -> Options.defaults(300).withRoles(new SpecialTokens("<s>", null, null, null)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'<s>' is not one of the special tokens");
    }

    @Test
    void trainsAMidSizeVocabularyQuickly() {
        // 4,000 tokens on ~400 KB; the 2 MB benchmark is TrainerBenchmark (tag "slow").
        List<String> corpus = Corpora.synthetic(400_000, 11);
        long start = System.nanoTime();

        TokenizerSpec spec = ByteLevelBpeTrainer.train(corpus, 4000, ByteLevelBpeTrainer.DEFAULT_SPECIAL_TOKENS);

        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("trained %d tokens on %d paragraphs in %d ms%n", spec.vocabSize(), corpus.size(), ms);
        assertThat(spec.vocabSize()).isEqualTo(4000);
        assertThat(new HashSet<>(spec.tokens())).hasSize(4000);
    }

    /**
     * Reference trainer: recounts every pair of every word before each merge. Same tie-break and
     * stopping rules as the real one; quadratic, for small corpora only.
     */
    static List<String> naiveMerges(List<String> corpus, Options options) {
        Map<String, Long> counts = new TreeMap<>();
        for (String text : corpus) {
            BpeEncoder.splitAdded(text, options.specialTokens(), (segment, special) -> {
                if (!special) {
                    Matcher m = ByteLevel.GPT2_SPLIT.matcher(segment);
                    while (m.find()) {
                        counts.merge(ByteLevel.toByteChars(m.group()), 1L, Long::sum);
                    }
                }
            });
        }
        List<List<String>> words = new ArrayList<>();
        List<Long> freqs = new ArrayList<>();
        counts.forEach((w, f) -> {
            List<String> symbols = new ArrayList<>();
            for (char c : w.toCharArray()) {
                symbols.add(String.valueOf(c));
            }
            words.add(symbols);
            freqs.add(f);
        });
        Set<String> vocab = new HashSet<>(options.specialTokens());
        for (int b = 0; b < 256; b++) {
            vocab.add(String.valueOf(ByteLevel.byteChar(b)));
        }
        List<String> merges = new ArrayList<>();
        while (vocab.size() < options.vocabSize()) {
            Map<List<String>, Long> pairs = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<String> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) {
                    pairs.merge(List.of(s.get(i), s.get(i + 1)), freqs.get(w), Long::sum);
                }
            }
            List<String> best = null;
            long bestCount = 0;
            for (Map.Entry<List<String>, Long> e : pairs.entrySet()) {
                List<String> p = e.getKey();
                long c = e.getValue();
                if (best == null
                        || c > bestCount
                        || (c == bestCount
                                && (p.get(0).compareTo(best.get(0)) < 0
                                        || (p.get(0).equals(best.get(0)) && p.get(1).compareTo(best.get(1)) < 0)))) {
                    best = p;
                    bestCount = c;
                }
            }
            if (best == null || bestCount < options.minFrequency()) {
                break;
            }
            String merged = best.get(0) + best.get(1);
            merges.add(best.get(0) + " " + best.get(1));
            vocab.add(merged);
            for (List<String> s : words) {
                List<String> out = new ArrayList<>();
                for (int i = 0; i < s.size(); ) {
                    if (i + 1 < s.size() && s.get(i).equals(best.get(0)) && s.get(i + 1).equals(best.get(1))) {
                        out.add(merged);
                        i += 2;
                    } else {
                        out.add(s.get(i++));
                    }
                }
                s.clear();
                s.addAll(out);
            }
        }
        return merges;
    }
}
