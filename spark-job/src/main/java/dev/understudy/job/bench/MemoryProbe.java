package dev.understudy.job.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import dev.understudy.job.engine.TrainSettings;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.HfModels;
import dev.understudy.ops.model.Ops;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.Trainer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Peak memory of one client's local training, measured in a fresh JVM so that nothing else (Spark,
 * other models, earlier runs) shares the process: the child loads the base model, creates the LoRA
 * adapter and trains it for the client's steps on the client's own examples, exactly as {@code
 * LocalLoraTrainFunction} does on an executor (same {@link TrainSettings}, same {@link Trainer}).
 *
 * <p>What is measured (Linux, glibc):
 * <ul>
 *   <li><b>peak RSS</b>: {@code VmHWM} of {@code /proc/self/status} at the end (the whole process:
 *       JVM, libtorch, model, training), and {@code VmRSS} after the engine started (and ran one
 *       small forward/backward) and after the model was loaded;
 *   <li><b>native heap</b>: bytes in use by glibc malloc ({@code mallinfo2}: {@code uordblks +
 *       hblkhd}), which is where libtorch's CPU allocator puts every tensor (weights, activations
 *       kept for backward, gradients, AdamW moments), sampled every millisecond during training;
 *       reported as the peak above the value before the model was loaded (the JVM's own malloc use
 *       and the engine's are in the baseline);
 *   <li><b>tensor state</b> (computed, not measured): base weights + trainable LoRA weights × 4
 *       (value, gradient, two AdamW moments), in bytes; activations come on top.
 * </ul>
 * On CUDA the figure to use would be the device allocator's peak; this probe runs on the CPU.
 */
public final class MemoryProbe {
    private MemoryProbe() {}

    /** What the parent hands the child (Java-serialised into a file). */
    record Job(String modelDir, TrainSettings settings, List<int[]> ids, int[] promptLengths, int steps, long seed)
            implements Serializable {}

    /**
     * The child's measurements, in bytes (NaN-free; −1 where the platform offers no figure).
     *
     * @param peakRss VmHWM of the whole child process
     * @param rssEngine VmRSS after the PyTorch engine started, before the model was loaded
     * @param rssModel VmRSS after the model was loaded
     * @param nativeBaseline glibc heap in use before the model was loaded
     * @param nativeModel glibc heap in use after the model was loaded
     * @param nativePeak largest glibc heap in use sampled during training
     * @param weightBytes bytes of the base model's weights (float32)
     * @param adapterParams trainable LoRA parameters
     * @param steps optimiser steps trained
     * @param examples training examples of the client
     * @param trainSeconds wall seconds of the training steps
     */
    public record Result(long peakRss, long rssEngine, long rssModel, long nativeBaseline, long nativeModel,
            long nativePeak, long weightBytes, long adapterParams, int steps, int examples, double trainSeconds) {

        /** Native heap the model and its training added at the peak (−1 without mallinfo2). */
        public long nativeTraining() {
            return nativePeak < 0 || nativeBaseline < 0 ? -1 : nativePeak - nativeBaseline;
        }

        /** Base weights + LoRA value, gradient and two AdamW moments (float32). */
        public long tensorStateBytes() {
            return weightBytes + 4L * 4L * adapterParams;
        }
    }

    /**
     * Runs the probe for the model in {@code modelDir} in a child JVM with this JVM's class path
     * ({@code java.class.path}), killed after {@link #TIMEOUT}. The application jar must be on that
     * class path: true when started by {@code bin/understudy}; under {@code spark-submit} the jar is
     * loaded by Spark's class loader instead, so add it with {@code --driver-class-path} or set
     * {@code bench.memory_probe=false}.
     *
     * @param settings the clients' training settings (model URI ignored: the child loads {@code modelDir})
     * @param examples the client's training examples
     * @param steps optimiser steps (the client's steps in one round)
     * @param torchThreads {@code ai.djl.pytorch.num_threads} of the child (as an executor task's)
     */
    public static Result measure(Path modelDir, TrainSettings settings, List<Example> examples, int steps, int torchThreads,
            Path workDir) throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        Path jobFile = Files.createTempFile(workDir, "memory-probe-", ".bin");
        try {
            List<int[]> ids = new ArrayList<>();
            int[] pl = new int[examples.size()];
            for (int i = 0; i < examples.size(); i++) {
                ids.add(examples.get(i).ids());
                pl[i] = examples.get(i).promptLength();
            }
            TrainSettings local = new TrainSettings(modelDir.toUri().toString(), settings.loraRank(), settings.loraAlpha(),
                    settings.loraDropout(), settings.loraTargets(), settings.localSteps(), settings.batchSize(),
                    settings.gradAccumSteps(), settings.lr(), settings.schedule(), settings.warmupSteps(), settings.totalSteps(),
                    settings.minLrRatio(), settings.weightDecay(), settings.maxGradNorm(), settings.seed(), settings.padId(),
                    settings.localEpochs());
            try (ObjectOutputStream out = new ObjectOutputStream(Files.newOutputStream(jobFile))) {
                out.writeObject(new Job(modelDir.toAbsolutePath().toString(), local, ids, pl, steps, settings.seed()));
            }
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g", "-XX:+UseSerialGC", "-Dai.djl.offline=true",
                    "-Dai.djl.pytorch.num_threads=" + torchThreads, "-Dai.djl.pytorch.num_interop_threads=1",
                    "-cp", System.getProperty("java.class.path"), MemoryProbe.class.getName(), jobFile.toString()));
            Child c = runChild(cmd, TIMEOUT, "memory probe for " + modelDir);
            if (c.exit() != 0 || c.resultLine() == null) {
                String hint = c.log().contains("Could not find or load main class")
                        ? "\nthe child JVM needs the application jar on java.class.path (true with bin/understudy; with"
                                + " spark-submit add it with --driver-class-path, or set bench.memory_probe=false)"
                        : "";
                throw new IllegalStateException("memory probe for " + modelDir + " failed (exit " + c.exit() + "):\n"
                        + c.log() + hint);
            }
            return new Gson().fromJson(c.resultLine(), Result.class);
        } finally {
            Files.deleteIfExists(jobFile);
        }
    }

    /** How long one probe may run. */
    static final Duration TIMEOUT = Duration.ofMinutes(10);

    /** What a child process printed: its {@link #RESULT_PREFIX} line (or null), everything else, and its exit code. */
    record Child(int exit, String resultLine, String log) {}

    /**
     * Runs {@code cmd}, reading its output (stderr merged) on a separate thread while this one waits
     * at most {@code timeout}; a child still running then is killed and reported.
     *
     * @param what the child in the error message
     * @throws IllegalStateException when the child ran past {@code timeout} (it is killed first)
     */
    static Child runChild(List<String> cmd, Duration timeout, String what) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuffer log = new StringBuffer();
        AtomicReference<String> result = new AtomicReference<>();
        Thread drain = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith(RESULT_PREFIX)) {
                        result.set(line.substring(RESULT_PREFIX.length()));
                    } else {
                        log.append(line).append('\n');
                    }
                }
            } catch (IOException e) {
                log.append("(reading the output failed: ").append(e).append(")\n"); // the child was killed
            }
        }, "memory-probe-output");
        drain.setDaemon(true);
        drain.start();
        boolean finished;
        try {
            finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            throw e;
        }
        if (!finished) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            drain.join(TimeUnit.SECONDS.toMillis(5));
            throw new IllegalStateException(what + " did not finish within " + timeout.toSeconds() + " s and was killed"
                    + " (set bench.memory_probe=false to leave the probe out); its output so far:\n" + log);
        }
        drain.join(TimeUnit.SECONDS.toMillis(30)); // the output ends when the child exits
        return new Child(p.exitValue(), result.get(), log.toString());
    }

    static final String RESULT_PREFIX = "MEMORY_PROBE_RESULT ";

    /** Child entry point: {@code MemoryProbe JOB_FILE}; prints one {@link #RESULT_PREFIX} JSON line. */
    public static void main(String[] args) throws Exception {
        Job job;
        try (ObjectInputStream in = new ObjectInputStream(Files.newInputStream(Path.of(args[0])))) {
            job = (Job) in.readObject();
        }
        try (NDManager root = NDManager.newBaseManager("PyTorch")) {
            warmUp(root);
            long rssEngine = status("VmRSS");
            long nativeBaseline = mallocInUse();
            try (NDManager m = root.newSubManager();
                    DecoderModel model = HfModels.load(Path.of(job.modelDir()), m, DataType.FLOAT32)) {
                long rssModel = status("VmRSS");
                long nativeModel = mallocInUse();
                long weightBytes = 4L * model.parameterCount();
                List<Example> examples = new ArrayList<>();
                for (int i = 0; i < job.ids().size(); i++) {
                    examples.add(new Example(job.ids().get(i), job.promptLengths()[i]));
                }
                AtomicLong peak = new AtomicLong(nativeModel);
                AtomicBoolean done = new AtomicBoolean();
                Thread sampler = new Thread(() -> {
                    while (!done.get()) {
                        peak.accumulateAndGet(mallocInUse(), Math::max);
                        try {
                            Thread.sleep(1);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "memory-probe-sampler");
                sampler.setDaemon(true);
                sampler.start();
                long adapterParams;
                double seconds;
                try (NDManager tm = model.manager().newSubManager();
                        LoraAdapter lora = LoraAdapter.create(model, job.settings().lora(), job.seed(), tm);
                        Trainer trainer = new Trainer(model, lora, job.settings().trainConfig(job.seed()),
                                job.settings().padId(), tm)) {
                    adapterParams = lora.parameterCount();
                    Trainer.TrainResult r = trainer.train(examples, job.steps());
                    seconds = r.seconds();
                } finally {
                    done.set(true);
                    sampler.join();
                }
                peak.accumulateAndGet(mallocInUse(), Math::max);
                Result res = new Result(status("VmHWM"), rssEngine, rssModel, nativeBaseline, nativeModel,
                        nativeBaseline < 0 ? -1 : peak.get(), weightBytes, adapterParams, job.steps(), examples.size(),
                        seconds);
                System.out.println(RESULT_PREFIX + new Gson().toJson(res));
            }
        }
    }

    /**
     * Starts the engine and runs one small matmul forward and backward, so that the one-off
     * allocations of libtorch, its BLAS and autograd fall into the baseline, not into the model's figure.
     */
    static void warmUp(NDManager root) {
        try (NDManager m = root.newSubManager()) {
            NDArray a = m.randomNormal(new Shape(64, 64));
            a.setRequiresGradient(true);
            Ops.setGradMode(true);
            try {
                NDArray loss = a.matMul(a).sum();
                Ops.backward(loss);
            } finally {
                Ops.setGradMode(false);
            }
        }
    }

    /** A {@code kB} field of {@code /proc/self/status} in bytes, or −1 off Linux. */
    static long status(String field) {
        try {
            return statusField(Files.readAllLines(Path.of("/proc/self/status")), field);
        } catch (IOException e) {
            return -1;
        }
    }

    /** {@code field} of a {@code /proc/PID/status} text ("VmHWM:    123456 kB") in bytes, or −1 if absent. */
    static long statusField(List<String> lines, String field) {
        for (String l : lines) {
            if (l.startsWith(field + ":")) {
                String[] parts = l.substring(field.length() + 1).trim().split("\\s+");
                long v = Long.parseLong(parts[0]);
                if (parts.length > 1 && !parts[1].equalsIgnoreCase("kB")) {
                    throw new IllegalStateException("unexpected unit in /proc/self/status line '" + l + "'");
                }
                return v * 1024;
            }
        }
        return -1;
    }

    /** glibc's {@code struct mallinfo2} (glibc ≥ 2.33): every field a {@code size_t}. */
    @Structure.FieldOrder({"arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost"})
    public static class MallInfo2 extends Structure implements Structure.ByValue {
        public long arena;
        public long ordblks;
        public long smblks;
        public long hblks;
        public long hblkhd;
        public long usmblks;
        public long fsmblks;
        public long uordblks;
        public long fordblks;
        public long keepcost;
    }

    interface LibC extends Library {
        MallInfo2 mallinfo2();
    }

    private static volatile LibC libc;
    private static volatile boolean noMallinfo;

    /** Bytes glibc malloc has handed out and not yet freed (arena chunks + mmapped chunks), or −1. */
    static long mallocInUse() {
        if (noMallinfo) {
            return -1;
        }
        try {
            if (libc == null) {
                libc = Native.load("c", LibC.class);
            }
            MallInfo2 mi = libc.mallinfo2();
            return mi.uordblks + mi.hblkhd;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            noMallinfo = true;
            System.err.printf(Locale.ROOT, "memory probe: no glibc mallinfo2 (%s); native heap not measured%n", e);
            return -1;
        }
    }
}
