package dev.understudy.ops.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MklCpuDispatchTest {

    @Test
    void readsTheVendorOfTheFirstProcessor() {
        String cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n\n"
                + "processor\t: 1\nvendor_id\t: GenuineIntel\n";
        assertThat(MklCpuDispatch.cpuVendor(cpuinfo)).isEqualTo("AuthenticAMD");
        assertThat(MklCpuDispatch.cpuVendor("processor : 0\nmodel name : something\n")).isEqualTo("unknown");
    }

    @Test
    void theSwitchAcceptsTrueAndFalseAndIgnoresAnythingElse() {
        assertThat(MklCpuDispatch.parseSwitch("FALSE", "k")).isFalse();
        assertThat(MklCpuDispatch.parseSwitch(" true ", "k")).isTrue();
        assertThat(MklCpuDispatch.parseSwitch(null, "k")).isNull();
        assertThat(MklCpuDispatch.parseSwitch("", "k")).isNull();
        assertThat(MklCpuDispatch.parseSwitch("yes", "k")).isNull();
    }

    /** The GEMM gives the right answer whichever kernels oneMKL chose (on this machine: the overridden ones). */
    @Test
    void gemmThroughLibtorchMatchesAJavaReference() {
        int n = 96, k = 320, m = 256;
        SplittableRandom r = new SplittableRandom(11);
        float[] a = new float[n * k];
        float[] b = new float[k * m];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) r.nextGaussian();
        }
        MklCpuDispatch.ensureInstalled();
        float[] got;
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray x = manager.create(a, new Shape(n, k));
            NDArray w = manager.create(b, new Shape(m, k)); // [out, in] as in a linear layer: x @ wᵀ
            got = x.matMul(w.transpose()).toFloatArray();
        }
        double maxRel = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double s = 0, abs = 0;
                for (int t = 0; t < k; t++) {
                    s += (double) a[i * k + t] * b[j * k + t];
                    abs += Math.abs((double) a[i * k + t] * b[j * k + t]);
                }
                maxRel = Math.max(maxRel, Math.abs(got[i * m + j] - s) / abs);
            }
        }
        assertThat(maxRel).isLessThan(1e-6);
    }

    /**
     * On an AMD CPU (the machines this project is developed and tested on) with a C compiler at build
     * time, the override must be installed and consulted by oneMKL; elsewhere it must stay out of the
     * way.
     */
    @Test
    void isInstalledAndConsultedOnAmdLinuxAndOnlyThere() throws IOException {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        boolean linuxX64 = os.equals("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
        String vendor = linuxX64
                ? MklCpuDispatch.cpuVendor(Files.readString(Path.of("/proc/cpuinfo"), StandardCharsets.ISO_8859_1))
                : "n/a";
        String off = System.getProperty(MklCpuDispatch.PROPERTY, System.getenv(MklCpuDispatch.ENV));
        assumeTrue(off == null || !off.trim().equalsIgnoreCase("false"), "turned off for this run");

        MklCpuDispatch.Status status = MklCpuDispatch.ensureInstalled();
        if (!linuxX64 || !vendor.equals("AuthenticAMD")) {
            assertThat(status.state()).isEqualTo(MklCpuDispatch.State.NOT_APPLICABLE);
            return;
        }
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/cc")), "no C compiler at build time: library not built");
        assertThat(status.state()).as(status.detail()).isEqualTo(MklCpuDispatch.State.INSTALLED);
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray x = manager.ones(new Shape(128, 128));
            x.matMul(x).toFloatArray();
        }
        assertThat(MklCpuDispatch.vendorChecks()).isPositive();
        assertThat(MklCpuDispatch.describe()).startsWith("installed (oneMKL asked ");
    }
}
