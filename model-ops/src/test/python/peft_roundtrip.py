#!/usr/bin/env python3
"""PEFT round trip of an adapter a federated Understudy run exported (see peft-roundtrip.sh).

Reads DIR as PeftRoundTripExport (spark-job tests) writes it: base/, adapter/, merged/,
inputs.json, understudy_logits.safetensors. Checks, with transformers + peft on the CPU in fp32:

1. PeftModel.from_pretrained(base, adapter/) loads every lora_A/lora_B tensor of the file (no
   missing or unexpected keys) and its logits equal Understudy's base+adapter logits
   (make_hf_oracle.peft_check, attention_mask == 1 positions, max |diff| <= --tol);
2. merge_and_unload() of that model equals Understudy's merged export (merged/model.safetensors)
   tensor by tensor (max |diff| <= --tol), and its logits equal Understudy's logits of the merged
   export (<= --tol);
3. AutoModelForCausalLM.from_pretrained(merged/) (our merged export, loaded by transformers) gives
   the PEFT model's logits (<= --tol).

With --write-transformers FILE it also writes transformers' logits ("peft_logits_right" of
PeftModel, "merged_logits_right" of merge_and_unload), for the committed JUnit fixture.
Exit status 1 on any failure.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_hf_oracle as oracle  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--write-transformers", default=None)
    args = ap.parse_args(argv)

    import torch
    from peft import PeftModel
    from safetensors.torch import load_file, save_file

    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    d = args.dir
    with open(os.path.join(d, "inputs.json")) as f:
        inputs = json.load(f)
    ours = load_file(os.path.join(d, "understudy_logits.safetensors"))
    print(f"versions: {json.dumps(oracle._versions())}")
    print(f"prompts: {inputs.get('prompts')}")

    # 1. adapter loads completely; logits equal ours
    rc = oracle.peft_check(os.path.join(d, "base"), os.path.join(d, "adapter"), inputs, ours["logits_right"],
                           args.tol)
    failures = ["peft_check"] if rc != 0 else []

    batch = oracle.select_variant(inputs, "right")
    mask = batch["attention_mask"]
    model = oracle.load_causal_lm(os.path.join(d, "base"), torch.float32)
    model = PeftModel.from_pretrained(model, os.path.join(d, "adapter"), is_trainable=False).eval()
    peft_logits = oracle.run_logits(model, batch)

    # 2. merge_and_unload equals our merged export
    merged = model.merge_and_unload().eval()
    theirs = {k: v.detach().float() for k, v in merged.state_dict().items()}
    exported = load_file(os.path.join(d, "merged", "model.safetensors"))
    worst_w = 0.0
    for k, v in exported.items():
        if k not in theirs:
            failures.append(f"merged export has {k}, merge_and_unload does not")
            continue
        diff = (v.float() - theirs[k]).abs().max().item()
        worst_w = max(worst_w, diff)
        if not diff <= args.tol:
            failures.append(f"merged weight {k} differs by {diff:.3e}")
    missing = sorted(k for k in theirs if k not in exported and not (k == "lm_head.weight"
                                                                     and merged.config.tie_word_embeddings))
    for k in missing:
        failures.append(f"merge_and_unload has {k}, our merged export does not")
    merged_logits = oracle.run_logits(merged, batch)
    d_merged_ours = oracle.masked_max_diff(merged_logits, ours["logits_merged"].float(), mask)
    print(f"merge_and_unload vs Understudy merged export: max |diff| weights {worst_w:.3e} over "
          f"{len(exported)} tensors, logits {d_merged_ours:.3e}  (tol {args.tol:g})")
    if not d_merged_ours <= args.tol:
        failures.append(f"merged logits differ by {d_merged_ours:.3e}")

    # 3. our merged export, loaded by transformers, gives the PEFT model's logits
    ours_in_hf = oracle.load_causal_lm(os.path.join(d, "merged"), torch.float32)
    d_export_peft = oracle.masked_max_diff(oracle.run_logits(ours_in_hf, batch), peft_logits, mask)
    print(f"transformers on our merged export vs PeftModel: max |diff| logits {d_export_peft:.3e}")
    if not d_export_peft <= args.tol:
        failures.append(f"merged export in transformers differs from PeftModel by {d_export_peft:.3e}")

    if args.write_transformers:
        save_file({"peft_logits_right": peft_logits.contiguous(), "merged_logits_right": merged_logits.contiguous()},
                  args.write_transformers, metadata={"versions": json.dumps(oracle._versions())})
        print(f"wrote {args.write_transformers}")
    for msg in failures:
        print("FAIL: " + msg, file=sys.stderr)
    print("ROUND TRIP:", "FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
