package dev.understudy.ops.pretrain;

import static dev.understudy.ops.util.Preconditions.checkArgument;

import dev.understudy.ops.tokenizer.BpeEncoder;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A pretraining corpus after the held-out split and tokenisation: two token streams, each the
 * concatenation {@code BOS doc1 EOS BOS doc2 EOS ...} of its documents, cut into fixed-length blocks
 * on demand.
 *
 * <p>The split is by document, on a seeded hash of the document's text, so no held-out text reaches
 * training (identical documents always land on the same side) and the split does not depend on the
 * order of the documents or on which other documents are present.
 */
public final class PretrainData {
    private final int[] train;
    private final int[] heldout;
    private final int trainDocuments;
    private final int heldoutDocuments;

    private PretrainData(int[] train, int[] heldout, int trainDocuments, int heldoutDocuments) {
        this.train = train;
        this.heldout = heldout;
        this.trainDocuments = trainDocuments;
        this.heldoutDocuments = heldoutDocuments;
    }

    /** Documents divided into training and held-out sets. */
    public record Split(List<String> train, List<String> heldout) {
        public Split {
            train = List.copyOf(train);
            heldout = List.copyOf(heldout);
        }
    }

    /** A uniform value in [0, 1) from the text and the seed (FNV-1a over the chars, then SplitMix). */
    static double splitValue(String document, long seed) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < document.length(); i++) {
            h ^= document.charAt(i);
            h *= 0x100000001b3L;
        }
        return (Trainer.mix(seed, h) >>> 11) * 0x1.0p-53;
    }

    /**
     * Holds out each document whose hash value is below {@code fraction}. When that selects none,
     * the document with the smallest value is held out, so small corpora still get a held-out set.
     *
     * @throws IllegalArgumentException when there are fewer than two non-empty documents
     */
    public static Split split(List<String> documents, double fraction, long seed) {
        checkArgument(fraction > 0 && fraction < 1, "held-out fraction %s must be in (0, 1)", fraction);
        List<String> docs = documents.stream().filter(d -> !d.isBlank()).toList();
        checkArgument(docs.size() >= 2, "Cannot split a corpus of %s non-empty document(s) into training and held-out"
                + " sets: give at least 2 (each .txt file, JSONL line or Parquet row is one document)", docs.size());
        List<String> train = new ArrayList<>();
        List<String> heldout = new ArrayList<>();
        int smallest = 0;
        double smallestValue = Double.MAX_VALUE;
        for (int i = 0; i < docs.size(); i++) {
            double v = splitValue(docs.get(i), seed);
            if (v < smallestValue) {
                smallestValue = v;
                smallest = i;
            }
            (v < fraction ? heldout : train).add(docs.get(i));
        }
        if (heldout.isEmpty()) {
            heldout.add(docs.get(smallest));
            train.remove(smallest);
        }
        checkArgument(!train.isEmpty(), "All %s documents fell into the held-out set; add documents or lower"
                + " corpus.heldout_fraction", docs.size());
        return new Split(train, heldout);
    }

    /**
     * Tokenises both sides of {@code split} with {@code encoder} (in parallel, order kept) and
     * concatenates each into {@code BOS doc EOS ...}.
     */
    public static PretrainData tokenize(Split split, BpeEncoder encoder, int bosId, int eosId) {
        return new PretrainData(stream(split.train(), encoder, bosId, eosId), stream(split.heldout(), encoder, bosId,
                eosId), split.train().size(), split.heldout().size());
    }

    /** Builds data from token streams directly (tests). */
    static PretrainData of(int[] train, int[] heldout) {
        return new PretrainData(train, heldout, 1, 1);
    }

    private static int[] stream(List<String> docs, BpeEncoder encoder, int bosId, int eosId) {
        List<int[]> encoded = docs.parallelStream().map(encoder::encode).toList();
        long total = 0;
        for (int[] e : encoded) {
            total += e.length + 2;
        }
        checkArgument(total <= Integer.MAX_VALUE - 8, "Cannot hold %s tokens in one stream; use a smaller corpus", total);
        int[] out = new int[(int) total];
        int pos = 0;
        for (int[] e : encoded) {
            out[pos++] = bosId;
            System.arraycopy(e, 0, out, pos, e.length);
            pos += e.length;
            out[pos++] = eosId;
        }
        return out;
    }

    public int trainTokens() {
        return train.length;
    }

    public int heldoutTokens() {
        return heldout.length;
    }

    public int trainDocuments() {
        return trainDocuments;
    }

    public int heldoutDocuments() {
        return heldoutDocuments;
    }

    /**
     * The training stream cut into consecutive blocks of {@code seqLen} tokens; the incomplete tail
     * is dropped. The trainer shuffles them (seeded, per epoch).
     */
    public List<Example> trainBlocks(int seqLen) {
        List<Example> out = blocks(train, seqLen, false);
        checkArgument(!out.isEmpty(), "The training documents hold %s tokens, fewer than one block of seq_len=%s; add"
                + " documents or lower seq_len", train.length, seqLen);
        return out;
    }

    /**
     * Held-out blocks of {@code seqLen} tokens (the tail too when it has at least 2 tokens), in a
     * seeded random order, as many as fit in {@code maxTokens} (at least one; 0 means all). Members
     * with the same {@code seqLen} get the same blocks.
     */
    public List<Example> heldoutBlocks(int seqLen, long maxTokens, long seed) {
        List<Example> all = blocks(heldout, seqLen, true);
        checkArgument(!all.isEmpty(), "The held-out documents hold %s tokens, too few to evaluate", heldout.length);
        List<Example> shuffled = new ArrayList<>(all);
        SplittableRandom r = new SplittableRandom(Trainer.mix(seed, 0x4845_4c44L)); // "HELD"
        for (int i = shuffled.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            Example tmp = shuffled.get(i);
            shuffled.set(i, shuffled.get(j));
            shuffled.set(j, tmp);
        }
        if (maxTokens <= 0) {
            return shuffled;
        }
        List<Example> out = new ArrayList<>();
        long tokens = 0;
        for (Example e : shuffled) {
            if (!out.isEmpty() && tokens + e.ids().length > maxTokens) {
                break;
            }
            out.add(e);
            tokens += e.ids().length;
        }
        return out;
    }

    static List<Example> blocks(int[] stream, int seqLen, boolean keepTail) {
        checkArgument(seqLen >= 2, "seq_len must be ≥ 2, got %s", seqLen);
        List<Example> out = new ArrayList<>(stream.length / seqLen + 1);
        int from = 0;
        for (; from + seqLen <= stream.length; from += seqLen) {
            out.add(Example.lm(Arrays.copyOfRange(stream, from, from + seqLen)));
        }
        if (keepTail && stream.length - from >= 2) {
            out.add(Example.lm(Arrays.copyOfRange(stream, from, stream.length)));
        }
        return out;
    }
}
