#!/usr/bin/env python3
"""PyTorch counterpart of dev.understudy.ops.bench.GemmBenchmark: GFLOP/s of the linear-layer GEMMs of
the d=512 LoRA step (forward x @ W^T, activation gradient g @ W), best of --repeats after two warm-ups.
One JSON object per shape and direction on stdout."""
import argparse
import json
import time

import torch

SHAPES = [(512, 512), (512, 1408), (1408, 512), (512, 8192)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--repeats", type=int, default=12)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for i, o in SHAPES:
        x, w, g = torch.randn(a.n, i), torch.randn(o, i), torch.randn(a.n, o)
        for direction, f in (("forward", lambda: x @ w.t()), ("backward", lambda: g @ w)):
            best = float("inf")
            for it in range(a.repeats + 2):
                t0 = time.perf_counter()
                f()
                el = time.perf_counter() - t0
                if it >= 2:
                    best = min(best, el)
            print(json.dumps({"impl": "pytorch-eager", "torch": torch.__version__, "in": i, "out": o, "n": a.n,
                              "direction": direction, "ms_best": round(best * 1e3, 3),
                              "gflops": round(2 * a.n * i * o / best / 1e9, 1)}))


if __name__ == "__main__":
    main()
