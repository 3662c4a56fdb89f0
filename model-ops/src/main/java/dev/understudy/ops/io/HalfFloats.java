package dev.understudy.ops.io;

/**
 * Conversions between {@code float} and the two 16-bit float formats found in checkpoints: IEEE
 * 754 binary16 ("half", F16) and bfloat16 (BF16). Java 17 has no {@code Float.float16ToFloat}, and
 * DJL 0.35 crashes the JVM on BF16 arrays, so these are done bit by bit here.
 *
 * <p>Widening is exact. Narrowing rounds to nearest, ties to even, as PyTorch and IEEE 754 do:
 * values beyond the largest finite value round to infinity, tiny values to (signed) zero or a
 * subnormal, and NaN stays a (quiet) NaN with the sign and the top payload bits kept.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** Widens an IEEE binary16 value (1 sign, 5 exponent, 10 mantissa bits) to float exactly. */
    public static float halfToFloat(short half) {
        int bits = half & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            // Inf or NaN: float's exponent is all ones too; the 10 payload bits move to the top of
            // float's 23-bit mantissa, so a NaN stays a NaN with the same quiet bit.
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            // Zero or subnormal: value = mant * 2^-24. mant has at most 10 bits, so the product is
            // exact in float (24-bit significand) and the normalisation is left to the FPU.
            float magnitude = mant * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        // Normal: rebias the exponent from 15 to 127 and widen the mantissa from 10 to 23 bits.
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Narrows a float to IEEE binary16 with round-to-nearest-even. */
    public static short floatToHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs >= 0x7f800000) {
            if (abs == 0x7f800000) {
                return (short) (sign | 0x7c00);
            }
            // NaN: keep the top 10 payload bits and force the quiet bit so that a signalling NaN
            // whose payload lives only in the low 13 bits does not turn into infinity.
            return (short) (sign | 0x7c00 | 0x200 | ((abs >>> 13) & 0x3ff));
        }
        if (abs >= 0x477ff000) {
            // >= 65520, the midpoint between the largest half (65504) and 2^16: rounds to infinity
            // (65520 itself is a tie and 65504's mantissa is odd, so even means infinity).
            return (short) (sign | 0x7c00);
        }
        if (abs >= 0x38800000) {
            // Normal half range [2^-14, 65520). Subtracting 112 << 23 rebiases the exponent
            // (127 -> 15); dropping 13 mantissa bits with rounding may carry into the exponent,
            // which is exactly the correct next binade.
            return (short) (sign | roundShiftRightEven(abs - (112 << 23), 13));
        }
        if (abs <= 0x33000000) {
            // <= 2^-25, half of the smallest subnormal: rounds to zero (2^-25 is a tie, 0 is even).
            return (short) sign;
        }
        // Subnormal half: result = round(value * 2^24). value = m * 2^(e - 150) with the implicit
        // bit restored, so value * 2^24 = m >> (126 - e). e is in [102, 112] here, shift in [14, 24].
        int e = abs >>> 23;
        int m = (abs & 0x7fffff) | 0x800000;
        return (short) (sign | roundShiftRightEven(m, 126 - e));
    }

    /** Widens a bfloat16 value to float exactly: bfloat16 is the top half of a float. */
    public static float bf16ToFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xffff) << 16);
    }

    /** Narrows a float to bfloat16 with round-to-nearest-even (NaN stays a quiet NaN). */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            // NaN: truncation alone could clear every payload bit and yield infinity.
            return (short) ((bits >>> 16) | 0x0040);
        }
        // Adding 0x7fff plus the lowest kept bit rounds half to even; a carry out of the mantissa
        // moves to the next exponent, and past the largest finite value it gives infinity.
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** {@code value >> shift} rounded to nearest, ties to even; {@code 1 <= shift <= 30}. */
    private static int roundShiftRightEven(int value, int shift) {
        int quotient = value >>> shift;
        int remainder = value & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (remainder > halfway || (remainder == halfway && (quotient & 1) == 1)) {
            quotient++;
        }
        return quotient;
    }
}
