package dev.understudy.archfixture;

/** Violation for PackageLayersTest: one entry-point job calls another's static. */
public final class EvaluateJob {
    private EvaluateJob() {}

    public static int run() {
        return FederatedJob.settings();
    }
}
