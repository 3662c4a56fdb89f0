package dev.understudy.partition;

import java.util.Objects;

/**
 * One row as the in-memory path sees it: a stable unique key, a label, and optionally a natural-id
 * value (the column a {@link NaturalIdPartitioner} groups by, or the group column of a {@link
 * GroupedDirichletPartitioner}). The payload (text, tokens) is not
 * needed to plan or assign and stays with the caller, who indexes rows by position.
 *
 * @param key the stable row key (see {@link RowOrder}); unique within the data set
 * @param label the label (stratum of label-based partitioners); {@code ""} when the data is unlabelled
 * @param naturalId the natural-id (or group) value, or null when no natural-id or grouped partitioner is used
 */
public record Row(String key, String label, String naturalId) {

    /** Label used for unlabelled data: every row falls into this one stratum. */
    public static final String NO_LABEL = "";

    public Row {
        Objects.requireNonNull(key, "key");
        label = label == null ? NO_LABEL : label;
    }

    public static Row labelled(String key, String label) {
        return new Row(key, label, null);
    }

    public static Row unlabelled(String key) {
        return new Row(key, NO_LABEL, null);
    }

    public static Row withNaturalId(String key, String naturalId, String label) {
        return new Row(key, label, Objects.requireNonNull(naturalId, "naturalId"));
    }

    /** A row of {@code group} (the value of a {@link GroupedDirichletPartitioner}'s group column). */
    public static Row withGroup(String key, String group, String label) {
        return new Row(key, label, Objects.requireNonNull(group, "group"));
    }

    /** The value this row is stratified by under {@code stratification}. */
    public String stratum(Stratification stratification) {
        if (stratification == Stratification.LABEL) {
            return label;
        }
        if (naturalId == null) {
            String what = stratification == Stratification.GROUP_LABEL ? "group value, which a grouped"
                    : "natural-id value, which a natural-id";
            throw new IllegalArgumentException("row '" + key + "' has no " + what
                    + " partitioner needs; filter such rows out or map them to a value first");
        }
        return stratification == Stratification.GROUP_LABEL ? Stratification.groupLabelKey(naturalId, label) : naturalId;
    }
}
