package dev.understudy.ops.io;

import dev.understudy.ops.util.Preconditions;

/**
 * Element types of tensors in safetensors files that Understudy reads and writes. Names match the
 * safetensors {@code dtype} strings. Types the spec knows but Understudy does not (U16, U32, U64,
 * the F8 variants) are rejected by {@link #fromSafetensors(String)} with a message naming them.
 */
public enum DType {
    F64(8, true),
    F32(4, true),
    F16(2, true),
    BF16(2, true),
    I64(8, false),
    I32(4, false),
    I16(2, false),
    I8(1, false),
    U8(1, false),
    BOOL(1, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The safetensors header spelling, e.g. {@code "F32"} or {@code "BF16"}. */
    public String safetensorsName() {
        // The enum constants are spelled exactly as the safetensors spec spells its dtypes.
        return name();
    }

    /** True for F64, F32, F16 and BF16. */
    public boolean isFloating() {
        return floating;
    }

    /**
     * Parses a safetensors {@code dtype} string.
     *
     * @throws IllegalArgumentException naming the dtype when it is not one of the supported types
     */
    public static DType fromSafetensors(String name) {
        Preconditions.checkNotNull(name, "safetensors dtype");
        for (DType t : values()) {
            if (t.safetensorsName().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException(String.format(
                "Unsupported safetensors dtype '%s'; supported dtypes are %s",
                name, java.util.Arrays.toString(values())));
    }
}
