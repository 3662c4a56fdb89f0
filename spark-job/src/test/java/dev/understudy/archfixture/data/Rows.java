package dev.understudy.archfixture.data;

import dev.understudy.archfixture.engine.Loop;

/** Fixture for PackageLayersTest: data uses the engine (allowed), closing a cycle with Loop. */
public final class Rows {
    private Rows() {}

    public static int count() {
        return 1;
    }

    public static int viaEngine() {
        return Loop.size();
    }
}
