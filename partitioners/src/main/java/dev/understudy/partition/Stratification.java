package dev.understudy.partition;

/**
 * What a plan's strata are: label values (Iid, Dirichlet, Pathological, Size, InnerDirichlet), or
 * natural-id values (NaturalId, GroupedNaturalId), whose plans map each value to one client.
 */
public enum Stratification {
    LABEL("label"),
    NATURAL_ID("natural_id");

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
        throw new IllegalArgumentException("unknown stratification '" + jsonName + "', expected label or natural_id");
    }
}
