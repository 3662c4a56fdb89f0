package dev.understudy.job.config;

import java.util.List;

/**
 * The keys a configuration tree may hold, for {@link ConfigBinder}: which dotted paths are leaves
 * or sections, the children of a section (for "did you mean" suggestions) and each leaf's record
 * default. {@link ConfigSchema#TABLE} is the job's table; {@link PretrainSchema#TABLE} the pretraining
 * command's.
 */
interface KeyTable {
    /** Whether {@code path} is a leaf key (a value or an opaque map). */
    boolean isLeaf(String path);

    /** Whether {@code path} is a section (a map of keys) and not a leaf. */
    boolean isSection(String path);

    /** Direct children of a section ("" for the top level), in file order. */
    List<String> children(String section);

    /** Every leaf path, in file order. */
    List<String> leafPaths();

    /**
     * The record default of a leaf.
     *
     * @throws IllegalStateException when the table has no such leaf (a record/table mismatch)
     */
    Object defaultValue(String path);
}
