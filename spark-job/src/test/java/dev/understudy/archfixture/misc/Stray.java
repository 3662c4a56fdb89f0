package dev.understudy.archfixture.misc;

/** Violation for PackageLayersTest: a package in no layer. */
public final class Stray {
    private Stray() {}
}
