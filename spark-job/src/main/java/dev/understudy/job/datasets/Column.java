package dev.understudy.job.datasets;

/**
 * One column of an imported table.
 *
 * @param name column name
 * @param type value type
 * @param nullable whether rows may hold null here
 */
public record Column(String name, Type type, boolean nullable) {
    /** The value types the importers write. */
    public enum Type {
        STRING(String.class),
        INT(Integer.class);

        final Class<?> javaType;

        Type(Class<?> javaType) {
            this.javaType = javaType;
        }
    }

    public static Column string(String name) {
        return new Column(name, Type.STRING, false);
    }

    public static Column integer(String name) {
        return new Column(name, Type.INT, false);
    }
}
