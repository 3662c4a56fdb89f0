package dev.understudy.job.config;

/**
 * The {@code output} section.
 *
 * @param dir {@code output.dir}: URI of the run directory (checkpoints, metrics, resolved config); required
 * @param saveMerged {@code output.save_merged}: also write the base model with the final adapter merged in
 * @param overwrite {@code output.overwrite}: replace an existing run directory instead of failing
 * @param keepRounds {@code output.keep_rounds}: committed rounds to keep, newest first (0 = all); older ones are deleted after each commit
 */
public record OutputConfig(String dir, boolean saveMerged, boolean overwrite, int keepRounds) {
    public OutputConfig {
        Checks.required("output.dir", dir, "file:///tmp/understudy/run1");
        Checks.nonNegative("output.keep_rounds", keepRounds);
    }
}
