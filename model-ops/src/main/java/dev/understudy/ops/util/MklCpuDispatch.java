package dev.understudy.ops.util;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets the oneMKL inside libtorch use its fast GEMM kernels on AMD CPUs.
 *
 * <p>oneMKL chooses kernels by CPU vendor as well as by instruction set, so on an AMD EPYC it runs
 * SGEMM through slower generic kernels. On this project's 2-core EPYC (Zen 4, AVX-512) the
 * linear-layer GEMMs of a d=512 LoRA step ran at 127-151 GFLOP/s with oneMKL's own choice and
 * 164-205 with its AVX-512 kernels ({@code bench/gemm.sh}); README "LoRA train step vs PyTorch
 * eager" has the step-level numbers. The JNI library built from
 * {@code model-ops/src/main/c/understudy_mkl_dispatch.c} answers oneMKL's vendor query with "Intel";
 * oneMKL still picks among its kernels by the instruction sets the CPU reports.
 *
 * <p>It has to be installed before oneMKL's first call in the process (oneMKL caches the answer),
 * so the classes that run GEMMs ({@code Ops}, {@code DecoderModel}, {@code LoraAdapter}, {@code LoraMerge}) call
 * {@link #ensureInstalled()} in their static initialisers. It is installed only on Linux x86-64 with
 * an {@code AuthenticAMD} (or Zen-based {@code HygonGenuine}) CPU, and only when the jar carries the library (model-ops builds it when
 * {@code /usr/bin/cc} exists). Turn it off with {@code -Dunderstudy.mkl.amd_dispatch=false} or the
 * environment variable {@code UNDERSTUDY_MKL_AMD_DISPATCH=false} (on Spark executors:
 * {@code spark.executor.extraJavaOptions} or {@code spark.executorEnv.UNDERSTUDY_MKL_AMD_DISPATCH}).
 * It is process-wide, so it is a JVM setting rather than a key of the job configuration.
 */
public final class MklCpuDispatch {
    private MklCpuDispatch() {}

    /** System property that turns the dispatch override on or off ({@code true}/{@code false}). */
    public static final String PROPERTY = "understudy.mkl.amd_dispatch";
    /** Environment variable with the same meaning; the system property wins when both are set. */
    public static final String ENV = "UNDERSTUDY_MKL_AMD_DISPATCH";

    static final String RESOURCE = "/dev/understudy/native/linux-x86_64/libunderstudy_mkl_dispatch.so";

    private static final Logger LOG = LoggerFactory.getLogger(MklCpuDispatch.class);

    /** What {@link #ensureInstalled()} did. */
    public enum State {
        /** The library is loaded in the global symbol scope. */
        INSTALLED,
        /** Turned off by the property or the environment variable. */
        DISABLED,
        /** Not an AMD CPU on Linux x86-64: MKL's own choice is already the right one. */
        NOT_APPLICABLE,
        /** This build carries no library (it was built without a C compiler). */
        UNAVAILABLE,
        /** Loading failed; MKL keeps its default kernels. */
        FAILED
    }

    /** The outcome and a sentence for logs and benchmark output. */
    public record Status(State state, String detail) {
        public boolean installed() {
            return state == State.INSTALLED;
        }
    }

    private static Status status;
    /** False when another class loader of this JVM loaded (and promoted) the library first. */
    private static boolean linkedHere;

    /**
     * Installs the override once per JVM if it applies (idempotent, thread-safe); never throws, since
     * it only affects speed.
     */
    public static synchronized Status ensureInstalled() {
        if (status == null) {
            try {
                status = install(System.getProperty(PROPERTY), System.getenv(ENV), osName(), System.getProperty("os.arch"));
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable e) { // speed only: never fail the static initialisers that call this
                status = new Status(State.FAILED, "unexpected " + e + "; oneMKL keeps its default kernels");
            }
            if (status.state == State.NOT_APPLICABLE) {
                LOG.debug("MKL CPU dispatch: {}", status.detail);
            } else if (status.state == State.INSTALLED || status.state == State.DISABLED) {
                LOG.info("MKL CPU dispatch: {}", status.detail);
            } else {
                LOG.warn("MKL CPU dispatch: {}", status.detail);
            }
        }
        return status;
    }

    /**
     * How often oneMKL asked for the CPU vendor through the override: 0 until the first GEMM, and
     * stays 0 if oneMKL had already been called before the override was installed.
     */
    public static synchronized long vendorChecks() {
        return status != null && status.installed() && linkedHere ? nativeVendorChecks() : 0;
    }

    /** One line for benchmark output, e.g. {@code installed (oneMKL asked 2 times)}. */
    public static String describe() {
        Status s = ensureInstalled();
        return s.installed()
                ? (linkedHere ? "installed (oneMKL asked " + vendorChecks() + " times)" : "installed by another class loader")
                : s.state.name().toLowerCase(Locale.ROOT) + ": " + s.detail;
    }

    private static Status install(String property, String env, String os, String arch) {
        Boolean wanted = parseSwitch(property, "-D" + PROPERTY);
        if (wanted == null) {
            wanted = parseSwitch(env, ENV);
        }
        if (Boolean.FALSE.equals(wanted)) {
            return new Status(State.DISABLED, "off (" + PROPERTY + " / " + ENV + " = false); oneMKL keeps its own"
                    + " kernel choice");
        }
        if (!"linux".equals(os) || !("amd64".equals(arch) || "x86_64".equals(arch))) {
            return new Status(State.NOT_APPLICABLE, "not Linux x86-64 (" + os + "/" + arch + ")");
        }
        String vendor;
        try {
            vendor = cpuVendor(Files.readString(Path.of("/proc/cpuinfo"), StandardCharsets.ISO_8859_1));
        } catch (IOException | RuntimeException e) {
            return new Status(State.FAILED, "could not read /proc/cpuinfo (" + e + "); oneMKL keeps its default kernels");
        }
        if (!"AuthenticAMD".equals(vendor) && !"HygonGenuine".equals(vendor)) {
            return new Status(State.NOT_APPLICABLE, "CPU vendor " + vendor + " needs no override");
        }
        try (InputStream in = MklCpuDispatch.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return new Status(State.UNAVAILABLE, "this build has no " + RESOURCE.substring(1) + " (model-ops builds it"
                        + " when /usr/bin/cc exists); oneMKL uses its slower generic kernels on this AMD CPU");
            }
            Path file = extract(in.readAllBytes());
            try {
                System.load(file.toAbsolutePath().toString());
            } catch (UnsatisfiedLinkError e) {
                if (String.valueOf(e.getMessage()).contains("already loaded in another classloader")) {
                    return new Status(State.INSTALLED, "installed by another class loader of this JVM (Spark session or"
                            + " plug-in class loaders); oneMKL may use its AVX2/AVX-512 kernels on this AMD CPU");
                }
                throw e;
            }
            linkedHere = true;
            if (!nativePromoteToGlobal()) {
                return new Status(State.FAILED, "dlopen(RTLD_GLOBAL) of " + file + " failed; oneMKL keeps its default"
                        + " kernels");
            }
            return new Status(State.INSTALLED, "oneMKL may use its AVX2/AVX-512 kernels on this AMD CPU (turn off with -D"
                    + PROPERTY + "=false)");
        } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
            return new Status(State.FAILED, "could not load the library (" + e + "); oneMKL keeps its default kernels (java.io.tmpdir must"
                    + " be writable and not mounted noexec)");
        }
    }

    /**
     * Writes the library once per content into {@code java.io.tmpdir/understudy-native-USER/} (the
     * file name carries a hash of the bytes, so JVMs of one machine share it and none leaves a copy
     * behind); written to a temporary name and moved into place, so concurrent JVMs never load a
     * half-written file. A directory owned by another user or writable by others is not used (nor a file whose bytes differ).
     */
    private static Path extract(byte[] bytes) throws IOException {
        String hash;
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
            hash = HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        String user = System.getProperty("user.name", "");
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "understudy-native-" + user.replaceAll("[^A-Za-z0-9._-]", "_"));
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException raced) {
                // another JVM created it: checked below like any existing directory
            }
        }
        if (!privateToUs(dir)) {
            // someone else's, or writable by others: do not load what they may have put there
            Path own = Files.createTempFile("libunderstudy_mkl_dispatch", ".so");
            own.toFile().deleteOnExit();
            Files.write(own, bytes);
            return own;
        }
        Path file = dir.resolve("libunderstudy_mkl_dispatch-" + hash + ".so");
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || !Arrays.equals(Files.readAllBytes(file), bytes)) {
            Path tmp = Files.createTempFile(dir, "libunderstudy_mkl_dispatch", ".tmp");
            try {
                Files.write(tmp, bytes);
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        return file;
    }

    /** A real directory owned by this process's user (compared with a file it creates) that only that user can write. */
    private static boolean privateToUs(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        Path probe = Files.createTempFile(dir, "owner", ".probe");
        try {
            if (!Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).equals(Files.getOwner(probe))) {
                return false;
            }
        } finally {
            Files.deleteIfExists(probe);
        }
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        return !p.contains(PosixFilePermission.GROUP_WRITE) && !p.contains(PosixFilePermission.OTHERS_WRITE);
    }

    /** {@code true}/{@code false} (any case), {@code null} when unset; anything else is reported and ignored. */
    static Boolean parseSwitch(String value, String name) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("false")) {
            return Boolean.valueOf(v);
        }
        LOG.warn("MKL CPU dispatch: ignored {}={} (use true or false); using the default (on for AMD CPUs)", name, value);
        return null;
    }

    /** The {@code vendor_id} of the first processor in a {@code /proc/cpuinfo} text, or "unknown". */
    static String cpuVendor(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals("vendor_id")) {
                return line.substring(colon + 1).trim();
            }
        }
        return "unknown";
    }

    private static String osName() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    }

    private static native boolean nativePromoteToGlobal();

    private static native long nativeVendorChecks();
}
