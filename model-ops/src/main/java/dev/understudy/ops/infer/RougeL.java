package dev.understudy.ops.infer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * ROUGE-L (Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries", ACL workshop Text
 * Summarization Branches Out, §3): the longest common subsequence (LCS) of a candidate and a
 * reference, as recall {@code R = LCS/|reference|}, precision {@code P = LCS/|candidate|} and the
 * F-measure {@code F = (1 + β²) R P / (R + β² P)}. Lin's paper leaves β to the user (its ROUGE-1.5.5
 * script sets it very large, i.e. recall); this class uses β = 1, the F1 that Google's
 * {@code rouge-score} package reports as "rougeL fmeasure" and most papers quote.
 *
 * <p>Tokens are words as {@code rouge-score}'s default tokenizer makes them (without stemming):
 * the text lower-cased, every run of characters other than {@code a-z0-9} treated as a separator.
 * A candidate or reference with no tokens scores 0.
 */
public final class RougeL {
    private RougeL() {}

    /** Recall, precision and F1 of one candidate against one reference, and the LCS length. */
    public record Score(double recall, double precision, double f1, int lcs) {}

    /** Word tokens as rouge-score makes them: lower-cased runs of {@code [a-z0-9]}. */
    public static List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        String s = text.toLowerCase(Locale.ROOT);
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                cur.append(c);
            } else if (cur.length() > 0) {
                out.add(cur.toString());
                cur.setLength(0);
            }
        }
        if (cur.length() > 0) {
            out.add(cur.toString());
        }
        return out;
    }

    /** Length of the longest common subsequence (dynamic programming, O(|a|·|b|) time, O(|b|) memory). */
    public static int lcs(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            String x = a.get(i - 1);
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = x.equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }

    /** ROUGE-L of {@code candidate} against {@code reference} (texts, tokenised by {@link #tokens}). */
    public static Score score(String candidate, String reference) {
        return score(tokens(candidate), tokens(reference));
    }

    /** ROUGE-L of token lists. */
    public static Score score(List<String> candidate, List<String> reference) {
        if (candidate.isEmpty() || reference.isEmpty()) {
            return new Score(0, 0, 0, 0);
        }
        int l = lcs(candidate, reference);
        double r = (double) l / reference.size();
        double p = (double) l / candidate.size();
        double f = l == 0 ? 0 : 2 * r * p / (r + p);
        return new Score(r, p, f, l);
    }
}
