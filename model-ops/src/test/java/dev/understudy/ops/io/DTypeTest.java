package dev.understudy.ops.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DTypeTest {

    @Test
    void safetensorsNamesRoundTripAndSizesMatchTheSpec() {
        for (DType t : DType.values()) {
            assertThat(DType.fromSafetensors(t.safetensorsName())).isSameAs(t);
        }
        assertThat(DType.BF16.safetensorsName()).isEqualTo("BF16");
        assertThat(DType.F64.byteSize()).isEqualTo(8);
        assertThat(DType.BF16.byteSize()).isEqualTo(2);
        assertThat(DType.F16.byteSize()).isEqualTo(2);
        assertThat(DType.I32.byteSize()).isEqualTo(4);
        assertThat(DType.BOOL.byteSize()).isEqualTo(1);
        assertThat(DType.F16.isFloating()).isTrue();
        assertThat(DType.I64.isFloating()).isFalse();
        assertThat(DType.BOOL.isFloating()).isFalse();
    }

    @Test
    void unsupportedDtypeIsNamed() {
        assertThatThrownBy(() -> DType.fromSafetensors("F8_E4M3"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'F8_E4M3'")
                .hasMessageContaining("BF16");
        assertThatThrownBy(() -> DType.fromSafetensors("f32")).hasMessageContaining("'f32'");
    }
}
