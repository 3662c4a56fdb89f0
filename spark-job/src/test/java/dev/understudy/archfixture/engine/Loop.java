package dev.understudy.archfixture.engine;

import dev.understudy.archfixture.data.Rows;

/** Violation for PackageLayersTest: the engine uses the data package (upward, and a cycle with Rows). */
public final class Loop {
    private Loop() {}

    public static int size() {
        return Rows.count();
    }
}
