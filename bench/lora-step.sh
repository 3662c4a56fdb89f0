#!/usr/bin/env bash
# LoRA train-step throughput: Understudy (DJL + libtorch 2.7.1) against the same step in
# PyTorch eager (Debian's python3-torch), printed side by side with the ratio.
#   bench/lora-step.sh [--sizes 256x4,512x8,1024x8] [--steps 10] [--warmup 3] [--threads 2] [--no-mkl-dispatch]
# --no-mkl-dispatch runs the Java side with oneMKL's own kernel choice (-Dunderstudy.mkl.amd_dispatch=false);
# by default Understudy lets oneMKL use its AVX2/AVX-512 kernels on AMD CPUs (MklCpuDispatch).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=256x4,512x8,1024x8 STEPS=10 WARMUP=3 THREADS=$(nproc) DISPATCH=${UNDERSTUDY_MKL_AMD_DISPATCH:-true}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) SIZES=$2; shift 2;;
    --steps) STEPS=$2; shift 2;;
    --warmup) WARMUP=$2; shift 2;;
    --threads) THREADS=$2; shift 2;;
    --no-mkl-dispatch) DISPATCH=false; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
source bench/model-ops-env.sh
echo "== Understudy (DJL/libtorch), $THREADS threads" >&2
java -Xmx8g -Dunderstudy.mkl.amd_dispatch="$DISPATCH" -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$THREADS" -Dai.djl.pytorch.num_interop_threads=1 \
  -cp "$CP" dev.understudy.ops.bench.LoraStepBenchmark --sizes "$SIZES" --steps "$STEPS" --warmup "$WARMUP" >"$OUT/djl.jsonl"
if have_torch; then
  echo "== PyTorch eager reference, $THREADS threads" >&2
  /usr/bin/python3 bench/torch_lora_step.py --sizes "$SIZES" --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS" >"$OUT/torch.jsonl"
else
  : >"$OUT/torch.jsonl"
fi
/usr/bin/python3 - "$OUT/djl.jsonl" "$OUT/torch.jsonl" <<'PY'
import json, sys
djl = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ref = {(r["d"], r["layers"]): r for r in (json.loads(l) for l in open(sys.argv[2]) if l.strip())}
print("understudy MKL CPU dispatch:", djl[0].get("mkl_cpu_dispatch", "n/a") if djl else "n/a")
print(f"{'size':>8} {'understudy ms':>14} {'tok/s':>8} {'GFLOP/s':>8} | {'torch ms':>9} {'tok/s':>8} {'GFLOP/s':>8} | {'ratio':>6}")
for r in djl:
    t = ref.get((r["d"], r["layers"]))
    size = f'{r["d"]}x{r["layers"]}'
    if t:
        print(f'{size:>8} {r["ms_per_step_median"]:>14.1f} {r["tokens_per_s"]:>8.0f} {r["gflops"]:>8.1f} | '
              f'{t["ms_per_step_median"]:>9.1f} {t["tokens_per_s"]:>8.0f} {t["gflops"]:>8.1f} | {r["tokens_per_s"]/t["tokens_per_s"]:>5.2f}x')
    else:
        print(f'{size:>8} {r["ms_per_step_median"]:>14.1f} {r["tokens_per_s"]:>8.0f} {r["gflops"]:>8.1f} | (no reference)')
print("ratio = Understudy tokens/s / PyTorch eager tokens/s (B=8, T=256, fp32, LoRA r=8 on 7 modules)")
PY
