#!/usr/bin/env bash
# Regenerates the HF oracle fixtures under model-ops/src/test/resources/oracle (commit the result):
#   model-ops/src/test/python/regenerate-oracle.sh [--derived-only] [VENV]
# --derived-only: only the surgery fixtures (oracle-derived/, from the committed oracle/ parents).
# VENV (default ../venv-oracle, i.e. beside the repository) is made with ../shared/tools/oracle-venv.sh
# when missing: torch 2.13 CPU, transformers 5.18, peft 0.21, safetensors, offline. Deterministic:
# the same versions write the same bytes (manifest.json records the versions and every file's SHA-256).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
DERIVED_ONLY=0
if [[ ${1:-} == --derived-only ]]; then DERIVED_ONLY=1; shift; fi
VENV=${1:-../venv-oracle}
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import torch, transformers, peft, safetensors' 2>/dev/null; then
  ../shared/tools/oracle-venv.sh "$VENV"
fi
OUT=model-ops/src/test/resources/oracle
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
# the tokenizer kind Understudy writes, from the current Java code
mvn -B -q -pl model-ops test-compile dependency:build-classpath -Dmdep.outputFile="$TMP/cp.txt" >/dev/null
java -cp "model-ops/target/test-classes:model-ops/target/classes:$(cat "$TMP/cp.txt")" \
  dev.understudy.ops.tokenizer.OracleTokenizerWriter "$TMP/understudy-tokenizer"
if [[ $DERIVED_ONLY == 0 ]]; then
rm -rf "$OUT"
PYTHONHASHSEED=0 "$VENV/bin/python" model-ops/src/test/python/make_hf_oracle.py fixtures --out "$OUT" \
  --understudy-tokenizer "$TMP/understudy-tokenizer"
fi
# derived models (surgery): written by DerivedModel.save from the parents above, loaded by transformers
DERIVED=model-ops/src/test/resources/oracle-derived
rm -rf "$DERIVED"
java -cp "model-ops/target/test-classes:model-ops/target/classes:$(cat "$TMP/cp.txt")" \
  dev.understudy.ops.surgery.OracleDerivedWriter "$OUT" "$DERIVED"
PYTHONHASHSEED=0 "$VENV/bin/python" model-ops/src/test/python/make_derived_oracle.py "$DERIVED"
du -sh "$OUT" "$DERIVED"
