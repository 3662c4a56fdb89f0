package dev.understudy.ops.tokenizer;

import dev.understudy.ops.tokenizer.Tokenizer.SpecialTokens;
import dev.understudy.ops.util.Preconditions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * Trains a GPT-2-style byte-level BPE tokenizer (Sennrich et al. 2016, "Neural Machine Translation
 * of Rare Words with Subword Units", arxiv.org/abs/1508.07909; byte-level variant from Radford et al.
 * 2019, GPT-2) and returns a {@link TokenizerSpec} that writes a Hugging Face {@code tokenizer.json}.
 *
 * <p>Vocabulary layout (ids are stable and documented because model code relies on them):
 *
 * <ul>
 *   <li>{@code 0 .. k-1}: the special tokens, in the given order. With {@link #DEFAULT_SPECIAL_TOKENS}
 *       that is {@code <|pad|>}=0 ({@link #PAD_ID}), {@code <|bos|>}=1 ({@link #BOS_ID}),
 *       {@code <|eos|>}=2 ({@link #EOS_ID}). Pad at id 0 also matches HF/DJL's default padding id.
 *   <li>{@code k .. k+255}: one token per byte value, id {@code k + b} for byte {@code b}.
 *   <li>{@code k+256 ..}: one token per merge, in merge order.
 * </ul>
 *
 * <p>Algorithm: (1) split each text with the GPT-2 regex, (2) write each piece's UTF-8 bytes as
 * byte-chars and count piece frequencies, (3) repeatedly merge the most frequent adjacent symbol pair,
 * ties broken by the lexicographically smallest (left token, right token) strings. Pair counts are
 * updated incrementally: each pair keeps the list of words it occurs in, and a max-heap of pair counts
 * is invalidated lazily (a popped entry whose count is stale is re-pushed with the current count), so
 * a merge costs time proportional to the words containing the pair, not to the corpus.
 *
 * <p>Deterministic: the same corpus (in the same order or not) and options give a byte-identical
 * {@code tokenizer.json}. Not thread-safe; each call to {@link #train} is independent.
 */
public final class ByteLevelBpeTrainer {
    /** {@code <|pad|>}, {@code <|bos|>}, {@code <|eos|>}: the specials of the models we pretrain. */
    public static final List<String> DEFAULT_SPECIAL_TOKENS = List.of("<|pad|>", "<|bos|>", "<|eos|>");

    /** Id of {@code <|pad|>} with {@link #DEFAULT_SPECIAL_TOKENS}. */
    public static final int PAD_ID = 0;
    /** Id of {@code <|bos|>} with {@link #DEFAULT_SPECIAL_TOKENS}. */
    public static final int BOS_ID = 1;
    /** Id of {@code <|eos|>} with {@link #DEFAULT_SPECIAL_TOKENS}. */
    public static final int EOS_ID = 2;

    private ByteLevelBpeTrainer() {}

    /**
     * Trainer settings.
     *
     * @param vocabSize target vocabulary size including specials and the 256 byte tokens; at least
     *     {@code 256 + specialTokens.size()}. Training stops early (a smaller vocabulary) when no pair
     *     occurs at least {@code minFrequency} times.
     * @param specialTokens added tokens, given ids {@code 0..k-1} in this order
     * @param roles which of the specials are BOS/EOS/PAD/UNK (each null or one of {@code specialTokens})
     * @param minFrequency smallest pair count worth a merge (≥ 1)
     * @param addBosToken written as {@code add_bos_token} in tokenizer_config.json
     * @param addEosToken written as {@code add_eos_token} in tokenizer_config.json
     * @param modelMaxLength written as {@code model_max_length} in tokenizer_config.json
     */
    public record Options(
            int vocabSize,
            List<String> specialTokens,
            SpecialTokens roles,
            int minFrequency,
            boolean addBosToken,
            boolean addEosToken,
            int modelMaxLength) {
        public Options {
            Preconditions.checkNotNull(specialTokens, "specialTokens");
            Preconditions.checkNotNull(roles, "roles");
            specialTokens = List.copyOf(specialTokens);
            Set<String> seen = new HashSet<>();
            for (String s : specialTokens) {
                Preconditions.checkArgument(
                        !s.isEmpty() && seen.add(s), "Cannot use special token '%s': empty or duplicate", s);
            }
            Preconditions.checkArgument(
                    vocabSize >= 256 + specialTokens.size(),
                    "Cannot set vocabSize to %s, the value must be at least 256 bytes + %s specials = %s",
                    vocabSize,
                    specialTokens.size(),
                    256 + specialTokens.size());
            Preconditions.checkArgument(
                    minFrequency >= 1, "Cannot set minFrequency to %s, the value must be ≥ 1", minFrequency);
            Preconditions.checkArgument(
                    modelMaxLength > 0, "Cannot set modelMaxLength to %s, the value must be positive", modelMaxLength);
            for (String role : Arrays.asList(roles.bos(), roles.eos(), roles.pad(), roles.unk())) {
                Preconditions.checkArgument(
                        role == null || specialTokens.contains(role),
                        "Special token role '%s' is not one of the special tokens %s",
                        role,
                        specialTokens);
            }
        }

        /**
         * Defaults for our models: {@link #DEFAULT_SPECIAL_TOKENS}, minFrequency 2, add_bos_token
         * true, add_eos_token false, model_max_length 1024.
         */
        public static Options defaults(int vocabSize) {
            return of(vocabSize, DEFAULT_SPECIAL_TOKENS);
        }

        /** Defaults with the given specials; their roles come from {@link SpecialTokens#infer}. */
        public static Options of(int vocabSize, List<String> specialTokens) {
            return new Options(vocabSize, specialTokens, SpecialTokens.infer(specialTokens), 2, true, false, 1024);
        }

        public Options withMinFrequency(int value) {
            return new Options(vocabSize, specialTokens, roles, value, addBosToken, addEosToken, modelMaxLength);
        }

        public Options withRoles(SpecialTokens value) {
            return new Options(vocabSize, specialTokens, value, minFrequency, addBosToken, addEosToken, modelMaxLength);
        }

        public Options withAddBosEos(boolean bos, boolean eos) {
            return new Options(vocabSize, specialTokens, roles, minFrequency, bos, eos, modelMaxLength);
        }

        public Options withModelMaxLength(int value) {
            return new Options(vocabSize, specialTokens, roles, minFrequency, addBosToken, addEosToken, value);
        }
    }

    /** Trains with {@link Options#of}: minFrequency 2, roles inferred from the special tokens' names. */
    public static TokenizerSpec train(Iterable<String> corpus, int vocabSize, List<String> specialTokens) {
        return train(corpus, Options.of(vocabSize, specialTokens));
    }

    /** The pure byte-level tokenizer (no merges): {@code 256 + specials} tokens. */
    public static TokenizerSpec byteLevel(List<String> specialTokens) {
        return TokenizerSpec.byteLevel(specialTokens);
    }

    /** Trains a byte-level BPE on {@code corpus}; see the class comment for ids and algorithm. */
    public static TokenizerSpec train(Iterable<String> corpus, Options options) {
        Preconditions.checkNotNull(corpus, "corpus");
        Preconditions.checkNotNull(options, "options");
        Vocab vocab = new Vocab(options.specialTokens());
        Words words = countWords(corpus, options.specialTokens(), vocab);
        List<String[]> merges = new Merger(words, vocab, options).run();
        return new TokenizerSpec(vocab.tokens, merges, options);
    }

    // ---- step 1+2: pre-tokenize and count -------------------------------------------------------

    /** Unique pre-tokens as symbol-id arrays (shrunk in place by merges) with their frequencies. */
    private static final class Words {
        int[][] symbols;
        int[] length;
        long[] freq;
    }

    private static Words countWords(Iterable<String> corpus, List<String> specials, Vocab vocab) {
        Map<String, long[]> counts = new HashMap<>();
        for (String text : corpus) {
            Preconditions.checkNotNull(text, "corpus element");
            // Special tokens in the text are cut out first, as encoding does, so they never feed merges.
            BpeEncoder.splitAdded(ByteLevel.replaceLoneSurrogates(text), specials, (segment, isSpecial) -> {
                if (isSpecial) {
                    return;
                }
                Matcher m = ByteLevel.GPT2_SPLIT.matcher(segment);
                while (m.find()) {
                    counts.computeIfAbsent(ByteLevel.toByteChars(m.group()), k -> new long[1])[0]++;
                }
            });
        }
        // Sorted so that word indices (and hence all iteration orders) do not depend on hashing.
        String[] keys = counts.keySet().toArray(new String[0]);
        Arrays.sort(keys);
        Words w = new Words();
        w.symbols = new int[keys.length][];
        w.length = new int[keys.length];
        w.freq = new long[keys.length];
        for (int i = 0; i < keys.length; i++) {
            String k = keys[i];
            int[] s = new int[k.length()];
            for (int j = 0; j < s.length; j++) {
                s[j] = vocab.byteId(ByteLevel.charByte(k.charAt(j)));
            }
            w.symbols[i] = s;
            w.length[i] = s.length;
            w.freq[i] = counts.get(k)[0];
        }
        return w;
    }

    /** Token strings by id, specials first, then the 256 byte-chars in byte order. */
    private static final class Vocab {
        final List<String> tokens = new ArrayList<>();
        final Map<String, Integer> ids = new HashMap<>();
        final int firstByteId;

        Vocab(List<String> specials) {
            specials.forEach(this::add);
            firstByteId = tokens.size();
            for (int b = 0; b < 256; b++) {
                String t = String.valueOf(ByteLevel.byteChar(b));
                Preconditions.checkArgument(
                        !ids.containsKey(t), "Special token '%s' collides with a byte token", t);
                add(t);
            }
        }

        int byteId(int b) {
            return firstByteId + b;
        }

        /** Id of {@code token}, adding it when new (two merge paths may spell the same token). */
        int add(String token) {
            Integer id = ids.get(token);
            if (id != null) {
                return id;
            }
            ids.put(token, tokens.size());
            tokens.add(token);
            return tokens.size() - 1;
        }
    }

    // ---- step 3: merges ---------------------------------------------------------------------------

    /** Running count of one adjacent pair plus the words it (may) occur in. */
    private static final class Pair {
        final int left;
        final int right;
        long count;
        int[] words = new int[4];
        int numWords;
        int pushedRound = -1;

        Pair(int left, int right) {
            this.left = left;
            this.right = right;
        }

        void addWord(int w) {
            // Words are visited in increasing order per pass, so the last entry catches repeats.
            if (numWords > 0 && words[numWords - 1] == w) {
                return;
            }
            if (numWords == words.length) {
                words = Arrays.copyOf(words, numWords * 2);
            }
            words[numWords++] = w;
        }
    }

    /** A heap entry: the pair's count when pushed. Stale when it no longer equals {@code pair.count}. */
    private record Entry(long count, Pair pair) {}

    private static final class Merger {
        private final Words words;
        private final Vocab vocab;
        private final Options options;
        private final Map<Long, Pair> pairs = new HashMap<>();
        private final PriorityQueue<Entry> heap;
        private final int[] visitedAt;
        private final List<Pair> increased = new ArrayList<>();
        private int pushRound;

        Merger(Words words, Vocab vocab, Options options) {
            this.words = words;
            this.vocab = vocab;
            this.options = options;
            this.visitedAt = new int[words.freq.length];
            Arrays.fill(visitedAt, -1);
            Comparator<Entry> byCount = Comparator.comparingLong(Entry::count).reversed();
            this.heap = new PriorityQueue<>(byCount
                    .thenComparing(e -> vocab.tokens.get(e.pair().left))
                    .thenComparing(e -> vocab.tokens.get(e.pair().right)));
        }

        private static long key(int left, int right) {
            return ((long) left << 32) | (right & 0xFFFFFFFFL);
        }

        /** Adds {@code delta} to the pair's count; a positive delta records word {@code w}. */
        private void change(int left, int right, long delta, int w) {
            long k = key(left, right);
            Pair p = pairs.get(k);
            if (p == null) {
                if (delta <= 0) {
                    throw new IllegalStateException("BPE pair count underflow: internal error");
                }
                p = new Pair(left, right);
                pairs.put(k, p);
            }
            p.count += delta;
            if (delta > 0) {
                p.addWord(w);
                increased.add(p);
            } else if (p.count == 0) {
                pairs.remove(k);
            }
        }

        List<String[]> run() {
            for (int w = 0; w < words.freq.length; w++) {
                int[] s = words.symbols[w];
                for (int i = 0; i + 1 < words.length[w]; i++) {
                    change(s[i], s[i + 1], words.freq[w], w);
                }
            }
            pushIncreased();

            List<String[]> merges = new ArrayList<>();
            while (vocab.tokens.size() < options.vocabSize() && !heap.isEmpty()) {
                Entry top = heap.poll();
                Pair p = top.pair();
                if (p.count != top.count()) {
                    if (p.count > 0 && pairs.get(key(p.left, p.right)) == p) {
                        heap.add(new Entry(p.count, p));
                    }
                    continue;
                }
                if (p.count < options.minFrequency()) {
                    break;
                }
                String leftToken = vocab.tokens.get(p.left);
                String rightToken = vocab.tokens.get(p.right);
                int merged = vocab.add(leftToken + rightToken);
                merges.add(new String[] {leftToken, rightToken});
                apply(p, merged, merges.size());
                pushIncreased();
            }
            return merges;
        }

        private void pushIncreased() {
            pushRound++;
            for (Pair p : increased) {
                if (p.pushedRound != pushRound && p.count > 0 && pairs.get(key(p.left, p.right)) == p) {
                    p.pushedRound = pushRound;
                    heap.add(new Entry(p.count, p));
                }
            }
            increased.clear();
        }

        /**
         * Replaces every non-overlapping occurrence (left to right) of {@code p} by {@code merged} in
         * each word listed for {@code p}, updating neighbour pair counts as HF's {@code Word::merge}
         * does: for {@code x a b y} → {@code x N y}: −(x,a) +(x,N), −(a,b), −(b,y) +(N,y).
         */
        private void apply(Pair p, int merged, int stamp) {
            int a = p.left;
            int b = p.right;
            int[] list = p.words;
            int n = p.numWords;
            for (int idx = 0; idx < n; idx++) {
                int w = list[idx];
                if (visitedAt[w] == stamp) {
                    continue;
                }
                visitedAt[w] = stamp;
                int[] s = words.symbols[w];
                int len = words.length[w];
                long f = words.freq[w];
                int out = 0;
                int i = 0;
                while (i < len) {
                    if (i + 1 < len && s[i] == a && s[i + 1] == b) {
                        if (out > 0) {
                            change(s[out - 1], a, -f, w);
                            change(s[out - 1], merged, f, w);
                        }
                        change(a, b, -f, w);
                        if (i + 2 < len) {
                            change(b, s[i + 2], -f, w);
                            change(merged, s[i + 2], f, w);
                        }
                        s[out++] = merged;
                        i += 2;
                    } else {
                        s[out++] = s[i++];
                    }
                }
                words.length[w] = out;
            }
        }
    }
}
