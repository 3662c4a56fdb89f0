package dev.understudy.ops.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class TensorEntryTest {

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void rejectsDataOfTheWrongSizeNamingTheTensor() {
        assertThatThrownBy(() -> new TensorEntry("w", DType.F32, new long[] {2, 3}, le(20)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'w'")
                .hasMessageContaining("needs 24 bytes")
                .hasMessageContaining("has 20");
        ByteBuffer moved = le(28);
        moved.position(4);
        assertThatThrownBy(() -> new TensorEntry("w", DType.F32, new long[] {2, 3}, moved))
                .hasMessageContaining("'w'")
                .hasMessageContaining("position 0");
        assertThatThrownBy(() -> new TensorEntry("w", DType.F32, new long[] {-1}, le(0)))
                .hasMessageContaining("negative dimension");
        assertThatThrownBy(() -> new TensorEntry("big", DType.F32, new long[] {1L << 29, 4}, le(0)))
                .hasMessageContaining("'big'")
                .hasMessageContaining("2 GiB");
    }

    @Test
    void scalarsAndEmptyTensorsHaveTheRightElementCount() {
        assertThat(TensorEntry.ofFloats("s", new long[] {}, new float[] {7f}).numel()).isEqualTo(1);
        TensorEntry empty = TensorEntry.ofFloats("e", new long[] {0, 5}, new float[0]);
        assertThat(empty.numel()).isZero();
        assertThat(empty.byteSize()).isZero();
    }

    @Test
    void accessorsReturnIndependentCopies() {
        TensorEntry t = TensorEntry.ofFloats("w", new long[] {2}, new float[] {1f, 2f});
        t.shape()[0] = 99;
        ByteBuffer view = t.data();
        view.getFloat();
        assertThat(t.shape()).containsExactly(2);
        assertThat(t.data().position()).isZero();
        assertThat(t.data().isReadOnly()).isTrue();
        assertThat(t.data().order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        // A caller moving the position of the buffer it passed in does not affect the entry.
        ByteBuffer raw = le(8).putFloat(0, 3f).putFloat(4, 4f);
        TensorEntry u = new TensorEntry("u", DType.F32, new long[] {2}, raw);
        raw.position(8);
        assertThat(u.toFloats()).containsExactly(3f, 4f);
    }

    @Test
    void bigEndianFlaggedBuffersAreStillReadAsLittleEndian() {
        byte[] bytes = {1, 0, 0, 0, 0, 0, 0, 0}; // 1 as LE int64
        TensorEntry t = new TensorEntry("i", DType.I64, new long[] {1}, ByteBuffer.wrap(bytes));
        assertThat(t.toLongs()).containsExactly(1L);
    }

    @Test
    void toFloatsWidensEveryDtype() {
        ByteBuffer f16 = le(6).putShort(0, (short) 0x3c00).putShort(2, (short) 0xc000).putShort(4, (short) 0x0001);
        assertThat(new TensorEntry("h", DType.F16, new long[] {3}, f16).toFloats())
                .containsExactly(1f, -2f, 0x1p-24f);
        ByteBuffer bf16 = le(4).putShort(0, (short) 0x3f80).putShort(2, (short) 0xc049);
        assertThat(new TensorEntry("b", DType.BF16, new long[] {2}, bf16).toFloats()).containsExactly(1f, -3.140625f);
        assertThat(TensorEntry.ofDoubles("d", new long[] {2}, new double[] {0.5, 1e300}).toFloats())
                .containsExactly(0.5f, Float.POSITIVE_INFINITY);
        assertThat(TensorEntry.ofLongs("l", new long[] {2}, new long[] {-3, 1L << 40}).toFloats())
                .containsExactly(-3f, 0x1p40f);
        ByteBuffer i32 = le(8).putInt(0, -7).putInt(4, 123456);
        assertThat(new TensorEntry("i", DType.I32, new long[] {2}, i32).toFloats()).containsExactly(-7f, 123456f);
        ByteBuffer i16 = le(4).putShort(0, (short) -300).putShort(2, (short) 300);
        assertThat(new TensorEntry("i", DType.I16, new long[] {2}, i16).toFloats()).containsExactly(-300f, 300f);
        byte[] bytes = {(byte) 0xff, 5};
        assertThat(TensorEntry.ofBytes("i8", DType.I8, new long[] {2}, bytes).toFloats()).containsExactly(-1f, 5f);
        assertThat(TensorEntry.ofBytes("u8", DType.U8, new long[] {2}, bytes).toFloats()).containsExactly(255f, 5f);
        assertThat(TensorEntry.ofBytes("b", DType.BOOL, new long[] {3}, new byte[] {0, 1, 2}).toFloats())
                .containsExactly(0f, 1f, 1f);
    }

    @Test
    void toDoublesKeepsIntegerPrecisionThatFloatsWouldLose() {
        int big = (1 << 30) + 1; // not representable in float
        ByteBuffer i32 = le(4).putInt(0, big);
        assertThat(new TensorEntry("i", DType.I32, new long[] {1}, i32).toDoubles()).containsExactly((double) big);
        assertThat(TensorEntry.ofLongs("l", new long[] {1}, new long[] {(1L << 50) + 1}).toDoubles())
                .containsExactly((double) ((1L << 50) + 1));
        assertThat(TensorEntry.ofDoubles("d", new long[] {1}, new double[] {Math.PI}).toDoubles())
                .containsExactly(Math.PI);
        assertThat(TensorEntry.ofFloats("h", new long[] {1}, new float[] {0.1f}, DType.F16).toDoubles())
                .containsExactly((double) HalfFloats.halfToFloat((short) 0x2e66));
    }

    @Test
    void toLongsIsForIntegerTypesOnly() {
        assertThat(TensorEntry.ofBytes("u", DType.U8, new long[] {1}, new byte[] {(byte) 200}).toLongs())
                .containsExactly(200L);
        assertThatThrownBy(() -> TensorEntry.ofFloats("w", new long[] {1}, new float[] {1f}).toLongs())
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("'w'")
                .hasMessageContaining("F32");
    }

    @Test
    void ofFloatsNarrowsWithHalfFloatsRounding() {
        float[] values = {1f, 0.1f, 65520f, -0x1p-25f, Float.NaN, 1f + 0x1p-8f};
        TensorEntry f16 = TensorEntry.ofFloats("h", new long[] {2, 3}, values, DType.F16);
        TensorEntry bf16 = TensorEntry.ofFloats("b", new long[] {2, 3}, values, DType.BF16);
        assertThat(f16.dtype()).isEqualTo(DType.F16);
        assertThat(f16.byteSize()).isEqualTo(12);
        for (int i = 0; i < values.length; i++) {
            assertThat(f16.data().getShort(2 * i)).isEqualTo(HalfFloats.floatToHalf(values[i]));
            assertThat(bf16.data().getShort(2 * i)).isEqualTo(HalfFloats.floatToBf16(values[i]));
        }
        // 1 + 2^-8 is exact in F16 (10 mantissa bits) but a tie in BF16 (7 bits), which rounds to even.
        assertThat(f16.toFloats())
                .containsExactly(1f, 0.0999755859375f, Float.POSITIVE_INFINITY, -0f, Float.NaN, 1.00390625f);
        assertThat(bf16.toFloats()).containsExactly(1f, 0.10009765625f, 65536f, -0x1p-25f, Float.NaN, 1f);
        assertThat(TensorEntry.ofFloats("d", new long[] {1}, new float[] {0.1f}, DType.F64).toDoubles())
                .containsExactly((double) 0.1f);
    }

    @Test
    void factoriesValidateLengthAndTarget() {
        assertThatThrownBy(() -> TensorEntry.ofFloats("w", new long[] {2, 2}, new float[3]))
                .hasMessageContaining("'w'")
                .hasMessageContaining("4 elements")
                .hasMessageContaining("3 values");
        assertThatThrownBy(() -> TensorEntry.ofFloats("w", new long[] {1}, new float[1], DType.I32))
                .hasMessageContaining("I32");
    }

    @Test
    void equalityIsByNameDtypeShapeAndBytes() {
        TensorEntry a = TensorEntry.ofFloats("w", new long[] {2}, new float[] {1f, 2f});
        TensorEntry same = new TensorEntry("w", DType.F32, new long[] {2}, a.data());
        assertThat(a).isEqualTo(same).hasSameHashCodeAs(same);
        assertThat(a).isNotEqualTo(TensorEntry.ofFloats("w", new long[] {2}, new float[] {1f, 3f}));
        assertThat(a).isNotEqualTo(TensorEntry.ofFloats("v", new long[] {2}, new float[] {1f, 2f}));
        assertThat(a).isNotEqualTo(TensorEntry.ofFloats("w", new long[] {1, 2}, new float[] {1f, 2f}));
        // -0.0 and 0.0 differ bitwise, and equality is bitwise.
        assertThat(TensorEntry.ofFloats("z", new long[] {1}, new float[] {0f}))
                .isNotEqualTo(TensorEntry.ofFloats("z", new long[] {1}, new float[] {-0f}));
        assertThat(a.toString()).contains("w", "F32", "[2]", "8 bytes");
    }
}
