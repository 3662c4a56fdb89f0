package dev.understudy.ops.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    // ---- F16 -------------------------------------------------------------------------------

    /** binary16 by the textbook formula, in double: (-1)^s * 2^(e-15) * 1.m, or 2^-14 * 0.m. */
    private static double halfReference(int bits) {
        int s = bits >>> 15;
        int e = (bits >>> 10) & 0x1f;
        int m = bits & 0x3ff;
        double magnitude;
        if (e == 0x1f) {
            magnitude = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (e == 0) {
            magnitude = Math.pow(2, -14) * (m / 1024.0);
        } else {
            magnitude = Math.pow(2, e - 15) * (1 + m / 1024.0);
        }
        return s == 1 ? -magnitude : magnitude;
    }

    @Test
    void halfToFloatMatchesReferenceForAllBitPatterns() {
        List<String> failures = new ArrayList<>();
        for (int bits = 0; bits < 0x10000; bits++) {
            float actual = HalfFloats.halfToFloat((short) bits);
            double expected = halfReference(bits);
            // Double.compare tells -0.0 from 0.0 and treats NaN as equal to NaN.
            if (Double.compare(actual, expected) != 0) {
                failures.add(String.format("0x%04x -> %s, expected %s", bits, actual, expected));
            }
            if (Double.isNaN(expected)) {
                int raw = Float.floatToRawIntBits(actual);
                // Sign and the 10 payload bits survive widening.
                if ((raw >>> 31) != (bits >>> 15) || ((raw >>> 13) & 0x3ff) != (bits & 0x3ff)) {
                    failures.add(String.format("NaN 0x%04x -> 0x%08x lost sign or payload", bits, raw));
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void floatToHalfInvertsHalfToFloatForAllBitPatterns() {
        List<String> failures = new ArrayList<>();
        for (int bits = 0; bits < 0x10000; bits++) {
            short back = HalfFloats.floatToHalf(HalfFloats.halfToFloat((short) bits));
            boolean nan = ((bits >>> 10) & 0x1f) == 0x1f && (bits & 0x3ff) != 0;
            if (nan) {
                // Quieting may set the quiet bit; it must stay a NaN of the same sign.
                boolean isNan = ((back >>> 10) & 0x1f) == 0x1f && (back & 0x3ff) != 0;
                if (!isNan || ((back & 0x8000) != (bits & 0x8000))) {
                    failures.add(String.format("NaN 0x%04x -> 0x%04x", bits, back & 0xffff));
                }
            } else if ((back & 0xffff) != bits) {
                failures.add(String.format("0x%04x -> %s -> 0x%04x", bits, HalfFloats.halfToFloat((short) bits), back & 0xffff));
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void floatToHalfRoundsToNearestEvenAtEveryMidpoint() {
        List<String> failures = new ArrayList<>();
        // Consecutive positive finite halves lo = h, hi = h + 1; 0x7bff's upper neighbour is +inf,
        // whose "midpoint" 65520 is where overflow starts.
        for (int h = 0; h <= 0x7bff; h++) {
            float lo = HalfFloats.halfToFloat((short) h);
            float hi = h == 0x7bff ? 65536f : HalfFloats.halfToFloat((short) (h + 1));
            // lo and hi have at most 11 significant bits, so the midpoint is exact in float.
            float mid = (float) (((double) lo + hi) / 2);
            int even = (h & 1) == 0 ? h : h + 1;
            for (int sign : new int[] {0, 0x8000}) {
                float s = sign == 0 ? 1f : -1f;
                check(failures, s * mid, sign | even);
                check(failures, s * Math.nextDown(mid), sign | h);
                check(failures, s * Math.nextUp(mid), sign | (h + 1));
            }
        }
        assertThat(failures).isEmpty();
    }

    private static void check(List<String> failures, float input, int expected) {
        int actual = HalfFloats.floatToHalf(input) & 0xffff;
        if (actual != expected) {
            failures.add(String.format("%s (0x%08x) -> 0x%04x, expected 0x%04x",
                    input, Float.floatToRawIntBits(input), actual, expected));
        }
    }

    @Test
    void floatToHalfHandPickedCases() {
        assertThat(half(1.0f)).isEqualTo(0x3c00);
        assertThat(half(-2.0f)).isEqualTo(0xc000);
        assertThat(half(0.1f)).isEqualTo(0x2e66); // 0.0999755859375, the nearest half
        assertThat(half(-0.0f)).isEqualTo(0x8000);
        assertThat(half(65504f)).isEqualTo(0x7bff); // largest finite half
        assertThat(half(65519.99f)).isEqualTo(0x7bff);
        assertThat(half(65520f)).isEqualTo(0x7c00); // tie with 2^16, rounds to even = infinity
        assertThat(half(1e6f)).isEqualTo(0x7c00);
        assertThat(half(-1e6f)).isEqualTo(0xfc00);
        assertThat(half(Float.POSITIVE_INFINITY)).isEqualTo(0x7c00);
        assertThat(half(Float.NEGATIVE_INFINITY)).isEqualTo(0xfc00);
        assertThat(half(0x1p-14f)).isEqualTo(0x0400); // smallest normal
        assertThat(half(Math.nextDown(0x1p-14f))).isEqualTo(0x0400); // rounds up into the normals
        assertThat(half(0x1p-24f)).isEqualTo(0x0001); // smallest subnormal
        assertThat(half(0x1p-25f)).isEqualTo(0x0000); // tie between 0 and 2^-24: even is 0
        assertThat(half(Math.nextUp(0x1p-25f))).isEqualTo(0x0001);
        assertThat(half(-0x1p-26f)).isEqualTo(0x8000); // underflow keeps the sign
        assertThat(half(1.5f * 0x1p-24f)).isEqualTo(0x0002); // tie between 1 and 2 ulps: even
        assertThat(half(2.5f * 0x1p-24f)).isEqualTo(0x0002); // tie between 2 and 3 ulps: even
        assertThat(half(Float.MIN_VALUE)).isEqualTo(0x0000);
        assertThat(half(1f + 0x1p-11f)).isEqualTo(0x3c00); // tie: 0x3c00 is even
        assertThat(half(1f + 3 * 0x1p-11f)).isEqualTo(0x3c02); // tie: 0x3c01 is odd
        // NaNs stay NaN, including a signalling NaN whose payload sits below the kept 10 bits.
        assertThat(HalfFloats.halfToFloat(HalfFloats.floatToHalf(Float.NaN))).isNaN();
        assertThat(HalfFloats.halfToFloat(HalfFloats.floatToHalf(Float.intBitsToFloat(0x7f800001)))).isNaN();
        assertThat(half(Float.intBitsToFloat(0xffc00000)) & 0x8000).isEqualTo(0x8000);
    }

    private static int half(float f) {
        return HalfFloats.floatToHalf(f) & 0xffff;
    }

    // ---- BF16 ------------------------------------------------------------------------------

    /** bfloat16 by formula: 8 exponent bits (bias 127), 7 mantissa bits. */
    private static double bf16Reference(int bits) {
        int s = bits >>> 15;
        int e = (bits >>> 7) & 0xff;
        int m = bits & 0x7f;
        double magnitude;
        if (e == 0xff) {
            magnitude = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (e == 0) {
            magnitude = Math.pow(2, -126) * (m / 128.0);
        } else {
            magnitude = Math.pow(2, e - 127) * (1 + m / 128.0);
        }
        return s == 1 ? -magnitude : magnitude;
    }

    @Test
    void bf16ToFloatMatchesReferenceForAllBitPatterns() {
        List<String> failures = new ArrayList<>();
        for (int bits = 0; bits < 0x10000; bits++) {
            float actual = HalfFloats.bf16ToFloat((short) bits);
            double expected = bf16Reference(bits);
            if (Double.compare(actual, expected) != 0) {
                failures.add(String.format("0x%04x -> %s, expected %s", bits, actual, expected));
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void floatToBf16InvertsBf16ToFloatForAllBitPatterns() {
        List<String> failures = new ArrayList<>();
        for (int bits = 0; bits < 0x10000; bits++) {
            short back = HalfFloats.floatToBf16(HalfFloats.bf16ToFloat((short) bits));
            boolean nan = ((bits >>> 7) & 0xff) == 0xff && (bits & 0x7f) != 0;
            if (nan) {
                if (!Float.isNaN(HalfFloats.bf16ToFloat(back)) || (back & 0x8000) != (bits & 0x8000)) {
                    failures.add(String.format("NaN 0x%04x -> 0x%04x", bits, back & 0xffff));
                }
            } else if ((back & 0xffff) != bits) {
                failures.add(String.format("0x%04x -> 0x%04x", bits, back & 0xffff));
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void floatToBf16RoundsToNearestEvenAtEveryMidpoint() {
        List<String> failures = new ArrayList<>();
        for (int h = 0; h <= 0x7f7f; h++) {
            double lo = HalfFloats.bf16ToFloat((short) h);
            // Above the largest finite bf16 (0x7f7f) the next step would be 2^128 (infinity).
            double hi = h == 0x7f7f ? Math.pow(2, 128) : HalfFloats.bf16ToFloat((short) (h + 1));
            double midDouble = (lo + hi) / 2;
            // The midpoint has 9 significant bits, so it is a float except for the top one (which
            // exceeds Float.MAX_VALUE); there, check that MAX_VALUE, above the midpoint, overflows.
            if (h == 0x7f7f) {
                checkBf16(failures, Float.MAX_VALUE, 0x7f80);
                continue;
            }
            float mid = (float) midDouble;
            int even = (h & 1) == 0 ? h : h + 1;
            checkBf16(failures, mid, even);
            checkBf16(failures, Math.nextDown(mid), h);
            checkBf16(failures, Math.nextUp(mid), h + 1);
            checkBf16(failures, -mid, 0x8000 | even);
        }
        assertThat(failures).isEmpty();
    }

    private static void checkBf16(List<String> failures, float input, int expected) {
        int actual = HalfFloats.floatToBf16(input) & 0xffff;
        if (actual != expected) {
            failures.add(String.format("%s -> 0x%04x, expected 0x%04x", input, actual, expected));
        }
    }

    @Test
    void floatToBf16HandPickedCases() {
        assertThat(HalfFloats.floatToBf16(1.0f) & 0xffff).isEqualTo(0x3f80);
        assertThat(HalfFloats.floatToBf16((float) Math.PI) & 0xffff).isEqualTo(0x4049); // 3.140625
        assertThat(HalfFloats.floatToBf16(1f + 0x1p-8f) & 0xffff).isEqualTo(0x3f80); // tie, even
        assertThat(HalfFloats.floatToBf16(1f + 3 * 0x1p-8f) & 0xffff).isEqualTo(0x3f82); // tie, odd -> up
        assertThat(HalfFloats.floatToBf16(-0.0f) & 0xffff).isEqualTo(0x8000);
        assertThat(HalfFloats.floatToBf16(Float.POSITIVE_INFINITY) & 0xffff).isEqualTo(0x7f80);
        assertThat(HalfFloats.floatToBf16(Float.MIN_VALUE) & 0xffff).isEqualTo(0x0000);
        // A NaN whose payload lies only in the dropped 16 bits must not become infinity.
        assertThat(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x7f800001)))).isNaN();
        assertThat(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.intBitsToFloat(0xff800001)))).isNaN();
    }
}
