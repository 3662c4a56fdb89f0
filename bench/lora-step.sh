#!/usr/bin/env bash
# LoRA train-step throughput: Understudy (DJL + libtorch 2.7.1) against the same step in
#   (a) plain PyTorch eager (bench/torch_lora_step.py) and
#   (b) transformers' LlamaForCausalLM with a peft LoRA (bench/hf_peft_lora_step.py), what a user runs,
# printed side by side with the ratios. Per size the three run back to back (interleaved), same model,
# batch, sequence and threads.
#   bench/lora-step.sh [--sizes 256x4,512x8,1024x8] [--steps 10] [--warmup 3] [--threads N]
#                      [--hf-attn sdpa|eager] [--venv DIR] [--no-mkl-dispatch]
# The references use PyTorch 2.13 CPU + transformers 5.18 + peft 0.21 from the oracle venv (--venv, default
# ../venv-oracle; made with ../shared/tools/oracle-venv.sh when missing and that tool exists). Without it,
# Debian's python3-torch (1.13) is the plain reference, named in the output, and the transformers row is empty.
# --no-mkl-dispatch runs the Java side with oneMKL's own kernel choice (-Dunderstudy.mkl.amd_dispatch=false);
# by default Understudy lets oneMKL use its AVX2/AVX-512 kernels on AMD CPUs (MklCpuDispatch).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=256x4,512x8,1024x8 STEPS=10 WARMUP=3 THREADS=$(nproc) DISPATCH=${UNDERSTUDY_MKL_AMD_DISPATCH:-true}
HF_ATTN=sdpa VENV=../venv-oracle
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) SIZES=$2; shift 2;;
    --steps) STEPS=$2; shift 2;;
    --warmup) WARMUP=$2; shift 2;;
    --threads) THREADS=$2; shift 2;;
    --hf-attn) HF_ATTN=$2; shift 2;;
    --venv) VENV=$2; shift 2;;
    --no-mkl-dispatch) DISPATCH=false; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
source bench/model-ops-env.sh
venv_ok() { [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c 'import torch, transformers, peft' 2>/dev/null; }
if ! venv_ok && [[ -x ../shared/tools/oracle-venv.sh ]]; then
  echo "== making the reference venv $VENV (../shared/tools/oracle-venv.sh)" >&2
  ../shared/tools/oracle-venv.sh "$VENV" >&2 || true
fi
PY= HF=false
if venv_ok; then
  PY=$VENV/bin/python HF=true
elif have_torch; then
  PY=/usr/bin/python3
  echo "reference venv $VENV missing: falling back to Debian's PyTorch $($PY -c 'import torch; print(torch.__version__)') for the plain reference; no transformers+peft row" >&2
fi
: >"$OUT/djl.jsonl"; : >"$OUT/torch.jsonl"; : >"$OUT/hf.jsonl"
common=(--steps "$STEPS" --warmup "$WARMUP")
for size in ${SIZES//,/ }; do
  echo "== $size: Understudy (DJL/libtorch), $THREADS threads" >&2
  java -Xmx8g -Dunderstudy.mkl.amd_dispatch="$DISPATCH" -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$THREADS" \
    -Dai.djl.pytorch.num_interop_threads=1 -cp "$CP" dev.understudy.ops.bench.LoraStepBenchmark --sizes "$size" "${common[@]}" >>"$OUT/djl.jsonl"
  if [[ -n $PY ]]; then
    echo "== $size: PyTorch eager reference ($PY), $THREADS threads" >&2
    "$PY" bench/torch_lora_step.py --sizes "$size" "${common[@]}" --threads "$THREADS" >>"$OUT/torch.jsonl"
  fi
  if $HF; then
    echo "== $size: transformers+peft reference, attention $HF_ATTN, $THREADS threads" >&2
    "$PY" bench/hf_peft_lora_step.py --sizes "$size" "${common[@]}" --threads "$THREADS" --attn "$HF_ATTN" >>"$OUT/hf.jsonl"
  fi
done
/usr/bin/python3 - "$OUT/djl.jsonl" "$OUT/torch.jsonl" "$OUT/hf.jsonl" <<'PY'
import json, sys
def rows(p):
    return [json.loads(l) for l in open(p) if l.strip()]
djl = rows(sys.argv[1])
ref = {(r["d"], r["layers"]): r for r in rows(sys.argv[2])}
hf = {(r["d"], r["layers"]): r for r in rows(sys.argv[3])}
t0 = next(iter(ref.values()), None)
h0 = next(iter(hf.values()), None)
print("understudy: libtorch 2.7.1 (DJL); MKL CPU dispatch:", djl[0].get("mkl_cpu_dispatch", "n/a") if djl else "n/a")
print("plain reference:", f'PyTorch {t0["torch"]} eager, {t0["attention"]}' if t0 else "none")
print("hf reference:", f'transformers {h0["transformers"]} + peft {h0["peft"]} on PyTorch {h0["torch"]}, attention {h0["attention"]}' if h0 else "none")
def cell(r):
    return f'{r["ms_per_step_median"]:>8.0f} {r["tokens_per_s"]:>7.0f}' if r else f'{"-":>8} {"-":>7}'
def ratio(a, b):
    return f'{a["tokens_per_s"] / b["tokens_per_s"]:>5.2f}x' if b else f'{"-":>6}'
print(f"{'size':>8} | {'us ms':>8} {'tok/s':>7} | {'torch ms':>8} {'tok/s':>7} | {'hf ms':>8} {'tok/s':>7} | {'vs torch':>8} {'vs hf':>6}")
for r in djl:
    k = (r["d"], r["layers"])
    print(f'{r["d"]}x{r["layers"]:<4} | {cell(r)} | {cell(ref.get(k))} | {cell(hf.get(k))} | {ratio(r, ref.get(k)):>8} {ratio(r, hf.get(k))}')
b = djl[0] if djl else {}
print(f"ratio = Understudy tokens/s / reference tokens/s (B={b.get('batch', 8)}, T={b.get('seq', 256)}, fp32, LoRA r=8 on 7 modules, median of timed steps)")
PY
