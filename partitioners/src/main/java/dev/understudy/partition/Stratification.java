package dev.understudy.partition;

/**
 * What a plan's strata are: label values (Iid, Dirichlet, Pathological, Size, InnerDirichlet),
 * natural-id values (NaturalId, GroupedNaturalId), whose plans map each value to one client, or
 * (group, label) pairs (GroupedDirichlet), whose stratum key is {@link #groupLabelKey(String, String)}.
 */
public enum Stratification {
    LABEL("label"),
    NATURAL_ID("natural_id"),
    /**
     * (group, label) pairs: the stratum key is {@code group + "\u0000" + label}. The NUL separator sorts
     * below every other character, so {@link RowOrder#KEY_ORDER} over the keys is group-major: groups in
     * key order, and within a group its labels in key order. On Spark the key is
     * {@code concat(group, '\u0000', label)}.
     */
    GROUP_LABEL("group_label");

    /** Separates the group from the label in a {@link #GROUP_LABEL} stratum key. */
    public static final char GROUP_SEPARATOR = '\u0000';

    private final String jsonName;

    Stratification(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }

    public static Stratification parse(String jsonName) {
        for (Stratification s : values()) {
            if (s.jsonName.equals(jsonName)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown stratification '" + jsonName
                + "', expected label, natural_id or group_label");
    }

    /**
     * The {@link #GROUP_LABEL} stratum key of a row in {@code group} with {@code label}.
     *
     * @throws IllegalArgumentException if the group value contains the separator U+0000 (the key
     *     would be ambiguous)
     */
    public static String groupLabelKey(String group, String label) {
        if (group.indexOf(GROUP_SEPARATOR) >= 0) {
            throw new IllegalArgumentException("group value '" + group.replace(GROUP_SEPARATOR, '?')
                    + "' contains the character U+0000, which separates group and label in a stratum key;"
                    + " remove it from the group column");
        }
        return group + GROUP_SEPARATOR + label;
    }

    /** The group of a {@link #GROUP_LABEL} stratum key (everything before the first U+0000). */
    public static String groupOf(String groupLabelKey) {
        return groupLabelKey.substring(0, separator(groupLabelKey));
    }

    /** The label of a {@link #GROUP_LABEL} stratum key (everything after the first U+0000). */
    public static String labelOf(String groupLabelKey) {
        return groupLabelKey.substring(separator(groupLabelKey) + 1);
    }

    private static int separator(String key) {
        int i = key.indexOf(GROUP_SEPARATOR);
        if (i < 0) {
            throw new IllegalArgumentException("stratum '" + key + "' is not a (group, label) key: it has no U+0000"
                    + " separator; build keys with Stratification.groupLabelKey(group, label)");
        }
        return i;
    }
}
