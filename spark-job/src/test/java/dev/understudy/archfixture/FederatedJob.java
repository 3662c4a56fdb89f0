package dev.understudy.archfixture;

/** Fixture for PackageLayersTest: an entry-point job with a helper another job wrongly uses. */
public final class FederatedJob {
    private FederatedJob() {}

    public static int settings() {
        return 2;
    }
}
