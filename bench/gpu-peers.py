#!/usr/bin/env python3
"""The GPU peers of a compiled MoE layer, measured in one run.

For each layer shape (the full expert shapes of Mixtral-8x7B, DeepSeek-V3
and Qwen3-30B-A3B, bf16) and each batch size T, times:

  hf-eager    Hugging Face's own MoE block (transformers), experts run by its
              per-expert loop (experts_implementation "eager");
  hf-grouped  the same block with experts_implementation "grouped_mm", when
              this transformers version has it;
  grouped_mm  the routed experts' FFN alone as two torch._grouped_mm calls on
              rows already grouped by expert (gate and up as one [E, 2F, D]
              product, SwiGLU, down), with the block's own routing;
  dense       the same active FLOPs as two plain cuBLAS GEMMs (torch.mm) on
              T*k rows: the floor a grouped GEMM is held to;
  weight-read the bytes of the experts the batch touches over the copy
              bandwidth measured in this run: the floor at small T.

The ceilings (device-to-device copy bandwidth, an 8192^3 bf16 GEMM) are
measured first. Every grouped_mm result is checked against a per-expert loop
in f32 on the same rows (relative error printed; over 2e-2 is an error), so
that the peers compute the function our layer computes.

  python3 bench/gpu-peers.py                     # on a GPU, the full shapes
  python3 bench/gpu-peers.py --rehearse          # on a CPU: tiny shapes, every step

Prints a Markdown table; --json FILE writes every figure.
"""

import argparse
import json
import math
import platform
import statistics
import sys
import time

import torch

from peers_common import (fill_, grouped_ffn, grouped_mm, grouped_rows,
                          loop_ffn, route)

# name: (D, F, E, k, hf config builder). Full published expert shapes.
LAYERS = {
    "mixtral-8x7b": (4096, 14336, 8, 2),
    "deepseek-v3": (7168, 2048, 256, 8),
    "qwen3-30b-a3b": (2048, 768, 128, 8),
}
ATTENTION = dict(num_hidden_layers=1, num_attention_heads=4,
                 num_key_value_heads=2)
MLA = dict(q_lora_rank=None, kv_lora_rank=8, qk_nope_head_dim=8,
           qk_rope_head_dim=8, v_head_dim=8)


def hf_block(name, D, Fw, E, k, implementation):
    """Hugging Face's MoE block of the family at these widths."""
    import transformers
    if name == "mixtral-8x7b":
        from transformers.models.mixtral.modeling_mixtral import \
            MixtralSparseMoeBlock as Block
        config = transformers.MixtralConfig(
            hidden_size=D, intermediate_size=Fw, num_local_experts=E,
            num_experts_per_tok=k, **ATTENTION)
    elif name == "deepseek-v3":
        from transformers.models.deepseek_v3.modeling_deepseek_v3 import \
            DeepseekV3MoE as Block
        config = transformers.DeepseekV3Config(
            hidden_size=D, intermediate_size=4 * Fw, moe_intermediate_size=Fw,
            n_routed_experts=E, num_experts_per_tok=k, n_shared_experts=1,
            n_group=8 if E % 8 == 0 else 1, topk_group=4 if E % 8 == 0 else 1,
            norm_topk_prob=True, routed_scaling_factor=2.5, **MLA, **ATTENTION)
    else:
        from transformers.models.qwen3_moe.modeling_qwen3_moe import \
            Qwen3MoeSparseMoeBlock as Block
        config = transformers.Qwen3MoeConfig(
            hidden_size=D, intermediate_size=3 * Fw, moe_intermediate_size=Fw,
            num_experts=E, num_experts_per_tok=k, norm_topk_prob=True,
            **ATTENTION)
    config._experts_implementation = implementation
    return Block(config)


class Timer:
    """Median time of a callable: CUDA events on a GPU, the host clock on a
    CPU; warm-up first, then at least `reps` runs and `budget` seconds."""

    def __init__(self, device, reps, budget):
        self.device, self.reps, self.budget = device, reps, budget

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def __call__(self, fn, warmup=2):
        for _ in range(warmup):
            fn()
        self.sync()
        times = []
        start = time.perf_counter()
        while len(times) < self.reps or (
                time.perf_counter() - start < self.budget and len(times) < 200):
            if self.device.type == "cuda":
                a = torch.cuda.Event(enable_timing=True)
                b = torch.cuda.Event(enable_timing=True)
                a.record()
                fn()
                b.record()
                b.synchronize()
                times.append(a.elapsed_time(b) / 1e3)
            else:
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            if time.perf_counter() - start > 4 * self.budget:
                break
        return statistics.median(times)


def copy_bandwidth(device, timer, nbytes):
    """Bytes read plus bytes written per second by a large copy."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=device).uniform_()
    dst = torch.empty_like(src)
    seconds = timer(lambda: dst.copy_(src))
    del src, dst
    return 2 * nbytes / seconds


def gemm_rate(device, timer, n):
    gen = torch.Generator(device=device).manual_seed(1)
    a = torch.randn(n, n, generator=gen, device=device).to(torch.bfloat16)
    b = torch.randn(n, n, generator=gen, device=device).to(torch.bfloat16)
    seconds = timer(lambda: torch.mm(a, b))
    return 2 * n ** 3 / seconds


def measure_layer(name, shape, tokens, device, timer, bandwidth, gen, log):
    D, Fw, E, k = shape
    rows = []
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):
            block = hf_block(name, D, Fw, E, k, "eager").eval()
    finally:
        torch.set_default_dtype(torch.float32)
    fill_(block, gen)
    gate_up = block.experts.gate_up_proj        # [E, 2F, D]
    down = block.experts.down_proj              # [E, D, F]
    gate_up_t, down_t = gate_up.transpose(1, 2), down.transpose(1, 2)
    expert_bytes = 3 * D * Fw * gate_up.element_size()
    has_grouped = grouped_mm is not None
    for T in tokens:
        x = torch.randn(1, T, D, generator=gen, device=device,
                        dtype=torch.float32).to(torch.bfloat16)
        flat = x.reshape(T, D)
        with torch.no_grad():
            ids = route(block, flat)
            touched = int(torch.unique(ids).numel())
            a, counts, offs = grouped_rows(flat, ids, E)
            R = T * k
            flops = 6.0 * R * D * Fw
            entry = dict(layer=name, T=T, D=D, F=Fw, E=E, k=k, flops=flops,
                         touched_experts=touched,
                         weight_read_s=touched * expert_bytes / bandwidth)

            entry["hf_eager_s"] = timer(lambda: block(x))
            try:
                block.config._experts_implementation = "grouped_mm"
                block.experts.config._experts_implementation = "grouped_mm"
            except AttributeError:
                pass
            try:
                entry["hf_grouped_s"] = timer(lambda: block(x))
            except Exception as err:  # an older transformers, or no kernel
                log("hf-grouped unavailable for %s T=%d: %s" % (name, T, err))
            finally:
                try:
                    block.config._experts_implementation = "eager"
                    block.experts.config._experts_implementation = "eager"
                except AttributeError:
                    pass

            if has_grouped:
                try:
                    got = grouped_ffn(a, gate_up_t, down_t, offs)
                    want = loop_ffn(a, gate_up, down, counts)
                    err = float((got.float() - want).norm() /
                                want.norm().clamp_min(1e-30))
                    entry["grouped_mm_rel_err"] = err
                    if not math.isfinite(err) or err > 2e-2:
                        raise RuntimeError("grouped_mm differs from the "
                                           "per-expert loop: rel err %g" % err)
                    entry["grouped_mm_s"] = timer(
                        lambda: grouped_ffn(a, gate_up_t, down_t, offs))
                except Exception as err:
                    log("grouped_mm failed for %s T=%d: %s" % (name, T, err))
                    entry["grouped_mm_error"] = str(err)

            w1, w2 = gate_up[0].t(), down[0].t()   # one expert's [D, 2F], [F, D]
            arows = torch.randn(R, D, generator=gen, device=device,
                                dtype=torch.float32).to(torch.bfloat16)
            hrows = torch.randn(R, Fw, generator=gen, device=device,
                                dtype=torch.float32).to(torch.bfloat16)
            entry["dense_s"] = timer(lambda: (torch.mm(arows, w1),
                                              torch.mm(hrows, w2)))
        rows.append(entry)
        log("%s T=%d: %s" % (name, T, json.dumps(
            {key: (round(v, 9) if isinstance(v, float) else v)
             for key, v in entry.items()})))
    del block
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return rows


def gemm_cases(path, scale):
    """The grouped GEMM cases of bench/gpu-gemm-prepare.sh (KIT/gemm/cases):
    name, n, k, experts and per-expert row counts; with scale > 1, n and k
    divided by it (multiples of 16) and the counts too."""
    cases, seen = [], set()
    for line in open(path):
        name, *args = line.split()
        # One line a kernel variant (NAME@VARIANT): torch once a case.
        name = name.split("@")[0]
        if name in seen:
            continue
        seen.add(name)
        opts = dict(a[2:].split("=", 1) for a in args if a.startswith("--"))
        n, k, E = int(opts["n"]), int(opts["k"]), int(opts["experts"])
        counts = [int(c) for c in opts["counts"].split(",")]
        if scale > 1:
            n = max(16, n // scale // 16 * 16)
            k = max(16, k // scale // 16 * 16)
            counts = [c // scale for c in counts]
        cases.append((name, n, k, E, counts))
    return cases


def measure_gemm(case, device, timer, gen, log):
    """torch._grouped_mm on exactly a case's shape and row counts: A [R, k],
    B [E, n, k] ([out, in], as the kernel takes it), C = A B[e]^T per
    expert's rows; checked against a per-expert loop on the first and last
    non-empty experts."""
    name, n, k, E, counts = case
    R = sum(counts)
    entry = dict(case=name, R=R, N=n, K=k, E=E)
    a = torch.randn(R, k, generator=gen, device=device).to(torch.bfloat16)
    b = torch.randn(E, n, k, generator=gen, device=device).to(torch.bfloat16)
    offs = torch.cumsum(torch.tensor(counts, device=device), 0).to(torch.int32)
    bt = b.transpose(1, 2)
    try:
        out = grouped_mm(a, bt, offs=offs)
        start = [0] + offs.tolist()[:-1]
        nonempty = [e for e in range(E) if counts[e]]
        num = den = 0.0
        for e in {nonempty[0], nonempty[-1]} if nonempty else ():
            rows = slice(start[e], start[e] + counts[e])
            ref = a[rows].double() @ b[e].double().T
            num += (out[rows].double() - ref).norm().item() ** 2
            den += ref.norm().item() ** 2
        entry["rel_err"] = (num / den) ** 0.5 if den else 0.0
        entry["grouped_mm_s"] = timer(lambda: grouped_mm(a, bt, offs=offs))
        entry["TFLOPs"] = 2.0 * R * n * k / entry["grouped_mm_s"] / 1e12
        log("gemm %s: R=%d N=%d K=%d E=%d %.4f ms %.1f TFLOP/s (rel err %.1e)"
            % (name, R, n, k, E, entry["grouped_mm_s"] * 1e3,
               entry["TFLOPs"], entry["rel_err"]))
    except Exception as err:  # an unsupported case is a result, not a crash
        log("gemm %s: torch._grouped_mm failed: %s" % (name, err))
        entry["grouped_mm_error"] = str(err)
    return entry


def gemm_table(entries):
    rows = ["| gemm case | R | N | K | E | torch._grouped_mm (ms) | TFLOP/s |",
            "|---|---|---|---|---|---|---|"]
    for r in entries:
        t = r.get("grouped_mm_s")
        rows.append("| %s | %d | %d | %d | %d | %s | %s |" % (
            r["case"], r["R"], r["N"], r["K"], r["E"],
            "%.4f" % (t * 1e3) if t else r.get("grouped_mm_error", "-")[:40],
            "%.1f" % r["TFLOPs"] if t else "-"))
    return "\n".join(rows)


def table(results, env):
    ms = lambda s: "%.3f" % (s * 1e3) if s is not None else "—"
    tf = lambda flops, s: "%.1f" % (flops / s / 1e12) if s else "—"
    ratio = lambda a, b: "%.2f" % (a / b) if a and b else "—"
    lines = [
        "| layer | T | HF eager (ms) | HF grouped_mm (ms) | torch._grouped_mm (ms) "
        "| TFLOP/s | dense torch.mm (ms) | TFLOP/s | weight-read floor (ms) "
        "| grouped_mm / dense | grouped_mm / weight-read |",
        "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        g, d = r.get("grouped_mm_s"), r.get("dense_s")
        lines.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["layer"], r["T"], ms(r.get("hf_eager_s")), ms(r.get("hf_grouped_s")),
            ms(g), tf(r["flops"], g), ms(d), tf(r["flops"], d),
            ms(r["weight_read_s"]), ratio(g, d), ratio(g, r["weight_read_s"])))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rehearse", action="store_true",
                        help="CPU, shapes divided by 32, T in {1, 16}: runs "
                             "every step where there is no GPU")
    parser.add_argument("--tokens", default="1,64,512,4096")
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--budget", type=float, default=0.3,
                        help="seconds of timed runs per measurement")
    parser.add_argument("--json", help="write every figure to this file")
    parser.add_argument("--gemm-cases",
                        help="also time torch._grouped_mm on the grouped "
                             "GEMM cases of this file (KIT/gemm/cases)")
    args = parser.parse_args()

    scale, tokens = 1, [int(t) for t in args.tokens.split(",")]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if args.rehearse:
        device, scale, tokens = torch.device("cpu"), 32, [1, 16]
        args.reps, args.budget = 2, 0.0
    elif device.type != "cuda":
        sys.exit("gpu-peers: no GPU (torch.cuda.is_available() is false); "
                 "--rehearse runs the steps on the CPU")
    log = lambda line: print("gpu-peers: " + line, flush=True)
    timer = Timer(device, args.reps, args.budget)
    gen = torch.Generator(device=device).manual_seed(2026)

    import transformers
    env = dict(torch=torch.__version__, transformers=transformers.__version__,
               python=platform.python_version(), device=str(device),
               date=time.strftime("%Y-%m-%d"))
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env.update(gpu=props.name, sms=props.multi_processor_count,
                   memory_gib=round(props.total_memory / 2 ** 30, 1),
                   cuda=torch.version.cuda,
                   capability="%d.%d" % (props.major, props.minor))
    log("environment: " + json.dumps(env))

    copy_bytes = (2 << 30) if device.type == "cuda" else (64 << 20)
    bandwidth = copy_bandwidth(device, timer, copy_bytes)
    n = 8192 if device.type == "cuda" else 512
    rate = gemm_rate(device, timer, n)
    env.update(copy_bandwidth_GBps=round(bandwidth / 1e9, 1),
               bf16_gemm_TFLOPs=round(rate / 1e12, 1), gemm_n=n)
    log("ceilings: copy %.1f GB/s (read + write), bf16 %d^3 GEMM %.1f TFLOP/s"
        % (bandwidth / 1e9, n, rate / 1e12))

    results = []
    for name in args.layers.split(","):
        D, Fw, E, k = LAYERS[name]
        shape = (D // scale, Fw // scale, E, k)
        results += measure_layer(name, shape, tokens, device, timer,
                                 bandwidth, gen, log)
    gemms = []
    if args.gemm_cases and grouped_mm is not None:
        for case in gemm_cases(args.gemm_cases, scale):
            gemms.append(measure_gemm(case, device, timer, gen, log))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(environment=env, results=results, gemms=gemms), f,
                      indent=1)
    print()
    print(table(results, env))
    if gemms:
        print()
        print(gemm_table(gemms))
    failed = [r for r in results + gemms if "grouped_mm_error" in r]
    if failed:
        sys.exit("gpu-peers: grouped_mm failed for %d cases" % len(failed))


if __name__ == "__main__":
    main()
