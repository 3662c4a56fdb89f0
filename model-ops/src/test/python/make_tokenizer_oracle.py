#!/usr/bin/env python3
"""Tokenizer oracle fixtures: for every tokenizer kind Understudy writes or reads, what
transformers' AutoTokenizer returns for a fixed list of texts. Called by make_hf_oracle.py
(`fixtures`); the Java side is TokenizerOracleTest.

Kinds (one directory each under <out>/):
  understudy-bytelevel-bpe  the files Understudy's pretraining writes (TokenizerSpec.writeTo), produced
                            by the Java class OracleTokenizerWriter and copied here unchanged
  gpt2-bytelevel-bpe        GPT-2 style: byte-level BPE, <|endoftext|> as bos/eos/unk, no template
  llama3-bytelevel-bpe      Llama 3 style: byte-level BPE, Sequence[ByteLevel, TemplateProcessing(<|begin_of_text|> $A)]
  llama2-sentencepiece-bpe  Llama 2 / Mistral style: Metaspace BPE with byte fallback, <unk>, template <s> $A
  qwen2-bytelevel-bpe       Qwen2 style: byte-level BPE, no BOS at all (bos_token null), eos <|endoftext|>

Each directory holds the tokenizer files plus expected.json:
  {"kind", "tokenizer_class", "texts": [...],
   "input_ids": [...],           # tokenizer(text)["input_ids"], what a transformers user feeds the model
   "input_ids_no_special": [...] # tokenizer(text, add_special_tokens=False)["input_ids"]
   "decoded": [...]}             # tokenizer.decode(input_ids_no_special)
"""

import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "resources", "tokenizer", "english.txt")
VOCAB = 400

TEXTS = [
    "Hello world",
    " leading space and trailing space ",
    "The quick brown fox jumps over the lazy dog.",
    "naïve café, 東京 and 🙂",
    "",
    "two  spaces\nand a newline\tand a tab",
    "digits 12345 and punctuation!?",
]


def _corpus():
    with open(CORPUS, encoding="utf-8") as f:
        return [line for line in f.read().split("\n") if line.strip()]


def _bytelevel_bpe(specials, template=None):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=specials, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_corpus(), trainer)
    post = processors.ByteLevel(trim_offsets=False)
    if template is not None:
        bos = template
        post = processors.Sequence([post, processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos}:1 $B:1", special_tokens=[(bos, tok.token_to_id(bos))])])
    tok.post_processor = post
    return tok


def _sentencepiece_bpe():
    """Llama 2's layout: normalizer Prepend(▁)+Replace(' ', ▁), no pre-tokenizer, BPE with byte
    fallback and <unk>, decoder Replace/ByteFallback/Fuse/Strip, template <s> $A."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, processors, trainers  # noqa: F401

    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=VOCAB + 256, special_tokens=specials + byte_tokens, min_frequency=2,
                                  show_progress=False)
    tok.train_from_iterator(_corpus(), trainer)
    # byte tokens belong to the model vocabulary (as in Llama 2), not to the added tokens
    spec = json.loads(tok.to_str())
    spec["added_tokens"] = [t for t in spec["added_tokens"] if t["content"] in specials]
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s>:1 $B:1", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return tok


def _save(tok, d, tokenizer_class, config):
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    cfg = {"tokenizer_class": tokenizer_class, "clean_up_tokenization_spaces": False, "model_max_length": 1024}
    cfg.update(config)
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=1, sort_keys=True)
        f.write("\n")


def _expected(d, kind):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(d)
    texts = list(TEXTS)
    eos = tok.eos_token
    if eos is not None:
        texts.append(f"ends with the eos text {eos}")
    exp = {
        "kind": kind,
        "tokenizer_class": type(tok).__name__,
        "texts": texts,
        "input_ids": [tok(t)["input_ids"] for t in texts],
        "input_ids_no_special": [tok(t, add_special_tokens=False)["input_ids"] for t in texts],
    }
    exp["decoded"] = [tok.decode(ids) for ids in exp["input_ids_no_special"]]
    with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(exp, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return exp


def write_all(out, understudy_dir, manifest):
    import sys

    if not understudy_dir:
        raise SystemExit("fixtures needs --understudy-tokenizer DIR (the files OracleTokenizerWriter writes); "
                         "use model-ops/src/test/python/regenerate-oracle.sh")
    os.makedirs(out, exist_ok=True)
    kinds = []
    d = os.path.join(out, "understudy-bytelevel-bpe")
    os.makedirs(d, exist_ok=True)
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(os.path.join(understudy_dir, f), os.path.join(d, f))
    kinds.append(("understudy-bytelevel-bpe", d))

    d = os.path.join(out, "gpt2-bytelevel-bpe")
    _save(_bytelevel_bpe(["<|endoftext|>"]), d, "GPT2Tokenizer",
          {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"})
    kinds.append(("gpt2-bytelevel-bpe", d))

    d = os.path.join(out, "llama3-bytelevel-bpe")
    _save(_bytelevel_bpe(["<|begin_of_text|>", "<|end_of_text|>"], template="<|begin_of_text|>"), d,
          "PreTrainedTokenizerFast", {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"})
    kinds.append(("llama3-bytelevel-bpe", d))

    d = os.path.join(out, "llama2-sentencepiece-bpe")
    _save(_sentencepiece_bpe(), d, "LlamaTokenizer",
          {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True,
           "add_eos_token": False, "legacy": False})
    kinds.append(("llama2-sentencepiece-bpe", d))

    d = os.path.join(out, "qwen2-bytelevel-bpe")
    _save(_bytelevel_bpe(["<|endoftext|>", "<|im_start|>", "<|im_end|>"]), d, "Qwen2Tokenizer",
          {"bos_token": None, "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"})
    kinds.append(("qwen2-bytelevel-bpe", d))

    import hashlib

    for kind, d in kinds:
        exp = _expected(d, kind)
        files = sorted(os.listdir(d))
        manifest.setdefault("tokenizers", []).append({
            "name": kind, "dir": "tokenizers/" + kind, "transformers_class": exp["tokenizer_class"],
            "files": {f: {"bytes": os.path.getsize(os.path.join(d, f)),
                          "sha256": hashlib.sha256(open(os.path.join(d, f), "rb").read()).hexdigest()}
                      for f in files}})
        print(f"[fixtures] tokenizers/{kind}: ok ({exp['tokenizer_class']}, first ids {exp['input_ids'][0]})",
              file=sys.stderr)
