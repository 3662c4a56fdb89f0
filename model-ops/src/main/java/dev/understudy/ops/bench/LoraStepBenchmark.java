package dev.understudy.ops.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.understudy.ops.lora.LoraAdapter;
import dev.understudy.ops.lora.LoraConfig;
import dev.understudy.ops.model.DecoderModel;
import dev.understudy.ops.model.DecoderModel.HostTensor;
import dev.understudy.ops.model.ModelConfig;
import dev.understudy.ops.train.Example;
import dev.understudy.ops.train.TrainConfig;
import dev.understudy.ops.train.Trainer;
import dev.understudy.ops.util.MklCpuDispatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * LoRA train-step throughput of the DJL/libtorch decoder, the same step as {@code
 * bench/torch_lora_step.py} (see bench/README.md for the model, the step and the FLOP formula), so
 * that the two can be printed side by side as a ratio by {@code bench/lora-step.sh}.
 *
 * <p>Usage: {@code LoraStepBenchmark [--sizes 256x4,512x8,1024x8] [--batch 8] [--seq 256]
 * [--vocab 8192] [--warmup 3] [--steps 10] [--seed 0]}. Threads come from {@code
 * -Dai.djl.pytorch.num_threads}. Prints one JSON object per size on stdout.
 */
public final class LoraStepBenchmark {
    private LoraStepBenchmark() {}

    static final int RANK = 8;

    public static void main(String[] args) {
        String sizes = "256x4,512x8,1024x8";
        int batch = 8, seq = 256, vocab = 8192, warmup = 3, steps = 10;
        long seed = 0;
        for (int i = 0; i < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--sizes" -> sizes = v;
                case "--batch" -> batch = Integer.parseInt(v);
                case "--seq" -> seq = Integer.parseInt(v);
                case "--vocab" -> vocab = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--steps" -> steps = Integer.parseInt(v);
                case "--seed" -> seed = Long.parseLong(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        for (String size : sizes.split(",")) {
            String[] p = size.split("x");
            System.out.println(run(Integer.parseInt(p[0]), Integer.parseInt(p[1]), batch, seq, vocab, warmup, steps, seed));
        }
    }

    static int intermediate(int d) {
        return 64 * (int) Math.ceil(8.0 * d / 3 / 64);
    }

    static String run(int d, int layers, int batch, int seq, int vocab, int warmup, int steps, long seed) {
        int heads = d / 64;
        int inter = intermediate(d);
        ModelConfig c = ModelConfig.llama(vocab, d, layers, heads, heads, inter, Math.max(seq, 512));
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                DecoderModel model = DecoderModel.randomInit(c, seed, m, DataType.FLOAT32);
                LoraAdapter lora = LoraAdapter.create(model, new LoraConfig(RANK, 16, 0,
                        List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")), seed, m)) {
            // B ~ N(0, 0.01^2) instead of 0, so A receives gradients (as in the reference)
            SplittableRandom r = new SplittableRandom(seed + 1);
            Map<String, HostTensor> t = lora.exportTensors();
            for (var e : t.entrySet()) {
                if (e.getKey().endsWith("lora_B")) {
                    float[] v = e.getValue().values();
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) (r.nextGaussian() * 0.01);
                    }
                }
            }
            lora.load(t);
            List<Example> data = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                int[] ids = new int[seq];
                for (int j = 0; j < seq; j++) {
                    ids[j] = r.nextInt(vocab);
                }
                data.add(Example.lm(ids));
            }
            double[] ms = new double[steps];
            double lossFirst = Double.NaN, lossLast = Double.NaN;
            try (Trainer trainer = new Trainer(model, lora, TrainConfig.simple(1e-4, batch, seed), 0, m)) {
                for (int s = 0; s < warmup + steps; s++) {
                    long t0 = System.nanoTime();
                    double loss = trainer.step(data).loss();
                    double el = (System.nanoTime() - t0) / 1e6;
                    if (s == 0) {
                        lossFirst = loss;
                    }
                    lossLast = loss;
                    if (s >= warmup) {
                        ms[s - warmup] = el;
                    }
                }
            }
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            double median = steps % 2 == 1 ? sorted[steps / 2] : (sorted[steps / 2 - 1] + sorted[steps / 2]) / 2;
            double mean = Arrays.stream(ms).average().orElse(Double.NaN);
            long nLora = (long) layers * (4L * RANK * (d + d) + 2L * RANK * (d + inter) + (long) RANK * (inter + d));
            long nMm = (long) layers * (4L * d * d + 3L * d * inter) + (long) d * vocab + nLora;
            double f = 2.0 * nMm + 4.0 * layers * seq * d;
            double stepFlops = 2.0 * batch * seq * f;
            double tokensPerS = batch * seq / (median / 1000);
            double gflops = stepFlops / (median / 1000) / 1e9;
            String threads = System.getProperty("ai.djl.pytorch.num_threads", "default");
            String dispatch = MklCpuDispatch.describe();
            System.err.printf(Locale.ROOT, "djl-libtorch d=%d L=%d: %.1f ms/step median, %.0f tokens/s, %.1f GFLOP/s;"
                    + " MKL CPU dispatch %s%n", d, layers, median, tokensPerS, gflops, dispatch);
            return String.format(Locale.ROOT,
                    "{\"impl\":\"djl-libtorch\",\"torch\":\"2.7.1\",\"d\":%d,\"layers\":%d,\"heads\":%d,\"intermediate\":%d,"
                            + "\"vocab\":%d,\"batch\":%d,\"seq\":%d,\"lora_rank\":%d,\"threads\":\"%s\",\"warmup\":%d,\"steps\":%d,"
                            + "\"ms_per_step_median\":%.3f,\"ms_per_step_mean\":%.3f,\"tokens_per_s\":%.1f,\"gflops\":%.2f,"
                            + "\"flops_per_step\":%.0f,\"loss_first\":%.4f,\"loss_last\":%.4f,\"mkl_cpu_dispatch\":\"%s\"}",
                    d, layers, heads, inter, vocab, batch, seq, RANK, threads, warmup, steps, median, mean, tokensPerS,
                    gflops, stepFlops, lossFirst, lossLast, dispatch.replace("\\", "\\\\").replace("\"", "\\\""));
        }
    }
}
