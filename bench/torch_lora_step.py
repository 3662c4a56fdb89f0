#!/usr/bin/env python3
"""PyTorch-eager reference for Understudy's LoRA train-step benchmark.

Computes exactly the step that the Java (DJL) benchmark computes, so that the
two throughputs can be compared as a ratio. Everything is fp32 on the CPU.

Model (LLaMA as in HF ``LlamaForCausalLM``, plain PyTorch, no transformers):
  vocab V, hidden d, L layers, H = d/64 heads, H kv heads, head_dim 64,
  intermediate I = 64*ceil((8*d/3)/64)  (256->704, 512->1408, 1024->2752),
  RMSNorm eps 1e-5 (x * rsqrt(mean(x^2)+eps) * w), RoPE theta 10000 with HF's
  rotate_half convention, SwiGLU MLP down(silu(gate(x)) * up(x)), no biases,
  final norm, untied lm_head.
  Attention uses explicit matmuls: softmax(q @ k^T / sqrt(64) + causal_mask) @ v,
  softmax in fp32. No fused kernel (F.scaled_dot_product_attention) is used:
  the Java side cannot use one either, and torch 1.13 does not have it.

LoRA (as HF PEFT): on q,k,v,o,gate,up,down; r=8, alpha=16 (scale alpha/r = 2),
  dropout 0; A ~ kaiming_uniform(a=sqrt(5)); B would be 0 in PEFT, but for the
  benchmark B ~ N(0, 0.01^2) so gradients flow to A. Base weights (including
  embeddings, norms and lm_head) are frozen. y = x W^T + (x A^T B^T) * scale.

Step: forward on a fixed random batch of token ids [B, T] (seeded) + next-token
  cross-entropy over all positions (logits[:, :-1] vs ids[:, 1:]) + backward +
  torch.optim.AdamW(lr 1e-4, betas (0.9, 0.999), eps 1e-8, weight_decay 0) over
  the LoRA parameters + zero_grad(set_to_none=True).

FLOP formula (shared with the Java benchmark; printed with the results):
  N_mm  = L*(4*d*d + 3*d*I) + d*V  + N_lora
          (weights of the attention projections, the MLP and lm_head)
  N_lora = L * sum over the 7 adapted modules of r*(in+out)
          (the LoRA factors' weights: A is r x in, B is out x r)
          (q,k,v,o: in=out=d; gate,up: in=d,out=I; down: in=I,out=d)
  F     = 2*N_mm + 4*L*T*d          forward FLOPs per token
                                    (4*L*T*d = q@k^T and p@v, full T, no causal halving)
  step FLOPs = 2 * B*T*F            forward + activation-gradient backward; frozen
                                    weights get no weight-gradient FLOPs
  GFLOP/s = step FLOPs / median step seconds / 1e9
  tokens/s = B*T / median step seconds

Output: one JSON object per size on stdout, one human-readable line per size on
stderr. Fields: impl, torch, attention, blas, d, layers, heads, intermediate, vocab,
batch, seq, lora_rank, threads, warmup, steps, ms_per_step_median,
ms_per_step_mean, tokens_per_s, gflops, flops_per_step, loss_first, loss_last.
loss_first is the loss of the very first step (warm-up included), loss_last the
loss of the last timed step.

Usage:
  /usr/bin/python3 bench/torch_lora_step.py                      # 256x4,512x8,1024x8
  /usr/bin/python3 bench/torch_lora_step.py --sizes 256x4 --warmup 1 --steps 3
"""

import argparse
import json
import math
import os
import statistics
import sys
import time


def _preset_thread_env(argv):
    """Pin BLAS/OpenMP pools to --threads before torch loads them (OpenBLAS reads its env at load)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--threads", type=int, default=2)
    n = str(pre.parse_known_args(argv)[0].threads)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = n


if __name__ == "__main__":
    _preset_thread_env(sys.argv[1:])

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HEAD_DIM = 64
LORA_RANK = 8
LORA_ALPHA = 16
RMS_EPS = 1e-5
ROPE_THETA = 10000.0
ATTENTION = "explicit-matmul (no fused scaled_dot_product_attention)"
BLAS = "?"


# ----------------------------------------------------------------------------
# shared formula helpers
# ----------------------------------------------------------------------------
def intermediate_size(d):
    """64*ceil((8*d/3)/64), computed in integers: 256->704, 512->1408, 1024->2752."""
    return 64 * (-(-(8 * d) // (3 * 64)))


def lora_mm_weights(d, inter, layers, r=LORA_RANK):
    """LoRA contribution to N_mm: per layer sum of r*(in+out) (A: r x in, B: out x r) over the 7 adapted modules."""
    per_layer = 4 * r * (d + d) + 2 * r * (d + inter) + r * (inter + d)
    return layers * per_layer


def mm_weights(d, layers, vocab, r=LORA_RANK):
    inter = intermediate_size(d)
    return layers * (4 * d * d + 3 * d * inter) + d * vocab + lora_mm_weights(d, inter, layers, r)


def forward_flops_per_token(d, layers, vocab, seq, r=LORA_RANK):
    return 2 * mm_weights(d, layers, vocab, r) + 4 * layers * seq * d


def step_flops(d, layers, vocab, batch, seq, r=LORA_RANK):
    return 2 * batch * seq * forward_flops_per_token(d, layers, vocab, seq, r)


# ----------------------------------------------------------------------------
# model
# ----------------------------------------------------------------------------
class LoraLinear(nn.Module):
    """Frozen bias-free linear with a PEFT-style LoRA adapter."""

    def __init__(self, in_f, out_f, r=LORA_RANK, alpha=LORA_ALPHA):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_f, in_f).normal_(0.0, 0.02), requires_grad=False)
        self.lora_A = nn.Parameter(torch.empty(r, in_f))
        self.lora_B = nn.Parameter(torch.empty(out_f, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # as PEFT
        nn.init.normal_(self.lora_B, 0.0, 0.01)  # PEFT uses 0; non-zero so A gets gradients
        self.scale = alpha / r

    def forward(self, x):
        return F.linear(x, self.weight) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scale


class RMSNorm(nn.Module):
    def __init__(self, d, eps=RMS_EPS):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d), requires_grad=False)
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + self.eps) * self.weight


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rope_cos_sin(seq, head_dim=HEAD_DIM, theta=ROPE_THETA):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    pos = torch.arange(seq, dtype=torch.float32)
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)  # [T, head_dim]
    return emb.cos(), emb.sin()


class Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.heads = d // HEAD_DIM
        self.q_proj = LoraLinear(d, d)
        self.k_proj = LoraLinear(d, d)
        self.v_proj = LoraLinear(d, d)
        self.o_proj = LoraLinear(d, d)

    def forward(self, x, cos, sin, mask):
        b, t, d = x.shape
        q = self.q_proj(x).view(b, t, self.heads, HEAD_DIM).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.heads, HEAD_DIM).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.heads, HEAD_DIM).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(HEAD_DIM) + mask
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
        out = torch.matmul(probs, v)  # [b, H, t, hd]
        out = out.transpose(1, 2).reshape(b, t, d)
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, d, inter):
        super().__init__()
        self.gate_proj = LoraLinear(d, inter)
        self.up_proj = LoraLinear(d, inter)
        self.down_proj = LoraLinear(inter, d)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, d, inter):
        super().__init__()
        self.input_layernorm = RMSNorm(d)
        self.self_attn = Attention(d)
        self.post_attention_layernorm = RMSNorm(d)
        self.mlp = MLP(d, inter)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaLora(nn.Module):
    def __init__(self, vocab, d, layers):
        super().__init__()
        inter = intermediate_size(d)
        self.embed_tokens = nn.Embedding(vocab, d)
        nn.init.normal_(self.embed_tokens.weight, 0.0, 0.02)
        self.embed_tokens.weight.requires_grad_(False)
        self.layers = nn.ModuleList([Block(d, inter) for _ in range(layers)])
        self.norm = RMSNorm(d)
        self.lm_head = nn.Parameter(torch.empty(vocab, d).normal_(0.0, 0.02), requires_grad=False)

    def forward(self, ids):
        t = ids.shape[1]
        cos, sin = rope_cos_sin(t)
        mask = torch.full((t, t), torch.finfo(torch.float32).min).triu(1)  # additive causal mask
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return F.linear(self.norm(x), self.lm_head)


# ----------------------------------------------------------------------------
# benchmark
# ----------------------------------------------------------------------------
def blas_info():
    """Which BLAS torch actually runs on. Debian's python3-torch is built against the generic
    libblas.so.3, so the speed depends on the alternative installed: the netlib reference BLAS
    (package libblas3) is ~10x slower than OpenBLAS (install libopenblas0-openmp)."""
    cfg = torch.__config__.show()
    build = "mkl" if "BLAS_INFO=mkl" in cfg else ("generic" if "BLAS_INFO=generic" in cfg else "?")
    loaded = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if line.strip() else ""
                base = os.path.basename(path)
                if ("blas" in base or "mkl" in base) and path.startswith("/") and path not in loaded:
                    loaded.append(os.path.realpath(path))
    except OSError:
        pass
    return f"build={build}; loaded={','.join(sorted(set(loaded))) or 'n/a'}"


def parse_sizes(text):
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        d, layers = part.lower().split("x")
        d, layers = int(d), int(layers)
        if d % HEAD_DIM:
            raise SystemExit(f"hidden size {d} is not a multiple of {HEAD_DIM}")
        sizes.append((d, layers))
    return sizes


def bench_one(d, layers, args):
    torch.manual_seed(args.seed)
    model = LlamaLora(args.vocab, d, layers)
    lora = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(lora, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    ids = torch.randint(0, args.vocab, (args.batch, args.seq), generator=gen)
    inputs, targets = ids, ids[:, 1:].reshape(-1)

    def step():
        logits = model(inputs)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, args.vocab), targets)
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
    flops = step_flops(d, layers, args.vocab, args.batch, args.seq)
    return {
        "impl": "pytorch-eager",
        "torch": torch.__version__,
        "attention": ATTENTION,
        "blas": BLAS,
        "d": d,
        "layers": layers,
        "heads": d // HEAD_DIM,
        "intermediate": intermediate_size(d),
        "vocab": args.vocab,
        "batch": args.batch,
        "seq": args.seq,
        "lora_rank": LORA_RANK,
        "threads": args.threads,
        "warmup": args.warmup,
        "steps": args.steps,
        "ms_per_step_median": round(median_s * 1e3, 3),
        "ms_per_step_mean": round(statistics.mean(times) * 1e3, 3),
        "tokens_per_s": round(args.batch * args.seq / median_s, 2),
        "gflops": round(flops / median_s / 1e9, 3),
        "flops_per_step": flops,
        "loss_first": round(losses[0], 6),
        "loss_last": round(losses[-1], 6),
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
    args = ap.parse_args(argv)
    if args.steps < 1 or args.warmup < 0 or args.seq < 2:
        raise SystemExit("need --steps >= 1, --warmup >= 0, --seq >= 2")

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    global BLAS
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # make sure the BLAS library is loaded
    BLAS = blas_info()
    print(f"# pytorch-eager {torch.__version__}, fp32 CPU, threads={args.threads}, interop=1; "
          f"attention: {ATTENTION}; blas: {BLAS}", file=sys.stderr)
    print("# FLOPs: N_mm = L*(4d^2 + 3dI) + dV + L*sum_7(2r(in+out)); F = 2*N_mm + 4*L*T*d; "
          "step = 2*B*T*F (fwd + activation-grad bwd)", file=sys.stderr)
    for d, layers in parse_sizes(args.sizes):
        r = bench_one(d, layers, args)
        print(json.dumps(r), flush=True)
        print(f"# d={d} L={layers} B={args.batch} T={args.seq}: median {r['ms_per_step_median']:.1f} ms/step, "
              f"mean {r['ms_per_step_mean']:.1f} ms, {r['tokens_per_s']:.0f} tok/s, {r['gflops']:.2f} GFLOP/s, "
              f"loss {r['loss_first']:.4f} -> {r['loss_last']:.4f}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
