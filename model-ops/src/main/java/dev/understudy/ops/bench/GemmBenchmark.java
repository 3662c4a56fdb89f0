package dev.understudy.ops.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.understudy.ops.util.MklCpuDispatch;
import java.util.Locale;

/**
 * GFLOP/s of the GEMMs a LoRA step runs in its linear layers, through libtorch as the model calls
 * them: forward {@code x @ Wᵀ} ({@code [N, in] x [out, in]ᵀ}) and the activation gradient
 * {@code g @ W} ({@code [N, out] x [out, in]}), for the d=512 step's shapes (N = batch x sequence
 * = 2048; q/k/v/o 512→512, gate/up 512→1408, down 1408→512, lm_head 512→8192). {@code
 * bench/torch_gemm.py} is the PyTorch counterpart and {@code bench/gemm.sh} prints both.
 *
 * <p>Usage: {@code GemmBenchmark [--n 2048] [--repeats 12]}; threads from {@code
 * -Dai.djl.pytorch.num_threads}. One JSON object per shape and direction on stdout; the best of the
 * repeats after two warm-ups.
 */
public final class GemmBenchmark {
    private GemmBenchmark() {}

    static final int[][] SHAPES = {{512, 512}, {512, 1408}, {1408, 512}, {512, 8192}};

    public static void main(String[] args) {
        int n = 2048, repeats = 12;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--n" -> n = Integer.parseInt(args[i + 1]);
                case "--repeats" -> repeats = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        MklCpuDispatch.ensureInstalled();
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            for (int[] s : SHAPES) {
                int in = s[0], out = s[1];
                NDArray x = m.randomNormal(new Shape(n, in));
                NDArray w = m.randomNormal(new Shape(out, in));
                NDArray g = m.randomNormal(new Shape(n, out));
                for (String dir : new String[] {"forward", "backward"}) {
                    double best = Double.MAX_VALUE;
                    for (int it = 0; it < repeats + 2; it++) {
                        long t0 = System.nanoTime();
                        try (NDArray r = dir.equals("forward") ? x.matMul(w.transpose()) : g.matMul(w)) {
                            r.getFloat(0, 0); // forces completion on any device
                        }
                        double el = (System.nanoTime() - t0) / 1e9;
                        if (it >= 2) {
                            best = Math.min(best, el);
                        }
                    }
                    double gflops = 2.0 * n * in * out / best / 1e9;
                    System.out.printf(Locale.ROOT, "{\"impl\":\"djl-libtorch\",\"in\":%d,\"out\":%d,\"n\":%d,\"direction\":\"%s\","
                            + "\"ms_best\":%.3f,\"gflops\":%.1f,\"mkl_cpu_dispatch\":\"%s\"}%n", in, out, n, dir, best * 1e3,
                            gflops, MklCpuDispatch.describe().replace("\"", "'"));
                }
            }
        }
    }
}
