package dev.understudy.partition;

import java.util.Objects;

/**
 * One row as the in-memory path sees it: a stable unique key, a label, and optionally a natural-id
 * value (the column a {@link NaturalIdPartitioner} groups by). The payload (text, tokens) is not
 * needed to plan or assign and stays with the caller, who indexes rows by position.
 *
 * @param key the stable row key (see {@link RowOrder}); unique within the data set
 * @param label the label (stratum of label-based partitioners); {@code ""} when the data is unlabelled
 * @param naturalId the natural-id value, or null when no natural-id partitioner is used
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

    /** The value this row is stratified by under {@code stratification}. */
    public String stratum(Stratification stratification) {
        if (stratification == Stratification.LABEL) {
            return label;
        }
        if (naturalId == null) {
            throw new IllegalArgumentException("row '" + key + "' has no natural-id value, which a natural-id"
                    + " partitioner needs; filter such rows out or map them to a value first");
        }
        return naturalId;
    }
}
