#!/usr/bin/env bash
# GFLOP/s of the linear-layer GEMMs of the d=512 LoRA step: libtorch through DJL with and without the
# oneMKL AMD kernel override (MklCpuDispatch), and PyTorch eager (Debian's python3-torch, OpenBLAS).
#   bench/gemm.sh [--repeats 12] [--threads 2]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=12 THREADS=$(nproc)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeats) REPEATS=$2; shift 2;;
    --threads) THREADS=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
source bench/model-ops-env.sh
for d in true false; do
  java -Xmx4g -Dunderstudy.mkl.amd_dispatch=$d -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$THREADS" \
    -Dai.djl.pytorch.num_interop_threads=1 -cp "$CP" dev.understudy.ops.bench.GemmBenchmark --repeats "$REPEATS" \
    2>"$OUT/gemm-djl-$d.log" >"$OUT/gemm-djl-$d.jsonl" || { echo "GemmBenchmark failed, see $OUT/gemm-djl-$d.log" >&2; exit 1; }
done
if have_torch; then
  /usr/bin/python3 bench/torch_gemm.py --repeats "$REPEATS" --threads "$THREADS" >"$OUT/gemm-torch.jsonl"
else
  : >"$OUT/gemm-torch.jsonl"
fi
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
def load(name):
    return {(r["in"], r["out"], r["direction"]): r for r in (json.loads(l) for l in open(f"{out}/{name}") if l.strip())}
on, off, ref = load("gemm-djl-true.jsonl"), load("gemm-djl-false.jsonl"), load("gemm-torch.jsonl")
print("MKL CPU dispatch:", next(iter(on.values()))["mkl_cpu_dispatch"] if on else "n/a")
print(f"{'in x out':>11} {'direction':>9} | {'understudy':>10} {'no override':>11} {'torch':>7}   GFLOP/s (N=2048, best)")
for k, r in on.items():
    t = ref.get(k, {}).get("gflops", float("nan"))
    print(f"{k[0]:>5}x{k[1]:<5} {k[2]:>9} | {r['gflops']:>10.1f} {off[k]['gflops']:>11.1f} {t:>7.1f}")
PY
