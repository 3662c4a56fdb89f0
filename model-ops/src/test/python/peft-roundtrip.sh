#!/usr/bin/env bash
# PEFT round trip of a federated run's exported adapter (opt-in; needs Python, users never do):
#   model-ops/src/test/python/peft-roundtrip.sh [--update-fixture] [VENV]
# 1. a tiny local FedAvg-LoRA run (spark-job test PeftRoundTripExport, local[2], 2 rounds) writes its
#    adapter/ (adapter_config.json + adapter_model.safetensors), `export --merged`, a padded batch and
#    Understudy's logits (base + adapter; merged export) to target/peft-roundtrip;
# 2. peft_roundtrip.py loads the adapter with PeftModel.from_pretrained onto the transformers base model
#    and checks: every LoRA tensor loaded, logits equal Understudy's within 1e-4, merge_and_unload equals
#    our merged export (weights and logits), transformers on our merged export equals PeftModel.
# --update-fixture copies the run's base/, adapter/, inputs.json and transformers' logits to
# model-ops/src/test/resources/oracle-roundtrip/fedavg-llama (checked by PeftRoundTripOracleTest in
# every build, no Python). VENV (default ../venv-oracle) is made with ../shared/tools/oracle-venv.sh.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
UPDATE=false
if [[ ${1:-} == --update-fixture ]]; then UPDATE=true; shift; fi
VENV=${1:-../venv-oracle}
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import torch, transformers, peft, safetensors' 2>/dev/null; then
  ../shared/tools/oracle-venv.sh "$VENV"
fi
OUT=$PWD/target/peft-roundtrip
rm -rf "$OUT"; mkdir -p "$OUT"
mvn -B -q -pl spark-job -am test -Dtest=PeftRoundTripExport -Dsurefire.failIfNoSpecifiedTests=false \
  -Dunderstudy.peftRoundTrip.out="$OUT" >"$OUT/java.log" 2>&1 || { tail -50 "$OUT/java.log"; exit 1; }
[[ -f $OUT/understudy_logits.safetensors ]] || { echo "PeftRoundTripExport wrote nothing (see $OUT/java.log)" >&2; exit 1; }
"$VENV/bin/python" model-ops/src/test/python/peft_roundtrip.py --dir "$OUT" --write-transformers "$OUT/transformers_logits.safetensors"
if $UPDATE; then
  FX=model-ops/src/test/resources/oracle-roundtrip/fedavg-llama
  rm -rf "$FX"; mkdir -p "$FX/base" "$FX/adapter"
  cp "$OUT"/base/{config.json,model.safetensors,tokenizer.json,tokenizer_config.json} "$FX/base/"
  cp "$OUT"/base/special_tokens_map.json "$FX/base/" 2>/dev/null || true
  cp "$OUT"/adapter/{adapter_config.json,adapter_model.safetensors} "$FX/adapter/"
  cp "$OUT"/inputs.json "$OUT"/transformers_logits.safetensors "$FX/"
  du -sh "$FX"
fi
