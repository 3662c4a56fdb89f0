#!/usr/bin/env python3
"""transformers oracle for derived (pruned / layer-dropped) models written by Understudy.

   make_derived_oracle.py DIR

DIR holds one sub-directory per derived model, as OracleDerivedWriter (Java, DerivedModel.save)
wrote it: config.json, model.safetensors, derivation.json, inputs.json (copied from the parent
fixture). For each, this script loads the model in transformers 5.18 (fp32, eager attention) and
writes logits.safetensors (logits_right, logits_left for inputs.json), then DIR/manifest.json.

Loading is strict: from_pretrained must report no missing, unexpected or mismatched keys, and every
loaded parameter must equal the file's tensor (so nothing was silently re-initialised).

Per-layer FFN widths (config key understudy_intermediate_sizes) cannot be expressed in a
transformers LLaMA/GPT-2 config (one intermediate_size for every layer). For such a model the
script records that transformers refuses the directory as saved, then builds the zero-padded
equivalent: every layer at intermediate_size = max width, the missing neurons with zero input
rows, zero output columns and zero biases (a zero neuron contributes exactly 0: silu(0)*0 = 0,
gelu(0) = 0 times a zero column), loads it strictly with load_state_dict and computes the logits.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_hf_oracle as hf  # noqa: E402

WIDTHS_KEY = "understudy_intermediate_sizes"


def _ffn_tensors(model_type, layer):
    """(name, axis) of every tensor with one entry per FFN neuron, in the on-disk layout."""
    if model_type == "gpt2":
        p = f"transformer.h.{layer}.mlp."
        return [(p + "c_fc.weight", 1), (p + "c_fc.bias", 0), (p + "c_proj.weight", 0)]
    p = f"model.layers.{layer}.mlp."
    return [(p + "gate_proj.weight", 0), (p + "up_proj.weight", 0), (p + "down_proj.weight", 1),
            (p + "gate_proj.bias", 0), (p + "up_proj.bias", 0)]


def zero_padded(config, tensors):
    import torch

    widths = config[WIDTHS_KEY]
    width = max(widths)
    out = dict(tensors)
    for layer, w in enumerate(widths):
        for name, axis in _ffn_tensors(config["model_type"], layer):
            if name not in tensors or w == width:
                continue
            t = tensors[name]
            shape = list(t.shape)
            shape[axis] = width - w
            out[name] = torch.cat([t, torch.zeros(shape, dtype=t.dtype)], dim=axis).contiguous()
    padded = {k: v for k, v in config.items() if k != WIDTHS_KEY}
    padded["n_inner" if config["model_type"] == "gpt2" else "intermediate_size"] = width
    return padded, out


def strict_load(path):
    """from_pretrained with every key accounted for and every parameter equal to the file."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    model, info = AutoModelForCausalLM.from_pretrained(
        path, attn_implementation="eager", output_loading_info=True, **hf._dtype_kwargs(torch.float32))
    bad = {k: v for k, v in info.items() if v}
    if bad:
        raise SystemExit(f"{path}: transformers loading info not clean: {bad}")
    file = load_file(os.path.join(path, "model.safetensors"))
    state = model.state_dict()
    for name, t in file.items():
        if not torch.equal(state[name], t):
            raise SystemExit(f"{path}: parameter {name} differs from the file after loading")
    return model.eval(), sorted(file)


def padded_model(path, config, tensors):
    from transformers import AutoConfig

    pconf, ptensors = zero_padded(config, tensors)
    cfg = AutoConfig.for_model(**{k: v for k, v in pconf.items() if k not in ("architectures",)})
    model = hf.model_from_config(cfg)
    if getattr(cfg, "tie_word_embeddings", False):
        ptensors.setdefault("lm_head.weight", ptensors[
            "transformer.wte.weight" if pconf["model_type"] == "gpt2" else "model.embed_tokens.weight"])
    missing, unexpected = model.load_state_dict(ptensors, strict=False)
    # only non-persistent buffers may be absent from a checkpoint
    buffers = {n for n, _ in model.named_buffers()}
    missing = [k for k in missing if k not in buffers]
    if missing or unexpected:
        raise SystemExit(f"{path}: zero-padded state dict: missing {missing}, unexpected {unexpected}")
    return model.eval()


def one(path):
    import torch
    from safetensors.torch import load_file, save_file

    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(path, "inputs.json")) as f:
        inputs = json.load(f)
    with open(os.path.join(path, "derivation.json")) as f:
        derivation = json.load(f)
    entry = {"name": os.path.basename(path), "dir": os.path.basename(path), "model_type": config["model_type"],
             "method": derivation.get("method")}
    if WIDTHS_KEY in config:
        entry["ffn_widths"] = config[WIDTHS_KEY]
        try:
            hf.load_causal_lm(path)
            raise SystemExit(f"{path}: transformers loaded per-layer widths; update this script and the docs")
        except SystemExit:
            raise
        except Exception as e:  # noqa: BLE001 - recording the refusal is the point
            entry["transformers_as_saved"] = "refused: " + type(e).__name__ + ": " + str(e).splitlines()[0][:300]
        model = padded_model(path, config, load_file(os.path.join(path, "model.safetensors")))
        entry["checked_as"] = "zero-padded to intermediate_size=" + str(max(config[WIDTHS_KEY]))
    else:
        model, keys = strict_load(path)
        entry["transformers_as_saved"] = "loads (strict: no missing/unexpected/mismatched keys, %d tensors equal)" % len(keys)
        entry["checked_as"] = "as saved"
    logits = {"logits_right": hf.run_logits(model, inputs["right"]),
              "logits_left": hf.run_logits(model, inputs["left"])}
    save_file(logits, os.path.join(path, "logits.safetensors"))
    entry["files"] = {n: {"bytes": os.path.getsize(os.path.join(path, n)), "sha256": hf.sha256(os.path.join(path, n))}
                      for n in sorted(os.listdir(path))}
    return entry


def main(argv):
    if len(argv) != 1:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    out = argv[0]
    fixtures = [one(os.path.join(out, d)) for d in sorted(os.listdir(out)) if os.path.isdir(os.path.join(out, d))]
    hf.write_json(os.path.join(out, "manifest.json"), {
        "versions": hf._versions(), "attn_implementation": "eager", "dtype": "float32",
        "compare": "positions with attention_mask == 1", "tolerance_abs": hf.TOL_F32, "fixtures": fixtures})
    for fx in fixtures:
        print(fx["name"], "|", fx["transformers_as_saved"], "|", fx["checked_as"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
