package dev.understudy.ops.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.testing.NDLeakCheck;
import dev.understudy.ops.testing.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** 500 LoRA steps (after warm-up) must leave the number of live native arrays and the process RSS flat. */
class MemoryHygieneTest {
    static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    static long gcCount() {
        long n = 0;
        for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }

    @Test
    void fiveHundredStepsKeepArraysAndRssFlat() throws Exception {
        ModelConfig c = TinyModels.llamaGqa().withDropout(0.1, 0.1, 0.1);
        List<Example> data = TrainerTest.sequences(16, 24, c.vocabSize(), 3);
        try (NDManager root = NDManager.newBaseManager("PyTorch");
                DecoderModel model = TinyModels.create(c, 1, root);
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(4, 8, 0.1, List.of("q_proj", "v_proj", "up_proj")), 1, root);
                Trainer t = new Trainer(model, lora, TrainConfig.simple(1e-3, 4, 1).withClipping(1.0), 0, root)) {
            long gcStart = gcCount();
            t.train(data, 100); // warm-up: JIT, allocator pools
            int arraysBefore = NDLeakCheck.open(root);
            // RSS is noisy (glibc arenas breathe by tens of MB), so fit a line through 20 samples
            // and bound the growth it projects over the 400 steps instead of comparing two points.
            int samples = 20;
            double[] x = new double[samples];
            double[] y = new double[samples];
            for (int k = 0; k < samples; k++) {
                t.train(data, 20);
                x[k] = 20.0 * (k + 1);
                // Collect first: untouched Eden pages being touched for the first time would
                // otherwise look like growth; a native (libtorch) leak survives the collection.
                System.gc();
                y[k] = rssKb();
                long direct = 0, count = 0;
                for (var pool : java.lang.management.ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)) {
                    if (pool.getName().equals("direct")) {
                        direct = pool.getMemoryUsed();
                        count = pool.getCount();
                    }
                }
                Runtime rt = Runtime.getRuntime();
                System.out.printf("step %d: RSS %d kB, heap committed %d kB, direct %d kB in %d buffers, gcs %d%n", 100 + 20 * (k + 1),
                        (long) y[k], rt.totalMemory() / 1024, direct / 1024, count, gcCount() - gcStart);
            }
            int arraysAfter = NDLeakCheck.open(root);
            double mx = java.util.Arrays.stream(x).average().orElseThrow();
            double my = java.util.Arrays.stream(y).average().orElseThrow();
            double sxy = 0, sxx = 0;
            for (int k = 0; k < samples; k++) {
                sxy += (x[k] - mx) * (y[k] - my);
                sxx += (x[k] - mx) * (x[k] - mx);
            }
            double growthKb = sxy / sxx * 400;
            System.out.printf("arrays %d -> %d; RSS samples (kB) %s; fitted growth over 400 steps %.0f kB%n",
                    arraysBefore, arraysAfter, java.util.Arrays.toString(y), growthKb);
            assertThat(arraysAfter).as("live NDArrays after 500 steps").isEqualTo(arraysBefore);
            assertThat(growthKb).as("fitted RSS growth in kB over 400 steps").isLessThan(32 * 1024);
        }
    }
}
