package dev.understudy.job.datasets;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One dataset shipped inside a registry package: which package (pinned by checksum), and how its
 * files become rows. {@link RegistryFetcher} fetches the package, {@link #parse} reads it (plain
 * Java), {@link DatasetImport} writes the Parquet output.
 */
public interface DatasetImporter {
    /** Name on the command line, e.g. {@code uci-sentiment}. */
    String name();

    /** One line: what the rows are. */
    String description();

    /** The {@code data.kind} the output is meant for: {@code classification}, {@code text} or {@code instruction}. */
    String kind();

    /** Licence of the data, as far as the package and its source state it. */
    String licence();

    /** The package the data comes from, with its pinned checksum. */
    PackageRef source();

    /** Output columns, in order. */
    List<Column> columns();

    /** Columns whose value counts are reported in {@code _IMPORT.json} and on the console. */
    List<String> countColumns();

    /** Reads the package file (already verified against {@link #source()}'s checksum) into rows. */
    Table parse(Path packageFile) throws IOException;
}
