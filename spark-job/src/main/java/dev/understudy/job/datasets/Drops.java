package dev.understudy.job.datasets;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Rows left out of an import, counted by reason, with the first few locations of each reason. */
public final class Drops {
    static final int EXAMPLES_PER_REASON = 5;

    /** One reason: how many rows, and where the first ones were (e.g. {@code imdb.json row 1001}). */
    public record Reason(String reason, long count, List<String> examples) {}

    private final Map<String, long[]> counts = new LinkedHashMap<>();
    private final Map<String, List<String>> examples = new LinkedHashMap<>();

    /** Counts one dropped row. */
    public void add(String reason, String where) {
        counts.computeIfAbsent(reason, r -> new long[1])[0]++;
        List<String> ex = examples.computeIfAbsent(reason, r -> new ArrayList<>());
        if (ex.size() < EXAMPLES_PER_REASON) {
            ex.add(where);
        }
    }

    public long total() {
        long t = 0;
        for (long[] c : counts.values()) {
            t += c[0];
        }
        return t;
    }

    public long count(String reason) {
        long[] c = counts.get(reason);
        return c == null ? 0 : c[0];
    }

    /** Reasons in the order they were first seen. */
    public List<Reason> reasons() {
        List<Reason> out = new ArrayList<>();
        counts.forEach((r, c) -> out.add(new Reason(r, c[0], Collections.unmodifiableList(examples.get(r)))));
        return out;
    }
}
