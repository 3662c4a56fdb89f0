package dev.understudy.ops.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Test corpora: a small real English text and a seeded synthetic English-like generator. */
final class Corpora {
    private Corpora() {}

    /** Paragraphs of {@code tokenizer/english.txt} (public-domain prose, a few KB). */
    static List<String> english() {
        try (InputStream in = Corpora.class.getResourceAsStream("/tokenizer/english.txt")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            List<String> out = new ArrayList<>();
            for (String p : text.split("\n\n")) {
                if (!p.isBlank()) {
                    out.add(p);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final String[] ONSETS = {"", "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "th",
        "st", "tr", "pl", "w", "sh", "ch", "gr", "br"};
    private static final String[] VOWELS = {"a", "e", "i", "o", "u", "ea", "ou", "ai", "ee", "io"};
    private static final String[] CODAS = {"", "", "n", "t", "s", "r", "l", "nd", "ng", "st", "ck", "m", "rd"};
    private static final String[] PUNCT = {".", ",", ";", "!", "?", ":"};

    /**
     * About {@code bytes} of English-like text: a Zipf-distributed lexicon of 8,000 pseudo-words of
     * 1-3 syllables, sentences with capitals, punctuation, digits, a little non-ASCII, and
     * paragraphs. Same seed → same text.
     */
    static List<String> synthetic(int bytes, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        String[] lexicon = new String[8000];
        for (int i = 0; i < lexicon.length; i++) {
            StringBuilder w = new StringBuilder();
            int syllables = 1 + rnd.nextInt(3);
            for (int s = 0; s < syllables; s++) {
                w.append(ONSETS[rnd.nextInt(ONSETS.length)])
                        .append(VOWELS[rnd.nextInt(VOWELS.length)])
                        .append(CODAS[rnd.nextInt(CODAS.length)]);
            }
            lexicon[i] = w.toString();
        }
        lexicon[0] = "the";
        lexicon[1] = "of";
        lexicon[2] = "and";
        lexicon[3] = "to";
        lexicon[7] = "café";
        // Zipf(1) sampling table over ranks.
        double[] cdf = new double[lexicon.length];
        double sum = 0;
        for (int i = 0; i < cdf.length; i++) {
            sum += 1.0 / (i + 1);
            cdf[i] = sum;
        }
        List<String> paragraphs = new ArrayList<>();
        int total = 0;
        while (total < bytes) {
            StringBuilder p = new StringBuilder();
            int sentences = 2 + rnd.nextInt(6);
            for (int s = 0; s < sentences; s++) {
                int words = 4 + rnd.nextInt(16);
                for (int k = 0; k < words; k++) {
                    String w;
                    if (rnd.nextInt(40) == 0) {
                        w = Integer.toString(rnd.nextInt(2030));
                    } else {
                        double u = rnd.nextDouble() * sum;
                        int lo = 0;
                        int hi = cdf.length - 1;
                        while (lo < hi) {
                            int mid = (lo + hi) >>> 1;
                            if (cdf[mid] < u) {
                                lo = mid + 1;
                            } else {
                                hi = mid;
                            }
                        }
                        w = lexicon[lo];
                    }
                    if (k == 0) {
                        w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
                    } else {
                        p.append(' ');
                    }
                    p.append(w);
                    if (k < words - 1 && rnd.nextInt(12) == 0) {
                        p.append(PUNCT[1 + rnd.nextInt(2)]);
                    }
                }
                p.append(PUNCT[rnd.nextInt(PUNCT.length) == 0 ? 3 : 0]).append(s < sentences - 1 ? " " : "");
            }
            total += p.length() + 2;
            paragraphs.add(p.toString());
        }
        return paragraphs;
    }
}
