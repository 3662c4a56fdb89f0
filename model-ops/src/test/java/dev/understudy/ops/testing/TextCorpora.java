package dev.understudy.ops.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Small generated English corpora for pretraining tests (published in the model-ops test-jar): a
 * toy grammar with a few dozen words, so that even a tiny model's loss falls within a few dozen
 * steps, while the text is varied enough that the held-out split is meaningful.
 */
public final class TextCorpora {
    private TextCorpora() {}

    private static final String[] ADJ = {"old", "quiet", "brave", "small", "grey", "busy", "kind", "cold"};
    private static final String[] NOUN = {"farmer", "sailor", "river", "city", "harbour", "teacher", "ship", "garden",
        "winter", "market", "bridge", "lamp"};
    private static final String[] VERB = {"watched", "crossed", "remembered", "followed", "carried", "painted", "found",
        "built"};
    private static final String[] PLACE = {"by the sea", "near the hills", "in the morning", "after the rain",
        "before dinner", "under the stars"};

    /**
     * {@code documents} documents of 3 to 8 sentences, each sentence drawn from a toy grammar
     * ("The old farmer watched the river by the sea."). Same seed → same documents.
     */
    public static List<String> grammar(int documents, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(documents);
        for (int d = 0; d < documents; d++) {
            StringBuilder doc = new StringBuilder();
            int sentences = 3 + r.nextInt(6);
            for (int s = 0; s < sentences; s++) {
                if (s > 0) {
                    doc.append(' ');
                }
                String sentence = "the " + pick(r, ADJ) + " " + pick(r, NOUN) + " " + pick(r, VERB) + " the "
                        + pick(r, NOUN) + (r.nextBoolean() ? " " + pick(r, PLACE) : "") + ".";
                doc.append(Character.toUpperCase(sentence.charAt(0))).append(sentence, 1, sentence.length());
            }
            out.add(doc.toString());
        }
        return out;
    }

    private static String pick(SplittableRandom r, String[] words) {
        return words[r.nextInt(words.length)];
    }
}
