#!/usr/bin/env python3
"""Independent oracle fixtures for Understudy's model code, produced by Hugging Face
transformers (+ peft). Everything runs on the CPU in fp32, for exactness.

Subcommands
-----------
fixtures --out DIR
    Builds tiny random models with transformers, re-initialises *every* parameter
    (norm weights and biases included) with small noise so that a bug in any of them
    shows, saves them with save_pretrained(safe_serialization=True), and writes the
    reference logits for two fixed padded batches. Layout (one directory per fixture):

      DIR/manifest.json
      DIR/<fixture>/config.json, generation_config.json     (as save_pretrained writes them)
      DIR/<fixture>/model.safetensors                        (or model-0000k-of-0000n.safetensors
                                                              + model.safetensors.index.json)
      DIR/<fixture>/inputs.json
      DIR/<fixture>/logits.safetensors   "logits_right" [2,11,96] f32, "logits_left" [2,11,96] f32

    fixtures: llama-gqa, llama-gqa-bf16, llama-gqa-sharded, qwen2-tied, gpt2
    (+ llama-gqa-lora, a PEFT adapter for llama-gqa, when peft is importable).

    inputs.json:
      {"right": {"input_ids": [[..11..],[..11..]], "attention_mask": [[..]], "position_ids": [[..]]},
       "left":  {"input_ids": ..., "attention_mask": ..., "position_ids": ...},
       "pad_token_id": 0,
       # llama-gqa only:
       "greedy_prompt": [5 ids], "greedy_new_tokens": [8 ids], "greedy_output": [13 ids = prompt + new]}
    Logits at positions with attention_mask == 0 are implementation-defined (a fully masked
    query row under left padding); compare only positions with attention_mask == 1.

peft-check --base DIR --adapter DIR --inputs FILE --expected FILE [--tol 1e-4]
    Loads base + PEFT adapter with transformers/peft, verifies that every lora_A/lora_B
    parameter of the model equals the tensor in the adapter file (no silent non-loading,
    no missing or unexpected keys), runs the right-padded batch and compares with
    "logits_right" in --expected (written by the Java code). Exit status 1 on any failure.

--self-test
    Checks the pure-python parts (argument parsing, inputs, inputs.json writing, helpers).
    Needs neither torch nor transformers.
"""

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile

VOCAB = 96
SEQ = 11
BATCH = 2
PAD_ID = 0
RIGHT_PAD = 3  # row 1 of the right-padded batch ends with 3 padding positions
LEFT_PAD = 4  # row 0 of the left-padded batch starts with 4 padding positions
GREEDY_PROMPT_LEN = 5
GREEDY_NEW = 8
SEED = 20240611
INPUT_SEED = 1234
INIT_STD = 0.1  # std of the re-initialisation noise (matrices N(0,std); norms 1+N(0,std); biases N(0,std))
TOL_F32 = 1e-4

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LORA_FIXTURES = [("llama-gqa", LORA_TARGETS), ("qwen2-tied", LORA_TARGETS), ("mistral", ["q_proj", "v_proj", "down_proj"]),
                 ("gpt2", ["c_attn", "c_proj", "c_fc"])]


# ----------------------------------------------------------------------------
# pure-python helpers (covered by --self-test)
# ----------------------------------------------------------------------------
def base_tokens(seed=INPUT_SEED, batch=BATCH, seq=SEQ, vocab=VOCAB):
    """Fixed token ids in [1, vocab) (0 is reserved for padding)."""
    rnd = random.Random(seed)
    return [[rnd.randrange(1, vocab) for _ in range(seq)] for _ in range(batch)]


def position_ids_from_mask(mask):
    """cumsum(mask) - 1, clipped at 0 (what HF generate does for left padding)."""
    out = []
    for row in mask:
        acc, pos = 0, []
        for m in row:
            acc += m
            pos.append(max(acc - 1, 0))
        out.append(pos)
    return out


def right_padded(tokens, pad=RIGHT_PAD):
    """Row 0 unpadded; row 1 keeps its first SEQ-pad tokens, then `pad` padding positions.
    Position ids are 0..SEQ-1 for both rows (HF's default when none are passed)."""
    seq = len(tokens[0])
    ids = [list(tokens[0]), tokens[1][: seq - pad] + [PAD_ID] * pad]
    mask = [[1] * seq, [1] * (seq - pad) + [0] * pad]
    pos = [list(range(seq)) for _ in range(2)]
    return {"input_ids": ids, "attention_mask": mask, "position_ids": pos}


def left_padded(tokens, pad=LEFT_PAD):
    """Row 0 = `pad` padding positions then its first SEQ-pad tokens; row 1 unpadded.
    Position ids = cumsum(mask)-1 clipped at 0."""
    seq = len(tokens[0])
    ids = [[PAD_ID] * pad + tokens[0][: seq - pad], list(tokens[1])]
    mask = [[0] * pad + [1] * (seq - pad), [1] * seq]
    return {"input_ids": ids, "attention_mask": mask, "position_ids": position_ids_from_mask(mask)}


def make_inputs(seed=INPUT_SEED):
    toks = base_tokens(seed)
    return {"right": right_padded(toks), "left": left_padded(toks), "pad_token_id": PAD_ID}


def consistency_pairs():
    """(variant_a, row_a, start_a, variant_b, row_b, start_b, length) of logit slices that must agree,
    because they see the same real tokens at the same positions."""
    return [
        # left row 0 = pad*4 + tokens[0][:7]  <->  right row 0 = tokens[0] (first 7 positions)
        ("left", 0, LEFT_PAD, "right", 0, 0, SEQ - LEFT_PAD),
        # right row 1 = tokens[1][:8] + pad*3  <->  left row 1 = tokens[1] (first 8 positions)
        ("right", 1, 0, "left", 1, 0, SEQ - RIGHT_PAD),
    ]


def select_variant(inputs, variant="right"):
    """Accepts the nested inputs.json format, or a flat {"input_ids",...} object."""
    if variant in inputs:
        return inputs[variant]
    if "input_ids" in inputs:
        return inputs
    raise KeyError(f"inputs has neither '{variant}' nor 'input_ids'")


def adapter_key_for_param(param_name, adapter_name="default"):
    """Model parameter name under PEFT -> key in adapter_model.safetensors.
    base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight
      -> base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"""
    return param_name.replace(f".{adapter_name}.", ".")


def is_lora_param(name):
    return ".lora_A." in name or ".lora_B." in name


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=False)
        f.write("\n")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def parse_args(argv):
    ap = argparse.ArgumentParser(description="HF transformers/peft oracle fixtures for Understudy")
    ap.add_argument("--self-test", action="store_true", help="check the pure-python parts and exit")
    sub = ap.add_subparsers(dest="cmd")
    fx = sub.add_parser("fixtures", help="write the oracle fixtures")
    fx.add_argument("--out", required=True)
    fx.add_argument("--seed", type=int, default=SEED)
    fx.add_argument("--understudy-tokenizer", default=None,
                    help="directory with the tokenizer files Understudy writes (OracleTokenizerWriter)")
    pc = sub.add_parser("peft-check", help="compare Java logits with base + PEFT adapter")
    pc.add_argument("--base", required=True)
    pc.add_argument("--adapter", required=True)
    pc.add_argument("--inputs", required=True)
    pc.add_argument("--expected", required=True)
    pc.add_argument("--tol", type=float, default=TOL_F32)
    args = ap.parse_args(argv)
    if not args.self_test and args.cmd is None:
        ap.error("give a subcommand (fixtures, peft-check) or --self-test")
    return args


# ----------------------------------------------------------------------------
# torch / transformers parts (imported lazily)
# ----------------------------------------------------------------------------
def _versions():
    import torch
    import transformers

    v = {"torch": torch.__version__, "transformers": transformers.__version__}
    try:
        import peft

        v["peft"] = peft.__version__
    except ImportError:
        v["peft"] = None
    try:
        import safetensors

        v["safetensors"] = safetensors.__version__
    except (ImportError, AttributeError):
        v["safetensors"] = None
    return v


def _dtype_kwargs(torch_dtype):
    """transformers >= 4.56 renamed from_pretrained(torch_dtype=) to dtype=."""
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": torch_dtype} if (major, minor) >= (4, 56) else {"torch_dtype": torch_dtype}


def load_causal_lm(path, torch_dtype=None):
    import torch
    from transformers import AutoModelForCausalLM

    kw = _dtype_kwargs(torch_dtype or torch.float32)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, attn_implementation="eager", **kw)
    except TypeError:
        model = AutoModelForCausalLM.from_pretrained(path, **kw)
    return model.eval()


def model_from_config(config):
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    except TypeError:
        model = AutoModelForCausalLM.from_config(config)
    return model.float().eval()


def save_model(model, path, **kw):
    import inspect

    params = inspect.signature(model.save_pretrained).parameters
    if "safe_serialization" in params:
        kw["safe_serialization"] = True
    model.save_pretrained(path, **kw)


def reinit_all(model, seed, std=INIT_STD):
    """Every parameter gets non-trivial values: 1-D norm weights 1+N(0,std), biases N(0,std),
    matrices/embeddings N(0,std). Tied parameters are visited once (named_parameters dedups)."""
    import torch

    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, dtype=torch.float32) * std
            if p.ndim == 1 and not name.endswith("bias"):
                p.copy_(1.0 + noise)  # RMSNorm / LayerNorm weight
            else:
                p.copy_(noise)  # bias, linear/Conv1D weight, embedding


def run_logits(model, batch):
    import torch

    with torch.no_grad():
        out = model(
            input_ids=torch.tensor(batch["input_ids"], dtype=torch.long),
            attention_mask=torch.tensor(batch["attention_mask"], dtype=torch.long),
            position_ids=torch.tensor(batch["position_ids"], dtype=torch.long),
            use_cache=False,
        )
    return out.logits.float().contiguous()


def run_hidden(model, batch):
    """transformers' output_hidden_states (L+1 entries: embeddings, blocks 0..L-2, final norm) and
    every block's raw output (captured by forward hooks), each stacked to [n, B, T, d]."""
    import torch

    blocks = []
    base = model.base_model
    layers = base.layers if hasattr(base, "layers") else base.h
    hooks = [layer.register_forward_hook(lambda mod, i, o: blocks.append(o[0] if isinstance(o, tuple) else o))
             for layer in layers]
    try:
        with torch.no_grad():
            out = model(
                input_ids=torch.tensor(batch["input_ids"], dtype=torch.long),
                attention_mask=torch.tensor(batch["attention_mask"], dtype=torch.long),
                position_ids=torch.tensor(batch["position_ids"], dtype=torch.long),
                use_cache=False, output_hidden_states=True,
            )
    finally:
        for h in hooks:
            h.remove()
    hidden = torch.stack([h.float() for h in out.hidden_states]).contiguous()
    return hidden, torch.stack([b.float() for b in blocks]).contiguous()


def masked_max_diff(a, b, mask):
    import torch

    m = torch.tensor(mask, dtype=torch.bool)
    return (a - b).abs()[m].max().item()


def greedy_reference(model, prompt, new_tokens):
    """Plain greedy decode with a full recompute per token (no KV cache, no stopping on eos)."""
    import torch

    ids = list(prompt)
    with torch.no_grad():
        for _ in range(new_tokens):
            logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits
            ids.append(int(logits[0, -1].argmax().item()))
    return ids


def greedy_generate(model, prompt, new_tokens):
    """HF generate (KV-cache path), used as a cross-check of greedy_reference."""
    import torch

    inp = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(
            input_ids=inp, attention_mask=torch.ones_like(inp), max_new_tokens=new_tokens,
            do_sample=False, num_beams=1, eos_token_id=None, pad_token_id=PAD_ID,
        )
    return [int(x) for x in out[0].tolist()]


def fixture_configs():
    from transformers import GPT2Config, LlamaConfig, MistralConfig, Qwen2Config

    llama = LlamaConfig(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False, attention_bias=False,
    )
    qwen2 = Qwen2Config(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, rope_theta=1e6, tie_word_embeddings=True,
        use_sliding_window=False,
    )
    mistral = MistralConfig(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=56, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=64,
        rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=False, sliding_window=None,
    )
    gpt2 = GPT2Config(
        vocab_size=VOCAB, n_positions=64, n_embd=32, n_layer=2, n_head=4,
        activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )
    return [("llama-gqa", llama), ("qwen2-tied", qwen2), ("mistral", mistral), ("gpt2", gpt2)]


def _check_consistency(name, logits, inputs, tol):
    """Same real tokens at the same positions must give the same logits in both variants."""
    worst = 0.0
    for va, ra, sa, vb, rb, sb, n in consistency_pairs():
        a = logits[va][ra, sa:sa + n]
        b = logits[vb][rb, sb:sb + n]
        worst = max(worst, (a - b).abs().max().item())
    if worst > tol:
        raise SystemExit(f"{name}: padded/unpadded logits disagree by {worst:.3e} > {tol}")
    return worst


def _write_fixture(out_dir, name, model_dir, logits, inputs, manifest_entry, hidden=None):
    import torch
    from safetensors.torch import save_file

    tensors = {"logits_right": logits["right"].to(torch.float32).contiguous(),
               "logits_left": logits["left"].to(torch.float32).contiguous()}
    for v, (hs, blocks) in (hidden or {}).items():
        tensors[f"hidden_states_{v}"] = hs
        tensors[f"block_outputs_{v}"] = blocks
    save_file(tensors, os.path.join(model_dir, "logits.safetensors"))
    write_json(os.path.join(model_dir, "inputs.json"), inputs)
    files = sorted(os.listdir(model_dir))
    manifest_entry["files"] = {f: {"bytes": os.path.getsize(os.path.join(model_dir, f)),
                                   "sha256": sha256(os.path.join(model_dir, f))} for f in files}
    manifest_entry["dir"] = name
    return manifest_entry


def cmd_fixtures(args):
    import copy

    import torch

    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    torch.use_deterministic_algorithms(True, warn_only=True)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    versions = _versions()
    base_inputs = make_inputs()
    manifest = {
        "generator": "model-ops/src/test/python/make_hf_oracle.py",
        "versions": versions,
        "seed": args.seed,
        "init": f"matrices/embeddings N(0,{INIT_STD}), 1-D norm weights 1+N(0,{INIT_STD}), biases N(0,{INIT_STD})",
        "attn_implementation": "eager",
        "compare": "only positions with attention_mask == 1; logits at padded positions are implementation-defined",
        "tolerance_abs": TOL_F32,
        "inputs": {"right_padded_row": 1, "right_pad": RIGHT_PAD, "left_padded_row": 0, "left_pad": LEFT_PAD,
                   "pad_token_id": PAD_ID},
        "fixtures": [],
    }

    def finish(name, reload_dtype, entry, inputs, ref_model=None):
        """Reload what was saved (as the Java side will), compute its logits, check, write."""
        d = os.path.join(out, name)
        model = load_causal_lm(d, reload_dtype)
        logits = {v: run_logits(model, inputs[v]) for v in ("right", "left")}
        hidden = {v: run_hidden(model, inputs[v]) for v in ("right", "left")}
        entry["padding_consistency_max_abs"] = _check_consistency(name, logits, inputs, TOL_F32)
        for v in ("right", "left"):  # the last hidden state feeds the head: same logits
            if not torch.allclose(hidden[v][0][-1].matmul(model.get_output_embeddings().weight.T), logits[v],
                                  atol=1e-5):
                raise SystemExit(f"{name}: last hidden state does not give the logits")
        entry["hidden_states"] = "output_hidden_states: [L+1,B,T,d] = embeddings, blocks 0..L-2, final norm"
        entry["block_outputs"] = "raw output of every block (forward hooks): [L,B,T,d]"
        if "greedy_prompt" not in inputs:
            prompt = inputs["right"]["input_ids"][0][:GREEDY_PROMPT_LEN]
            ref = greedy_reference(model, prompt, GREEDY_NEW)
            inputs["greedy_prompt"], inputs["greedy_new_tokens"], inputs["greedy_output"] = \
                prompt, ref[GREEDY_PROMPT_LEN:], ref
            gen = greedy_generate(model, prompt, GREEDY_NEW)
            entry["greedy_generate_matches"] = gen == ref
            if gen != ref:
                raise SystemExit(f"{name}: model.generate gave {gen}, full-recompute greedy {ref}")
        if ref_model is not None:  # saved+reloaded == in-memory model
            for v in ("right", "left"):
                diff = masked_max_diff(logits[v], run_logits(ref_model, inputs[v]), inputs[v]["attention_mask"])
                entry[f"reload_max_abs_{v}"] = diff
                if diff > 1e-6:
                    raise SystemExit(f"{name}: reloaded model differs from the in-memory one by {diff:.3e}")
        manifest["fixtures"].append(_write_fixture(out, name, d, logits, inputs, entry, hidden))
        print(f"[fixtures] {name}: ok ({entry.get('padding_consistency_max_abs'):.2e} padding consistency)",
              file=sys.stderr)
        return model

    llama = None
    models = {}
    for i, (name, config) in enumerate(fixture_configs()):
        torch.manual_seed(args.seed + i)
        model = model_from_config(config)
        reinit_all(model, args.seed + i)
        d = os.path.join(out, name)
        save_model(model, d)
        inputs = copy.deepcopy(base_inputs)
        entry = {"name": name, "model_type": config.model_type, "architecture": type(model).__name__,
                 "dtype_on_disk": "float32", "sharded": False,
                 "tied_embeddings": bool(getattr(config, "tie_word_embeddings", False)),
                 "params": sum(p.numel() for p in model.parameters())}
        if name == "llama-gqa":
            llama = model
        models[name] = model
        finish(name, torch.float32, entry, inputs, ref_model=model)

    # llama-gqa-sharded: same weights, forced into several shards; logits must equal llama-gqa's
    name = "llama-gqa-sharded"
    save_model(llama, os.path.join(out, name), max_shard_size="20KB")
    shards = [f for f in os.listdir(os.path.join(out, name)) if f.endswith(".safetensors")]
    if len(shards) < 2:
        raise SystemExit(f"{name}: expected several shards, got {shards}")
    finish(name, torch.float32, {"name": name, "model_type": "llama", "architecture": type(llama).__name__,
                                 "dtype_on_disk": "float32", "sharded": True, "shards": len(shards),
                                 "same_weights_as": "llama-gqa", "tied_embeddings": False},
           copy.deepcopy(base_inputs), ref_model=llama)

    # llama-gqa-bf16: weights rounded to bf16 on disk; logits from the bf16 weights widened to fp32
    name = "llama-gqa-bf16"
    save_model(copy.deepcopy(llama).to(torch.bfloat16), os.path.join(out, name))
    widened = copy.deepcopy(llama)
    with torch.no_grad():
        for p in widened.parameters():
            p.copy_(p.to(torch.bfloat16).to(torch.float32))
    finish(name, torch.float32, {"name": name, "model_type": "llama", "architecture": type(llama).__name__,
                                 "dtype_on_disk": "bfloat16", "sharded": False, "tied_embeddings": False,
                                 "logits_from": "bf16 weights widened to fp32, fp32 compute",
                                 "same_weights_as": "llama-gqa (rounded to bf16)"},
           copy.deepcopy(base_inputs), ref_model=widened)

    # llama-gqa-f16: weights rounded to float16 on disk; logits from the f16 weights widened to fp32
    name = "llama-gqa-f16"
    save_model(copy.deepcopy(llama).to(torch.float16), os.path.join(out, name))
    widened = copy.deepcopy(llama)
    with torch.no_grad():
        for p in widened.parameters():
            p.copy_(p.to(torch.float16).to(torch.float32))
    finish(name, torch.float32, {"name": name, "model_type": "llama", "architecture": type(llama).__name__,
                                 "dtype_on_disk": "float16", "sharded": False, "tied_embeddings": False,
                                 "logits_from": "f16 weights widened to fp32, fp32 compute",
                                 "same_weights_as": "llama-gqa (rounded to f16)"},
           copy.deepcopy(base_inputs), ref_model=widened)

    # <model>-lora: a PEFT adapter for each architecture, saved by peft, with non-zero A and B
    for i, (base_name, targets) in enumerate(LORA_FIXTURES):
        _make_lora_fixture(out, base_name, models[base_name], targets, base_inputs, args.seed + 10 * i, manifest)

    # tokenizers: every kind Understudy writes or reads, encoded by transformers
    import make_tokenizer_oracle
    make_tokenizer_oracle.write_all(os.path.join(out, "tokenizers"), args.understudy_tokenizer, manifest)

    write_json(os.path.join(out, "manifest.json"), manifest)
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
    print(f"[fixtures] wrote {len(manifest['fixtures'])} fixtures, {total} bytes, to {out}", file=sys.stderr)
    if total > 2_000_000:
        raise SystemExit(f"[fixtures] {total} bytes is more than the 2 MB the fixtures may take")


def _make_lora_fixture(out, base_name, base_model, targets, base_inputs, seed, manifest):
    """Adapter directory (adapter_config.json + adapter_model.safetensors, saved by peft) plus the
    logits of ../<base_name> with the adapter applied."""
    import copy

    import torch
    from peft import LoraConfig, get_peft_model

    name = base_name + "-lora"
    d = os.path.join(out, name)
    gpt2 = base_model.config.model_type == "gpt2"
    cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=list(targets), bias="none",
                     task_type="CAUSAL_LM", fan_in_fan_out=gpt2)
    model = get_peft_model(copy.deepcopy(base_model), cfg)
    torch.manual_seed(seed + 100)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if is_lora_param(n):  # PEFT initialises B = 0; make both factors non-trivial
                p.copy_(torch.randn(p.shape) * 0.2)
    model.eval()
    model.save_pretrained(d)
    inputs = copy.deepcopy(base_inputs)
    logits = {v: run_logits(model, inputs[v]) for v in ("right", "left")}
    entry = {"name": name, "kind": "peft-lora-adapter", "base": base_name, "r": 4, "lora_alpha": 8,
             "target_modules": list(targets), "fan_in_fan_out": gpt2, "logits_from": base_name + " + this adapter"}
    entry["padding_consistency_max_abs"] = _check_consistency(name, logits, inputs, TOL_F32)
    with model.disable_adapter():
        base_logits = run_logits(model, inputs["right"])
    entry["adapter_effect_max_abs"] = (logits["right"] - base_logits).abs().max().item()
    manifest["fixtures"].append(_write_fixture(out, name, d, logits, inputs, entry))
    # the adapter must round-trip through PeftModel.from_pretrained exactly
    rc = peft_check(os.path.join(out, base_name), d, inputs, logits["right"], TOL_F32, quiet=True)
    if rc != 0:
        raise SystemExit(f"{name}: adapter does not round-trip through PeftModel.from_pretrained")
    print(f"[fixtures] {name}: ok (adapter changes logits by up to {entry['adapter_effect_max_abs']:.3f})",
          file=sys.stderr)


def _load_adapter_tensors(adapter_dir):
    st = os.path.join(adapter_dir, "adapter_model.safetensors")
    if os.path.exists(st):
        from safetensors.torch import load_file

        return st, load_file(st)
    binf = os.path.join(adapter_dir, "adapter_model.bin")
    if os.path.exists(binf):
        import torch

        return binf, torch.load(binf, map_location="cpu")
    raise SystemExit(f"no adapter_model.safetensors or adapter_model.bin in {adapter_dir}")


def peft_check(base, adapter, inputs, expected_right, tol, quiet=False):
    """Returns 0 when the adapter loaded completely and logits match within tol, else 1."""
    import torch
    from peft import PeftModel

    def say(*a):
        if not quiet:
            print(*a)

    failures = []
    with open(os.path.join(adapter, "adapter_config.json")) as f:
        adapter_config = json.load(f)
    say("adapter_config.json:", json.dumps(adapter_config, indent=1, sort_keys=True))

    model = load_causal_lm(base, torch.float32)
    model = PeftModel.from_pretrained(model, adapter, is_trainable=False).eval()
    adapter_name = getattr(model, "active_adapter", "default")
    if isinstance(adapter_name, (list, tuple)):
        adapter_name = adapter_name[0]

    # every lora_A / lora_B of the model must equal the tensor in the adapter file, and vice versa
    path, tensors = _load_adapter_tensors(adapter)
    file_lora = {k for k in tensors if is_lora_param(k)}
    seen = set()
    loaded = []
    for n, p in model.named_parameters():
        if not is_lora_param(n):
            continue
        key = adapter_key_for_param(n, adapter_name)
        if key not in tensors:
            failures.append(f"missing in adapter file (parameter stays at its init): {key}")
            continue
        seen.add(key)
        t = tensors[key].to(torch.float32)
        if t.shape != p.shape:
            failures.append(f"shape mismatch {key}: file {tuple(t.shape)} vs model {tuple(p.shape)}")
        elif not torch.equal(t, p.detach().to(torch.float32)):
            failures.append(f"value mismatch {key}: max abs {(t - p.detach().float()).abs().max().item():.3e}")
        else:
            loaded.append(f"{key} {list(p.shape)}")
    for k in sorted(file_lora - seen):
        failures.append(f"unexpected key in adapter file (not loaded): {k}")
    for k in sorted(set(tensors) - file_lora):
        failures.append(f"non-LoRA tensor in adapter file (not checked): {k}")
    if not loaded:
        failures.append("no LoRA parameter was loaded")
    say(f"adapter file: {path}")
    say(f"loaded lora keys ({len(loaded)}):")
    for k in loaded:
        say("  " + k)

    batch = select_variant(inputs, "right")
    logits = run_logits(model, batch)
    exp = expected_right.to(torch.float32)
    if tuple(exp.shape) != tuple(logits.shape):
        failures.append(f"expected logits shape {tuple(exp.shape)} != model logits {tuple(logits.shape)}")
    else:
        valid = masked_max_diff(logits, exp, batch["attention_mask"])
        every = (logits - exp).abs().max().item()
        say(f"max abs diff (attention_mask == 1 positions): {valid:.3e}  (tol {tol:g})")
        say(f"max abs diff (all positions, informational):  {every:.3e}")
        if not valid <= tol:  # also catches NaN
            failures.append(f"logits differ by {valid:.3e} > {tol:g}")
        with model.disable_adapter():
            base_logits = run_logits(model, batch)
        effect = (logits - base_logits).abs().max().item()
        say(f"adapter effect on logits (max abs vs base): {effect:.3e}")
        if effect == 0.0:
            say("WARNING: the adapter does not change the logits (lora_B all zero?); the check is vacuous")

    for msg in failures:
        print("FAIL: " + msg, file=sys.stderr)
    say("RESULT:", "FAIL" if failures else "PASS")
    return 1 if failures else 0


def cmd_peft_check(args):
    import torch
    from safetensors.torch import load_file

    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    with open(args.inputs) as f:
        inputs = json.load(f)
    expected = load_file(args.expected)
    if "logits_right" not in expected:
        raise SystemExit(f"{args.expected} has no 'logits_right' (has {sorted(expected)})")
    print(f"versions: {json.dumps(_versions())}")
    return peft_check(args.base, args.adapter, inputs, expected["logits_right"], args.tol)


# ----------------------------------------------------------------------------
# self-test
# ----------------------------------------------------------------------------
def self_test():
    a = parse_args(["fixtures", "--out", "x"])
    assert a.cmd == "fixtures" and a.out == "x" and a.seed == SEED
    a = parse_args(["peft-check", "--base", "b", "--adapter", "a", "--inputs", "i", "--expected", "e"])
    assert (a.base, a.adapter, a.inputs, a.expected, a.tol) == ("b", "a", "i", "e", TOL_F32)
    assert parse_args(["peft-check", "--base", "b", "--adapter", "a", "--inputs", "i", "--expected", "e",
                       "--tol", "1e-3"]).tol == 1e-3
    assert parse_args(["--self-test"]).self_test

    assert position_ids_from_mask([[0, 0, 1, 1, 1], [1, 1, 1, 0, 0]]) == [[0, 0, 0, 1, 2], [0, 1, 2, 2, 2]]

    inp = make_inputs()
    assert inp == make_inputs(), "inputs must be deterministic"
    toks = base_tokens()
    for v in ("right", "left"):
        b = inp[v]
        for k in ("input_ids", "attention_mask", "position_ids"):
            assert len(b[k]) == BATCH and all(len(r) == SEQ for r in b[k]), (v, k)
        assert all(0 <= t < VOCAB for r in b["input_ids"] for t in r)
        for ids, mask in zip(b["input_ids"], b["attention_mask"]):
            assert all((m == 0) == (t == PAD_ID) for t, m in zip(ids, mask)), "pad id only at masked positions"
    r, l = inp["right"], inp["left"]
    assert r["input_ids"][0] == toks[0] and r["attention_mask"][0] == [1] * SEQ
    assert r["attention_mask"][1] == [1] * 8 + [0] * 3 and r["input_ids"][1][:8] == toks[1][:8]
    assert r["position_ids"] == [list(range(SEQ))] * 2
    assert l["attention_mask"][0] == [0] * 4 + [1] * 7 and l["input_ids"][0][4:] == toks[0][:7]
    assert l["position_ids"][0] == [0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6]
    assert l["input_ids"][1] == toks[1] and l["position_ids"][1] == list(range(SEQ))
    # the consistency pairs really cover identical (token, position) sequences
    for va, ra, sa, vb, rb, sb, n in consistency_pairs():
        A, B = inp[va], inp[vb]
        for k in ("input_ids", "position_ids", "attention_mask"):
            assert A[k][ra][sa:sa + n] == B[k][rb][sb:sb + n], (va, vb, k)
        assert A["attention_mask"][ra][:sa] in ([], [0] * sa)  # only padding before the slice
        assert B["attention_mask"][rb][:sb] in ([], [0] * sb)

    assert select_variant(inp, "right") is inp["right"]
    assert select_variant(inp["left"]) is inp["left"]

    assert adapter_key_for_param("base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight") == \
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"
    assert adapter_key_for_param("base_model.model.model.layers.1.mlp.down_proj.lora_B.other.weight", "other") == \
        "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"
    assert is_lora_param("x.q_proj.lora_B.default.weight") and not is_lora_param("x.q_proj.base_layer.weight")

    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "inputs.json")
        write_json(p, inp)
        with open(p) as f:
            back = json.load(f)
        assert back == inp
        assert len(sha256(p)) == 64
    print("self-test: OK (argument parsing, inputs, position ids, inputs.json round trip, key mapping)")
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        return self_test()
    if args.cmd == "fixtures":
        cmd_fixtures(args)
        return 0
    if args.cmd == "peft-check":
        return cmd_peft_check(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
