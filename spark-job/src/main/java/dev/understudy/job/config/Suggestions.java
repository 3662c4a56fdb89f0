package dev.understudy.job.config;

import java.util.List;
import java.util.Locale;

/** "Did you mean" for unknown keys: the nearest valid key by a token-aware edit distance. */
final class Suggestions {
    private Suggestions() {}

    /** The candidate nearest to {@code unknown}; never null when candidates is not empty. */
    static String nearest(String unknown, List<String> candidates) {
        String best = null;
        int bestScore = Integer.MAX_VALUE;
        for (String c : candidates) {
            int s = score(unknown, c);
            if (s < bestScore) {
                best = c;
                bestScore = s;
            }
        }
        return best;
    }

    /**
     * 0 for the same name up to case and separators, or an abbreviation by initials
     * ({@code learning_rate} → {@code lr}); 1 for one typo; 2 when one name's words contain the
     * other's ({@code epochs} → {@code local_epochs}); otherwise 3 + Levenshtein distance.
     */
    static int score(String unknown, String candidate) {
        String u = normalise(unknown);
        String c = normalise(candidate);
        if (u.replace("_", "").equals(c.replace("_", "")) || initials(u).equals(c) || initials(c).equals(u)) {
            return 0;
        }
        int distance = levenshtein(u, c);
        if (distance <= 1) {
            return 1;
        }
        List<String> uw = List.of(u.split("_"));
        List<String> cw = List.of(c.split("_"));
        if (cw.containsAll(uw) || uw.containsAll(cw)) {
            return 2;
        }
        return 3 + distance;
    }

    private static String normalise(String s) {
        return s.toLowerCase(Locale.ROOT).replace('-', '_').replace(' ', '_');
    }

    private static String initials(String snake) {
        StringBuilder sb = new StringBuilder();
        for (String w : snake.split("_")) {
            if (!w.isEmpty()) {
                sb.append(w.charAt(0));
            }
        }
        return sb.length() > 1 ? sb.toString() : "\0";
    }

    static int levenshtein(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
