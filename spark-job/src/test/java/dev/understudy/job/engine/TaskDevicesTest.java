package dev.understudy.job.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TaskDevicesTest {
    @Test
    void outsideATaskTheCpuIsUsed() {
        assertThat(TaskDevices.gpuIndex()).isEqualTo(-1);
    }

    @Test
    void gpuAddressesAreCudaIndices() {
        assertThat(TaskDevices.parseAddress(" 1")).isEqualTo(1);
        assertThatThrownBy(() -> TaskDevices.parseAddress("GPU-3f2a"))
                .hasMessageContaining("GPU-3f2a").hasMessageContaining("discovery script");
    }
}
