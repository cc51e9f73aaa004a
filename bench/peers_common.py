"""What bench/gpu-peers.py and bench/cpu-peers.py share: random weights for a
Hugging Face MoE block, the block's own routing, its tokens grouped by expert,
and the routed experts' SwiGLU FFN as grouped GEMMs (torch._grouped_mm) or
expert by expert."""

import torch
import torch.nn.functional as F


def fill_(module, generator):
    """N(0, 0.02^2) everywhere: HF leaves the fused expert tensors empty, and
    zeros would time faster than real data."""
    with torch.no_grad():
        for p in list(module.parameters()) + list(module.buffers()):
            if not p.is_floating_point():
                continue
            # Slice by slice along the first dimension: DeepSeek-V3's experts
            # in one f32 temporary would take 30 GB.
            for part in (p if p.dim() > 2 else [p]):
                part.copy_(torch.randn(part.shape, generator=generator,
                                       device=p.device,
                                       dtype=torch.float32) * 0.02)


def route(block, x):
    """The block's own routing of x: expert ids [T, k]."""
    gate = block.gate
    with torch.no_grad():
        out = gate(x)
    # transformers 5 routers return a tuple holding the ids (the one integer
    # tensor) with logits and weights; older ones return the logits.
    ints = [t for t in (out if isinstance(out, tuple) else ())
            if torch.is_tensor(t) and not t.is_floating_point()]
    if ints:
        ids = ints[-1]
    else:
        ids = torch.topk(out, block_k(block), dim=-1).indices
    return ids.to(torch.int64)


def block_k(block):
    for attr in ("top_k", "num_experts_per_tok"):
        for owner in (block, getattr(block, "gate", None)):
            if owner is not None and hasattr(owner, attr):
                return int(getattr(owner, attr))
    raise SystemExit("cannot find the block's top-k")


def grouped_rows(x, ids, E):
    """Rows of x sorted by expert (stable), per-expert offsets (int32 ends)."""
    flat = ids.reshape(-1)
    order = torch.argsort(flat, stable=True)
    token = order // ids.shape[1]
    counts = torch.bincount(flat, minlength=E)
    return x[token], counts, torch.cumsum(counts, 0).to(torch.int32)


# The public name where this PyTorch has it, else the private one.
grouped_mm = getattr(F, "grouped_mm", None) or getattr(torch, "_grouped_mm", None)


def grouped_ffn(a, gate_up_t, down_t, offs):
    """SwiGLU FFN of every expert on its rows, as two grouped GEMMs.
    gate_up_t: [E, D, 2F], down_t: [E, F, D] (views of HF's [out, in])."""
    h = grouped_mm(a, gate_up_t, offs=offs)
    f = h.shape[1] // 2
    return grouped_mm(F.silu(h[:, :f]) * h[:, f:], down_t, offs=offs)


def loop_ffn(a, gate_up, down, counts):
    """The same FFN expert by expert in f32: the check of grouped_ffn."""
    out, start = [], 0
    for e, n in enumerate(counts.tolist()):
        rows = a[start:start + n].float()
        h = rows @ gate_up[e].float().t()
        f = h.shape[1] // 2
        out.append((F.silu(h[:, :f]) * h[:, f:]) @ down[e].float().t())
        start += n
    return torch.cat(out)
