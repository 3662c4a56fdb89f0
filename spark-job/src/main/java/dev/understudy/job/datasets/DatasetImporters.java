package dev.understudy.job.datasets;

import java.util.List;

/** The datasets {@code understudy data import} knows. */
public final class DatasetImporters {
    private DatasetImporters() {}

    public static List<DatasetImporter> all() {
        return List.of(new UciSentimentImporter(), new SotuImporter(), new MobyDickImporter(), new WordNetGlossesImporter());
    }

    /** The importer called {@code name}; unknown names fail listing the known ones. */
    public static DatasetImporter find(String name) {
        for (DatasetImporter i : all()) {
            if (i.name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown dataset '" + name + "'; available: "
                + String.join(", ", all().stream().map(DatasetImporter::name).toList()) + " (see 'understudy data list')");
    }
}
