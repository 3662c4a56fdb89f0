"""BERT oracle: compares Understudy's import (tokenizer ids, sequence/pooled/MLM outputs) with
TensorFlow running the original SavedModel, transformers running the converted directory, and
BertTokenizerFast built from vocab.txt. Prints one line per check and exits 1 if any fails."""
import argparse
import json
import sys

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--savedmodel", required=True)
p.add_argument("--hf", required=True)
p.add_argument("--ours", required=True)
p.add_argument("--sentences", required=True)
p.add_argument("--tol", type=float, default=1e-4)
a = p.parse_args()

ours = json.load(open(a.ours))
sentences = [s for s in open(a.sentences, encoding="utf-8").read().split("\n") if s.strip()]
failed = []


def check(name, ok, detail):
    print(("PASS " if ok else "FAIL ") + name + ": " + detail)
    if not ok:
        failed.append(name)


def arr(o):
    return np.array(o["values"], dtype=np.float32).reshape(o["shape"])


def rel(x, y, mask=None):
    if mask is not None:
        x, y = x[mask], y[mask]
    return float(np.abs(x - y).max() / np.abs(y).max()), float(np.abs(x - y).max())


# 1. tokenizer ------------------------------------------------------------------------------------
from transformers import AutoTokenizer, BertTokenizerFast

# transformers 5: BertTokenizerFast builds its WordPiece pipeline from vocab.txt alone (its own
# converter); AutoTokenizer reads our tokenizer.json
fast = BertTokenizerFast(vocab=a.hf + "/vocab.txt", do_lower_case=True)
auto = AutoTokenizer.from_pretrained(a.hf)
for name, tok in (("BertTokenizerFast(vocab=vocab.txt)", fast), ("AutoTokenizer on our directory", auto)):
    bad = [i for i, s in enumerate(sentences) if tok(s)["input_ids"] != ours["ids"][i]]
    detail = f"{len(sentences) - len(bad)}/{len(sentences)} sentences give identical ids"
    if bad:
        i = bad[0]
        detail += f"; first difference: {sentences[i]!r}: ours {ours['ids'][i]} vs {tok(sentences[i])['input_ids']}"
    check("tokenizer vs " + name, not bad, detail)
n_unk = sum(1 for ids in ours["ids"] if 100 in ids)
print(f"      ({n_unk} sentences contain [UNK]; {sum(len(x) for x in ours['ids'])} tokens in all)")

ids = np.array(ours["batch_ids"], dtype=np.int64)
mask = np.array(ours["batch_mask"], dtype=np.int64)
n, t = ids.shape
seq = arr(ours["sequence"])
pooled = arr(ours["pooled"])
real = mask.astype(bool)

# 2. transformers on our directory -----------------------------------------------------------------
import torch
from transformers import BertForMaskedLM, BertModel

with torch.no_grad():
    hf = BertModel.from_pretrained(a.hf, attn_implementation="eager").eval()
    o = hf(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
    r, m = rel(seq, o.last_hidden_state.numpy(), real)
    check("sequence output vs transformers BertModel", r < a.tol, f"max rel {r:.2e} (max abs {m:.2e}) over {real.sum()} tokens")
    r, m = rel(pooled, o.pooler_output.numpy())
    check("pooled output vs transformers BertModel", r < a.tol, f"max rel {r:.2e} (max abs {m:.2e})")
    if "mlm_logits_first4" in ours:
        mlm = BertForMaskedLM.from_pretrained(a.hf, attn_implementation="eager").eval()
        lo = mlm(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits[:, :4].numpy()
        r, m = rel(arr(ours["mlm_logits_first4"]), lo)
        check("MLM logits vs transformers BertForMaskedLM", r < a.tol, f"max rel {r:.2e} (max abs {m:.2e})")

# 3. TensorFlow on the original SavedModel -------------------------------------------------------
import tensorflow as tf

tf.compat.v1.disable_eager_execution()
spec = json.load(open(a.savedmodel + "/assets/model.json"))
L = spec["maxSequenceLength"]
pad_ids = np.zeros((n, L), np.int32)
pad_mask = np.zeros((n, L), np.int32)
pad_ids[:, :t] = ids
pad_mask[:, :t] = mask
with tf.compat.v1.Session(graph=tf.Graph()) as sess:
    tf.compat.v1.saved_model.loader.load(sess, ["serve"], a.savedmodel)
    tf_pooled, tf_seq = sess.run([spec["pooledOutput"], spec["sequenceOutput"]],
                                 {spec["inputIds"]: pad_ids, spec["inputMask"]: pad_mask,
                                  spec["segmentIds"]: np.zeros((n, L), np.int32)})
r, m = rel(seq, tf_seq[:, :t], real)
check("sequence output vs TensorFlow SavedModel", r < a.tol, f"max rel {r:.2e} (max abs {m:.2e}) over {real.sum()} tokens")
r, m = rel(pooled, tf_pooled)
check("pooled output vs TensorFlow SavedModel", r < a.tol, f"max rel {r:.2e} (max abs {m:.2e})")
print("      pooled[0][:4] ours", np.round(pooled[0][:4], 4).tolist(), "TF", np.round(tf_pooled[0][:4], 4).tolist())
print(("ALL PASS" if not failed else "FAILED: " + ", ".join(failed)))
sys.exit(1 if failed else 0)
