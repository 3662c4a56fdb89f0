#!/usr/bin/env python3
"""transformers + peft reference for Understudy's LoRA train-step benchmark.

The same step as bench/torch_lora_step.py (and the Java LoraStepBenchmark), written as a user of
the Hugging Face stack would write it: transformers' LlamaForCausalLM (vocab V, hidden d, L layers,
H = d/64 heads = kv heads, intermediate 64*ceil((8d/3)/64), RMSNorm eps 1e-5, RoPE theta 1e4,
untied lm_head, no biases) wrapped by peft's get_peft_model with LoraConfig(r=8, lora_alpha=16,
lora_dropout=0, target_modules q,k,v,o,gate,up,down). lora_B is re-initialised N(0, 0.01^2) as in
the other two implementations (PEFT's zero init would give lora_A no gradient in the first step).
Attention: transformers' default for the model (--attn sdpa, the fused
scaled_dot_product_attention a user gets) or --attn eager (explicit matmuls, as Understudy).

Step: model(input_ids=ids, labels=ids).loss (shifted next-token cross-entropy over all positions,
as the others) + backward + torch.optim.AdamW(lr 1e-4, eps 1e-8, weight_decay 0) over the LoRA
parameters + zero_grad(set_to_none=True). fp32, CPU.

FLOPs, tokens/s and the JSON fields: as bench/torch_lora_step.py (impl "transformers+peft").
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

if __name__ == "__main__":
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--threads", type=int, default=2)
    n = str(pre.parse_known_args(sys.argv[1:])[0].threads)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = n

import torch  # noqa: E402
import torch_lora_step as ref  # noqa: E402

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def bench_one(d, layers, args):
    import peft
    import transformers
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(args.seed)
    cfg = LlamaConfig(vocab_size=args.vocab, hidden_size=d, intermediate_size=ref.intermediate_size(d),
                      num_hidden_layers=layers, num_attention_heads=d // ref.HEAD_DIM,
                      num_key_value_heads=d // ref.HEAD_DIM, rms_norm_eps=ref.RMS_EPS, rope_theta=ref.ROPE_THETA,
                      max_position_embeddings=max(2048, args.seq), tie_word_embeddings=False,
                      attention_bias=False, mlp_bias=False)
    model = LlamaForCausalLM._from_config(cfg, attn_implementation=args.attn, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=ref.LORA_RANK, lora_alpha=ref.LORA_ALPHA, lora_dropout=0.0,
                                             target_modules=TARGETS, bias="none"))
    with torch.no_grad():
        for n_, p in model.named_parameters():
            if "lora_B" in n_:
                p.normal_(0.0, 0.01)
    model.train()
    lora = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(lora, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    ids = torch.randint(0, args.vocab, (args.batch, args.seq), generator=gen)

    def step():
        loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    losses, times = [], []
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        loss = step()
        dt = time.perf_counter() - t0
        losses.append(loss)
        if i >= args.warmup:
            times.append(dt)
    median_s = statistics.median(times)
    flops = ref.step_flops(d, layers, args.vocab, args.batch, args.seq)
    return {
        "impl": "transformers+peft", "torch": torch.__version__, "transformers": transformers.__version__,
        "peft": peft.__version__, "attention": args.attn, "d": d, "layers": layers, "heads": d // ref.HEAD_DIM,
        "intermediate": ref.intermediate_size(d), "vocab": args.vocab, "batch": args.batch, "seq": args.seq,
        "lora_rank": ref.LORA_RANK, "lora_params": sum(p.numel() for p in lora), "threads": args.threads,
        "warmup": args.warmup, "steps": args.steps,
        "ms_per_step_median": round(median_s * 1e3, 3), "ms_per_step_mean": round(statistics.mean(times) * 1e3, 3),
        "tokens_per_s": round(args.batch * args.seq / median_s, 2), "gflops": round(flops / median_s / 1e9, 3),
        "flops_per_step": flops, "loss_first": round(losses[0], 6), "loss_last": round(losses[-1], 6),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="256x4,512x8,1024x8", help="comma list of HIDDENxLAYERS")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"])
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    print(f"# transformers+peft on torch {torch.__version__}, fp32 CPU, threads={args.threads}, attention={args.attn}",
          file=sys.stderr)
    for d, layers in ref.parse_sizes(args.sizes):
        r = bench_one(d, layers, args)
        print(json.dumps(r), flush=True)
        print(f"# d={d} L={layers}: median {r['ms_per_step_median']:.1f} ms/step, {r['tokens_per_s']:.0f} tok/s, "
              f"loss {r['loss_first']:.4f} -> {r['loss_last']:.4f}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
