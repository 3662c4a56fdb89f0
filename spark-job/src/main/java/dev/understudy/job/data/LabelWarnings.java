package dev.understudy.job.data;

import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/** Warnings about classification labels that {@code data.label_words} does not name. */
public final class LabelWarnings {
    private LabelWarnings() {}

    /**
     * A warning naming each label of the data that {@code data.label_words} has no word for, with
     * its rows, and the listed words no row uses; null when the words cover every label (or none
     * are configured: then every label is its own response, as documented).
     *
     * @param cells rows per (client, label), labels in the order of {@code labels}
     */
    public static String unknownLabels(Map<String, String> labelWords, List<String> labels, long[][] cells) {
        if (labelWords.isEmpty()) {
            return null;
        }
        StringJoiner unknown = new StringJoiner(", ");
        long unknownRows = 0;
        for (int l = 0; l < labels.size(); l++) {
            if (!labelWords.containsKey(labels.get(l))) {
                long rows = 0;
                for (long[] client : cells) {
                    rows += client[l];
                }
                unknownRows += rows;
                unknown.add("'" + labels.get(l) + "' (" + rows + " rows)");
            }
        }
        if (unknownRows == 0) {
            return null;
        }
        List<String> unused = labelWords.keySet().stream().filter(k -> !labels.contains(k)).sorted().toList();
        return "warning: data.label_words " + labelWords.keySet().stream().sorted().toList() + " has no word for label "
                + unknown + "; those rows use the label itself as their response (" + unknownRows + " rows)"
                + (unused.isEmpty() ? "" : "; listed words no row has: " + unused)
                + ". Add the labels to data.label_words or remove the rows";
    }
}
