package dev.understudy.job.datasets;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The rows an importer parsed, in a fixed schema, plus the rows it dropped and why. Plain Java, so
 * parsers are tested without Spark; {@link DatasetImport} turns it into a Parquet file.
 */
public final class Table {
    private final List<Column> columns;
    private final List<Object[]> rows = new ArrayList<>();
    private final Drops drops = new Drops();

    public Table(List<Column> columns) {
        this.columns = List.copyOf(columns);
    }

    public List<Column> columns() {
        return columns;
    }

    public List<Object[]> rows() {
        return Collections.unmodifiableList(rows);
    }

    public Drops drops() {
        return drops;
    }

    public int size() {
        return rows.size();
    }

    /** Appends a row; values in column order, each of its column's type (null only where nullable). */
    public void add(Object... values) {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException("row has " + values.length + " values for " + columns.size() + " columns "
                    + names());
        }
        for (int i = 0; i < values.length; i++) {
            Column c = columns.get(i);
            Object v = values[i];
            if (v == null ? !c.nullable() : !c.type().javaType.isInstance(v)) {
                throw new IllegalArgumentException("column " + c.name() + " (" + c.type() + (c.nullable() ? ", nullable" : "")
                        + ") cannot hold " + (v == null ? "null" : v.getClass().getSimpleName() + " " + v));
            }
        }
        rows.add(values.clone());
    }

    /** Index of a column by name. */
    public int index(String column) {
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equals(column)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no column '" + column + "' in " + names());
    }

    /** Rows per distinct value of {@code column}, sorted by value (nulls as "null"). */
    public Map<String, Long> countBy(String column) {
        int i = index(column);
        Map<String, Long> out = new TreeMap<>();
        for (Object[] r : rows) {
            out.merge(String.valueOf(r[i]), 1L, Long::sum);
        }
        return out;
    }

    /** The values of one column, in row order. */
    public List<Object> column(String column) {
        int i = index(column);
        List<Object> out = new ArrayList<>(rows.size());
        for (Object[] r : rows) {
            out.add(r[i]);
        }
        return out;
    }

    private List<String> names() {
        return columns.stream().map(Column::name).toList();
    }
}
