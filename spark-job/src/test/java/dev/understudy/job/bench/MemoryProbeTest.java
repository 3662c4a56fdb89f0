package dev.understudy.job.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Memory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The memory probe's readings and how it runs its child process (output, exit code, time limit). */
class MemoryProbeTest {
    static final Path SH = Path.of("/bin/sh");

    @Test
    void procStatusFieldsAreReadInBytes() {
        List<String> status = List.of("Name:\tjava", "VmPeak:\t 5000 kB", "VmHWM:\t    123456 kB", "VmRSS:\t 100 kB");
        assertThat(MemoryProbe.statusField(status, "VmHWM")).isEqualTo(123456L * 1024);
        assertThat(MemoryProbe.statusField(status, "VmRSS")).isEqualTo(100L * 1024);
        assertThat(MemoryProbe.statusField(status, "VmSwap")).isEqualTo(-1);
    }

    @Test
    void thisJvmsPeakRssIsRead() {
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "no /proc/self/status (not Linux)");
        assertThat(MemoryProbe.status("VmHWM")).isPositive();
    }

    @Test
    void mallinfoSeesANativeAllocation() {
        long before = MemoryProbe.mallocInUse();
        assumeTrue(before >= 0, "no glibc mallinfo2 (not glibc, or glibc < 2.33)");
        assertThat(before).isPositive();
        try (Memory m = new Memory(64 << 20)) { // malloc
            m.setByte(0, (byte) 1);
            assertThat(MemoryProbe.mallocInUse() - before).isGreaterThanOrEqualTo(60L << 20);
        }
    }

    @Test
    void mallinfoCountsSmallAllocationsOfOtherThreads() throws Exception {
        // libtorch allocates from the training thread, which glibc serves from a thread arena (blocks
        // below the mmap threshold): the probe's figure must include every arena, not the main one only
        long before = MemoryProbe.mallocInUse();
        assumeTrue(before >= 0, "no glibc mallinfo2 (not glibc, or glibc < 2.33)");
        long[] seen = new long[1];
        List<Memory> blocks = new ArrayList<>();
        Thread t = new Thread(() -> {
            for (int i = 0; i < 16_384; i++) { // 16,384 × 2 KiB = 32 MiB in small blocks
                Memory m = new Memory(2048);
                m.setByte(0, (byte) 1);
                blocks.add(m);
            }
            seen[0] = MemoryProbe.mallocInUse();
        });
        t.start();
        t.join();
        try {
            assertThat(seen[0] - before).isGreaterThanOrEqualTo(30L << 20);
        } finally {
            blocks.forEach(Memory::close);
        }
    }

    @Test
    void childOutputIsSplitIntoTheResultLineAndTheLog() throws Exception {
        assumeTrue(Files.isExecutable(SH), "no /bin/sh");
        MemoryProbe.Child c = MemoryProbe.runChild(List.of(SH.toString(), "-c",
                "echo starting; echo oops >&2; echo '" + MemoryProbe.RESULT_PREFIX + "{\"steps\": 3}'; exit 0"),
                Duration.ofSeconds(60), "test child");
        assertThat(c.exit()).isZero();
        assertThat(c.resultLine()).isEqualTo("{\"steps\": 3}");
        assertThat(c.log()).contains("starting\n").contains("oops\n").doesNotContain(MemoryProbe.RESULT_PREFIX);
        MemoryProbe.Child failed = MemoryProbe.runChild(List.of(SH.toString(), "-c", "echo broken; exit 3"),
                Duration.ofSeconds(60), "test child");
        assertThat(failed.exit()).isEqualTo(3);
        assertThat(failed.resultLine()).isNull();
    }

    @Test
    void aChildPastTheTimeLimitIsKilledWithAClearError() throws Exception {
        assumeTrue(Files.isExecutable(SH), "no /bin/sh");
        long t0 = System.nanoTime();
        // prints, then keeps its output open without ending: the old reader blocked here until the child exited
        assertThatThrownBy(() -> MemoryProbe.runChild(List.of(SH.toString(), "-c", "echo started; exec sleep 60"),
                Duration.ofSeconds(1), "memory probe for /m/large"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("memory probe for /m/large did not finish within 1 s and was killed")
                .hasMessageContaining("bench.memory_probe=false").hasMessageContaining("started");
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(30);
    }
}
