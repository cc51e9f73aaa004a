#!/usr/bin/env python3
"""The CPU peers of a compiled MoE layer: the Python part of bench/cpu-peers.sh.

One `measure` process per (layer, dtype) builds Hugging Face's MoE block of
the layer's family at the layer's widths (random N(0, 0.02^2) weights) and,
for each batch size T, times with the same thread count:

  hf-eager       the block in PyTorch eager, experts_implementation "eager"
                 (transformers' per-expert loop);
  hf-grouped     the same block with experts_implementation "grouped_mm";
  compile-eager  torch.compile (inductor, CPU) of the "eager" block;
  compile-grouped  torch.compile of the "grouped_mm" block (compile time is
                 the first call at each T, reported apart; only later calls
                 are timed);
  iree           moe-mlir's portable linalg output of the layer (moe-opt
                 --moe-expand-layer --convert-moe-to-linalg, dynamic T),
                 compiled once by iree.compiler for llvm-cpu and run by
                 iree.runtime's local-task driver with N workers, fed the
                 block's weights in the layer's layout; its output is checked
                 against the HF eager block's on the same tokens;
  floor-torch    the same active FLOPs as plain GEMMs on rows already grouped
                 by expert (the block's own routing): per expert, rows x
                 (D -> 2F), SwiGLU, (F -> D), with torch.mm expert by expert
                 and with torch._grouped_mm, both checked against an f32 loop;
  weight-read    at small T, the bytes of the experts the batch touches (and
                 the router) over the copy bandwidth measured in this run.

  cpu-peers.py header  --threads N --runs R --command CMD --env-out ENV.json
  cpu-peers.py bandwidth --threads N --reps R [--bytes B]
  cpu-peers.py measure LAYER.mlir LINALG.mlir --layer NAME --dtype f32|bf16
               --tokens 1,16 --threads N --reps R --budget S
               --bandwidth BYTES_PER_S --out PART.json
  cpu-peers.py report --env ENV.json --native NATIVE.tsv PART.json...
               [--json FILE]

bench/cpu-peers.sh runs them in order; moe-run (ours) and blas-moe-baseline
(OpenBLAS) are run by the shell script and reach `report` through
NATIVE.tsv. Progress goes to stderr, the header and the tables to stdout.
"""

import argparse
import json
import math
import os
import platform
import re
import statistics
import sys
import tempfile
import time

# Rel error (Frobenius, against the HF eager block) above which a peer does
# not compute the layer's function.
TOLERANCE = {"f32": 1e-4, "bf16": 3e-2}
# Calls slower than LONG_CALL_S are timed LONG_REPS times (after the
# warm-up), calls slower than VERY_LONG_CALL_S once.
LONG_CALL_S = 2.0
LONG_REPS = 3
VERY_LONG_CALL_S = 10.0
# IREE is not run at a T where its call would take over this many seconds,
# predicted by the line through its times at the last two T.
IREE_MAX_CALL_S = 45.0
# Batch sizes up to this one get a weight-read floor.
WEIGHT_READ_MAX_T = 16
# A measurement during which other processes kept more cores than this busy
# is marked in the tables: on a shared machine, its time is not this one's.
CONTENDED = 0.25


def log(line):
    print("cpu-peers: " + line, file=sys.stderr, flush=True)


# ----------------------------------------------------------------- timing


def busy_cpu_s():
    """CPU seconds the whole machine has spent busy (/proc/stat)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = v
    return (user + nice + system + irq + softirq + steal) / os.sysconf(
        "SC_CLK_TCK")


class Timer:
    """Median wall time of a callable, with the min, the number of runs, the
    process CPU time over wall time of the timed runs (how many cores it
    kept busy) and the other processes' (how many cores they took). `warmups` warm-up calls (one more when the last is fast),
    then at least `reps` runs and `budget` seconds; LONG_REPS runs when a
    call takes over LONG_CALL_S, one when it takes over VERY_LONG_CALL_S."""

    def __init__(self, reps, budget):
        self.reps, self.budget = reps, budget

    def __call__(self, fn, warmups=1):
        for _ in range(warmups):
            start = time.perf_counter()
            fn()
            first = time.perf_counter() - start
        if first < 0.5:
            fn()
        reps = (self.reps if first < LONG_CALL_S else
                min(self.reps, LONG_REPS) if first < VERY_LONG_CALL_S else 1)
        times = []
        wall0, cpu0, busy0 = (time.perf_counter(), time.process_time(),
                              busy_cpu_s())
        while len(times) < reps or (
                time.perf_counter() - wall0 < self.budget and len(times) < 200):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        busy1 = busy_cpu_s()
        # Clock-tick counts: meaningless over a few ticks.
        known = wall >= 0.25
        others = (max(0.0, busy1 - busy0 - cpu) / wall
                  if known and busy0 is not None and busy1 is not None
                  else None)
        return dict(s=statistics.median(times), min_s=min(times),
                    runs=len(times),
                    cpu_per_wall=round(cpu / wall, 2) if known else None,
                    others_per_wall=None if others is None else round(others, 2))


def set_threads(n):
    import torch
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set by an earlier parallel region
        pass


# --------------------------------------------------------- header, bandwidth


def cmd_header(args):
    import torch
    import transformers
    env = dict(
        cpu=cpu_model(), cores=os.cpu_count(), threads=args.threads,
        runs=args.runs, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        command=args.command, python=platform.python_version(),
        torch=torch.__version__, transformers=transformers.__version__,
        iree=package_version("iree-base-compiler"),
        iree_runtime=package_version("iree-base-runtime"),
        numpy=package_version("numpy"),
        openblas_coretype=os.environ.get("OPENBLAS_CORETYPE", "auto"),
        load_average=os.getloadavg(), others_before=others_now())
    try:
        import importlib.util
        found = importlib.util.find_spec("iree.turbine") is not None
    except ImportError:
        found = False
    env["iree_turbine"] = (package_version("iree-turbine") or "?") if found else None
    with open(args.env_out, "w") as f:
        json.dump(env, f, indent=1)
    print("# CPU peers of moe-mlir's compiled MoE layer")
    print()
    print("- CPU: %s, %d cores (threads used by every implementation: %d)"
          % (env["cpu"], env["cores"], args.threads))
    others = env["others_before"]
    print("- date: %s; cores other processes kept busy just before the run: "
          "%s%s" % (env["date"], "%.2f" % others if others is not None else "?",
                    " (the machine is shared: look for the tables' marks)"
                    if others is not None and others > CONTENDED else ""))
    print("- command: `%s`" % args.command)
    print("- torch %s, transformers %s, IREE %s (compiler) / %s (runtime), "
          "Python %s, OpenBLAS core type %s" % (
              env["torch"], env["transformers"], env["iree"],
              env["iree_runtime"], env["python"], env["openblas_coretype"]))
    if env["iree_turbine"] is None:
        print("- iree-turbine: not installed (no HF block through IREE)")
    print()
    sys.stdout.flush()


def others_now(seconds=1.0):
    """Cores other processes keep busy, sampled over `seconds`."""
    busy0, cpu0 = busy_cpu_s(), time.process_time()
    time.sleep(seconds)
    busy1, cpu1 = busy_cpu_s(), time.process_time()
    if busy0 is None or busy1 is None:
        return None
    return round(max(0.0, busy1 - busy0 - (cpu1 - cpu0)) / seconds, 2)


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


def cmd_bandwidth(args):
    """Bytes read plus bytes written per second by a torch copy of a buffer
    of args.bytes bytes (median)."""
    import torch
    set_threads(args.threads)
    src = torch.empty(args.bytes // 4, dtype=torch.float32).uniform_()
    dst = torch.empty_like(src)
    t = Timer(args.reps, 0.0)(lambda: dst.copy_(src))
    bandwidth = 2 * args.bytes / t["s"]
    log("copy bandwidth: %.1f GB/s (read + write; %d MiB copied, median of %d)"
        % (bandwidth / 1e9, args.bytes >> 20, t["runs"]))
    print(json.dumps(dict(bandwidth_Bps=bandwidth, copy_bytes=args.bytes,
                          copy_s=t["s"], runs=t["runs"])))


# ------------------------------------------------------------ the layer


def parse_layer(text):
    """The layer's function: name, argument shapes, and which argument is
    the tokens, router, gate, up and down (from the moe.layer operands);
    D, F, E, k."""
    sig = re.search(r"func\.func\s+(?:public\s+)?@([\w$.]+)\((.*?)\)\s*->",
                    text, re.S)
    if not sig:
        raise SystemExit("cpu-peers: no func.func in the layer")
    name = sig.group(1)
    args = re.findall(r"(%[\w]+)\s*:\s*tensor<([^>]*)>", sig.group(2))
    shapes = {a: [d for d in t.split("x")[:-1]] for a, t in args}
    order = [a for a, _ in args]
    op = re.search(r"moe\.layer\s+(%\w+)\s+router\((%\w+)\)\s+gate\((%\w+)\)"
                   r"\s+up\((%\w+)\)\s+down\((%\w+)\)", text)
    if not op:
        raise SystemExit("cpu-peers: no moe.layer with router, gate, up, down")
    roles = dict(zip(("tokens", "router", "gate", "up", "down"), op.groups()))
    E, D = map(int, shapes[roles["router"]])
    Fw = int(shapes[roles["gate"]][1])
    k = int(re.search(r"#moe\.router<[^>]*\bk\s*=\s*(\d+)", text).group(1))
    want = dict(router=[E, D], gate=[E, Fw, D], up=[E, Fw, D], down=[E, D, Fw])
    for role, shape in want.items():
        if list(map(int, shapes[roles[role]])) != shape:
            raise SystemExit("cpu-peers: %s has shape %s, expected %s"
                             % (role, shapes[roles[role]], shape))
    return dict(function=name, order=[
        next(r for r, a in roles.items() if a == arg) for arg in order],
        D=D, F=Fw, E=E, k=k)


ATTENTION = dict(num_hidden_layers=1, num_attention_heads=4,
                 num_key_value_heads=2)


def hf_block(layer, D, Fw, E, k, implementation):
    """Hugging Face's MoE block of the layer's family at these widths:
    Mixtral (softmax, top-k, renormalised) or OLMoE (softmax, top-k)."""
    import transformers
    if layer.startswith("mixtral"):
        from transformers.models.mixtral.modeling_mixtral import \
            MixtralSparseMoeBlock as Block
        config = transformers.MixtralConfig(
            hidden_size=D, intermediate_size=Fw, num_local_experts=E,
            num_experts_per_tok=k, **ATTENTION)
    elif layer.startswith("olmoe"):
        from transformers.models.olmoe.modeling_olmoe import \
            OlmoeSparseMoeBlock as Block
        config = transformers.OlmoeConfig(
            hidden_size=D, intermediate_size=Fw, num_experts=E,
            num_experts_per_tok=k, norm_topk_prob=False, **ATTENTION)
    else:
        raise SystemExit("cpu-peers: no Hugging Face block for %s" % layer)
    config._experts_implementation = implementation
    return Block(config).eval()


def rel_err(got, want):
    want = want.double()
    return float((got.double() - want).norm() /
                 want.norm().clamp_min(1e-300))


def ambiguous_tokens(flat, router_w, ids, k):
    """Tokens whose routing another exact implementation may choose
    differently: the block's top-k set differs from the top-k of the exact
    (f64) router logits, or the exact k-th and (k+1)-th logits are within
    1e-5 of the row's largest magnitude (a tie at f32 rounding). bf16 blocks
    round the logits to bf16 before the top-k; our layer keeps them f32."""
    import torch
    logits = flat.double() @ router_w.double().t()
    top = torch.topk(logits, min(k + 1, logits.shape[1]), dim=-1)
    exact = top.indices[:, :k].sort(dim=-1).values
    mine = ids.sort(dim=-1).values
    differ = (exact != mine).any(dim=-1)
    if logits.shape[1] > k:
        gap = top.values[:, k - 1] - top.values[:, k]
        scale = logits.abs().amax(dim=-1)
        differ |= gap <= 1e-5 * scale
    return differ


class Iree:
    """The linalg module compiled once by iree.compiler, run by iree.runtime
    with `threads` task workers."""

    def __init__(self, linalg_path, function, threads):
        import iree.compiler as ireec
        import iree.runtime as ireert
        self.rt = ireert
        start = time.perf_counter()
        self.vmfb = ireec.compile_file(linalg_path, extra_args=[
            "--iree-hal-target-device=local",
            "--iree-hal-local-target-device-backends=llvm-cpu",
            "--iree-llvmcpu-target-cpu=host"])
        self.compile_s = time.perf_counter() - start
        # Exactly N workers, unpinned: the task topology's group count. (Its
        # max_group_count caps the count found from the physical cores, which
        # would give fewer than N on a host with SMT.)
        ireert.flags.parse_flags("--task_topology_group_count=%d" % threads)
        self.config = ireert.Config("local-task")
        self.context = ireert.SystemContext(config=self.config)
        self.context.add_vm_module(
            ireert.VmModule.copy_buffer(self.context.instance, self.vmfb))
        self.fn = self.context.modules.module[function]

    def upload(self, tensor):
        import ml_dtypes
        import torch
        t = tensor.detach().contiguous()
        if t.dtype == torch.bfloat16:
            array = t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
        else:
            array = t.numpy()
        return self.rt.asdevicearray(self.config.device, array)

    def __call__(self, *args):
        out = self.fn(*args)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out.to_host()


def cmd_measure(args):
    import numpy as np
    import torch
    import torch.nn.functional as F
    from peers_common import (fill_, grouped_ffn, grouped_mm, grouped_rows,
                              loop_ffn, route)

    set_threads(args.threads)
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    tol = TOLERANCE[args.dtype]
    layer = parse_layer(open(args.mlir).read())
    D, Fw, E, k = layer["D"], layer["F"], layer["E"], layer["k"]
    tokens = [int(t) for t in args.tokens.split(",")]
    timer = Timer(args.reps, args.budget)
    gen = torch.Generator().manual_seed(2026)
    tag = "%s %s" % (args.layer, args.dtype)
    log("%s: D=%d F=%d E=%d k=%d, T in %s, %d threads"
        % (tag, D, Fw, E, k, tokens, args.threads))

    # Two blocks sharing one set of weights: experts "eager" and "grouped_mm".
    block = hf_block(args.layer, D, Fw, E, k, "eager")
    fill_(block, gen)
    block = block.to(dtype)
    grouped_block = hf_block(args.layer, D, Fw, E, k, "grouped_mm").to(dtype)
    grouped_block.load_state_dict(block.state_dict(), assign=True)
    gate_up = block.experts.gate_up_proj.detach()      # [E, 2F, D]
    down = block.experts.down_proj.detach()            # [E, D, F]
    router_w = block.gate.weight.detach()              # [E, D]
    gate_up_t, down_t = gate_up.transpose(1, 2), down.transpose(1, 2)
    elsize = gate_up.element_size()

    part = dict(layer=args.layer, dtype=args.dtype, D=D, F=Fw, E=E, k=k,
                threads=args.threads, tolerance=tol, rows=[])

    # IREE: compiled once; the weights in the layer's layout, uploaded once.
    iree = None
    try:
        iree = Iree(args.linalg, layer["function"], args.threads)
        weights = dict(router=router_w, gate=gate_up[:, :Fw], up=gate_up[:, Fw:],
                       down=down)
        iree_weights = {r: iree.upload(w) for r, w in weights.items()}
        part["iree_compile_s"] = iree.compile_s
        log("%s: IREE compiled %s in %.1f s; %d task workers"
            % (tag, os.path.basename(args.linalg), iree.compile_s, args.threads))
    except Exception as err:
        part["iree_error"] = "%s: %s" % (type(err).__name__, str(err)[:400])
        log("%s: IREE failed: %s" % (tag, part["iree_error"]))

    # torch.compile: inductor with a cache of its own (a cold compile), the
    # caller's TORCHINDUCTOR_CACHE_DIR else a temporary one.
    if not os.environ.get("TORCHINDUCTOR_CACHE_DIR"):
        cache = tempfile.TemporaryDirectory(prefix="cpu-peers-inductor-")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache.name
    compiled = {"compile_eager": torch.compile(block),
                "compile_grouped": torch.compile(grouped_block)}

    iree_times = []   # (T, seconds a call)
    for T in tokens:
        x = torch.randn(1, T, D, generator=gen).to(dtype)
        flat = x.reshape(T, D)
        row = dict(T=T, flops=6.0 * T * k * D * Fw)
        with torch.inference_mode():
            ids = route(block, flat)
            touched = int(torch.unique(ids).numel())
            row["touched_experts"] = touched
            if T <= WEIGHT_READ_MAX_T:
                row["weight_bytes"] = (touched * 3 * D * Fw + E * D) * elsize
                row["weight_read_s"] = row["weight_bytes"] / args.bandwidth
            ref = block(x).reshape(T, D)
            row["hf_eager"] = timer(lambda: block(x))

            out = grouped_block(x).reshape(T, D)
            row["hf_grouped_err"] = rel_err(out, ref)
            row["hf_grouped"] = timer(lambda: grouped_block(x))

            for key, fn in compiled.items():
                try:
                    start = time.perf_counter()
                    out = fn(x).reshape(T, D)
                    row[key + "_first_call_s"] = time.perf_counter() - start
                    row[key + "_err"] = rel_err(out, ref)
                    row[key] = timer(lambda: fn(x), warmups=2)
                except Exception as err:
                    reason = "%s: %s" % (type(err).__name__,
                                         str(err).strip().splitlines()[0][:300]
                                         if str(err).strip() else "")
                    row[key + "_error"] = reason
                    log("%s T=%d: torch.compile (%s) failed: %s"
                        % (tag, T, key, reason))

            predicted = 0.0
            if len(iree_times) >= 2:
                (t1, s1), (t2, s2) = iree_times[-2:]
                predicted = s2 + (s2 - s1) / (t2 - t1) * (T - t2)
            if iree is not None and predicted > IREE_MAX_CALL_S:
                row["iree_error"] = (
                    "not run: %.0f s a call predicted from T=%d (%.1f s) and "
                    "T=%d (%.1f s)" % (predicted, t1, s1, t2, s2))
                log("%s T=%d: IREE %s" % (tag, T, row["iree_error"]))
            elif iree is not None:
                try:
                    xin = iree.upload(flat)
                    args_in = [xin if r == "tokens" else iree_weights[r]
                               for r in layer["order"]]
                    out = torch.from_numpy(
                        np.asarray(iree(*args_in)).astype(np.float32))
                    skip = ambiguous_tokens(flat, router_w, ids, k)
                    keep = ~skip
                    err = rel_err(out[keep], ref[keep]) if keep.any() else 0.0
                    row["iree_err"] = err
                    row["iree_err_all_tokens"] = rel_err(out, ref)
                    row["iree_tokens_excluded"] = int(skip.sum())
                    ok = math.isfinite(err) and err <= tol
                    row["iree_check"] = "PASS" if ok else "FAIL"
                    log("%s T=%d: IREE vs HF eager: rel err %.2e over %d tokens "
                        "(%d with a routing tie excluded; all tokens %.2e), "
                        "tolerance %.0e: %s" % (
                            tag, T, err, T - row["iree_tokens_excluded"],
                            row["iree_tokens_excluded"],
                            row["iree_err_all_tokens"], tol, row["iree_check"]))
                    if not ok:
                        log("!!! %s T=%d: IREE's output is not the HF block's: "
                            "rel err %.3e > %.0e" % (tag, T, err, tol))
                    row["iree"] = timer(lambda: iree(*args_in))
                    iree_times.append((T, row["iree"]["s"]))
                except Exception as err:
                    row["iree_error"] = "%s: %s" % (type(err).__name__,
                                                    str(err)[:300])
                    log("%s T=%d: IREE failed: %s" % (tag, T, row["iree_error"]))

            # The dense-equivalent floor on rows grouped by the block's routing.
            a, counts, offs = grouped_rows(flat, ids, E)
            spans, start = [], 0
            for e, n in enumerate(counts.tolist()):
                if n:
                    spans.append((e, start, start + n))
                start += n

            def mm_ffn():
                outs = []
                for e, lo, hi in spans:
                    h = torch.mm(a[lo:hi], gate_up_t[e])
                    outs.append(torch.mm(F.silu(h[:, :Fw]) * h[:, Fw:],
                                         down_t[e]))
                return torch.cat(outs)

            want = loop_ffn(a, gate_up, down, counts)
            floor_tol = max(tol, 1e-4 if args.dtype == "f32" else 2e-2)
            candidates = [("torch.mm", mm_ffn)]
            if grouped_mm is not None:
                candidates.append(("torch._grouped_mm", lambda: grouped_ffn(
                    a, gate_up_t, down_t, offs)))
            for label, fn in candidates:
                key = "floor_mm" if label == "torch.mm" else "floor_grouped_mm"
                try:
                    err = rel_err(fn(), want)
                    row[key + "_err"] = err
                    if not math.isfinite(err) or err > floor_tol:
                        raise RuntimeError("differs from the f32 per-expert "
                                           "loop: rel err %.3e" % err)
                    row[key] = timer(fn)
                except Exception as err:
                    row[key + "_error"] = "%s: %s" % (type(err).__name__,
                                                      str(err)[:300])
                    log("%s T=%d: %s floor failed: %s"
                        % (tag, T, label, row[key + "_error"]))
        part["rows"].append(row)
        log("%s T=%d: %s" % (tag, T, summary(row)))
        if args.out:   # after every T: a crash later keeps what was measured
            with open(args.out, "w") as f:
                json.dump(part, f, indent=1)
    failed = [r["T"] for r in part["rows"] if r.get("iree_check") == "FAIL"]
    if failed:
        log("!!! %s: IREE's output differs from the HF block's at T=%s"
            % (tag, failed))


def summary(row):
    parts = []
    for key in ("hf_eager", "hf_grouped", "compile_eager", "compile_grouped",
                "iree", "floor_mm", "floor_grouped_mm"):
        if isinstance(row.get(key), dict):
            o, c = row[key].get("others_per_wall"), row[key]["cpu_per_wall"]
            parts.append("%s %.3f ms%s%s" % (
                key, row[key]["s"] * 1e3,
                " (cpu/wall %.2f)" % c if c is not None else "",
                " (others busy: %.2f cores)" % o
                if o is not None and o > CONTENDED else ""))
        elif key + "_error" in row:
            parts.append("%s failed" % key)
    return ", ".join(parts)


# ----------------------------------------------------------------- report

PEERS = [  # key, column title
    ("hf_eager", "HF eager"),
    ("hf_grouped", "HF grouped_mm"),
    ("compile_eager", "compile (eager)"),
    ("compile_grouped", "compile (grouped_mm)"),
    ("iree", "IREE"),
    ("floor", "dense floor"),
    ("weight_read", "weight-read floor"),
]


def read_native(path):
    """moe-run and blas-moe-baseline results the shell wrote: lines
    `ours LAYER DTYPE T MS MIN_MS RELERR OTHERS SEED CHECK PACK_MS` and
    `openblas LAYER T MS OTHERS` (OTHERS: cores other processes kept busy
    meanwhile; CHECK: PASS or FAIL; PACK_MS: the packing of the weights,
    once before the calls; - where moe-run printed nothing)."""
    ours, blas = {}, {}
    for line in open(path):
        f = line.split()
        if not f:
            continue
        if f[0] == "ours":
            ms, min_ms = number(f[4:]), number(f[5:])
            ours[(f[1], f[2], int(f[3]))] = dict(
                s=ms / 1e3 if ms else None,
                min_s=min_ms / 1e3 if min_ms else None,
                rel_err=number(f[6:]), others=number(f[7:]),
                seed=int(number(f[8:]) or 1),
                check=f[9] if len(f) > 9 else "PASS",
                pack_ms=number(f[10:]))
        elif f[0] == "openblas":
            blas[(f[1], int(f[2]))] = dict(s=float(f[3]) / 1e3,
                                           others=number(f[4:]))
    return ours, blas


def number(fields):
    try:
        return float(fields[0])
    except (IndexError, ValueError):
        return None


def merge(parts, ours, blas):
    """One entry per (layer, dtype, T): every time in seconds, the floor
    chosen."""
    results = []
    for part in parts:
        for row in part["rows"]:
            T = row["T"]
            r = dict(layer=part["layer"], dtype=part["dtype"], T=T,
                     D=part["D"], F=part["F"], E=part["E"], k=part["k"],
                     flops=row["flops"], touched_experts=row["touched_experts"])
            o = ours.get((part["layer"], part["dtype"], T))
            if o:
                r["ours_min_s"] = o["min_s"]
                r["ours_rel_err"] = o["rel_err"]
                r["ours_others_per_wall"] = o["others"]
                r["ours_seed"], r["ours_check"] = o["seed"], o["check"]
                r["ours_pack_ms"] = o["pack_ms"]
                # A time whose check failed is not one of this layer.
                if o["check"] == "PASS":
                    r["ours_s"] = o["s"]
                else:
                    r["ours_failed_s"] = o["s"]
            for key in ("hf_eager", "hf_grouped", "compile_eager",
                        "compile_grouped", "iree", "floor_mm",
                        "floor_grouped_mm"):
                if isinstance(row.get(key), dict):
                    r[key + "_s"] = row[key]["s"]
                    r[key + "_min_s"] = row[key]["min_s"]
                    r[key + "_runs"] = row[key]["runs"]
                    r[key + "_cpu_per_wall"] = row[key]["cpu_per_wall"]
                    r[key + "_others_per_wall"] = row[key].get(
                        "others_per_wall")
                for extra in ("_err", "_error", "_first_call_s"):
                    if key + extra in row:
                        r[key + extra] = row[key + extra]
            for extra in ("iree_err_all_tokens", "iree_tokens_excluded",
                          "iree_check", "weight_bytes", "weight_read_s"):
                if extra in row:
                    r[extra] = row[extra]
            # OpenBLAS (f32 sgemm) is a floor of the f32 rows only.
            if part["dtype"] == "f32" and (part["layer"], T) in blas:
                r["floor_openblas_s"] = blas[(part["layer"], T)]["s"]
                r["floor_openblas_others_per_wall"] = blas[
                    (part["layer"], T)]["others"]
            floors = [(r[k + "_s"], name) for k, name in (
                ("floor_mm", "torch.mm"),
                ("floor_grouped_mm", "torch._grouped_mm"),
                ("floor_openblas", "OpenBLAS")) if k + "_s" in r]
            if floors:
                r["floor_s"], r["floor_by"] = min(floors)
                key = {"torch.mm": "floor_mm", "OpenBLAS": "floor_openblas",
                       "torch._grouped_mm": "floor_grouped_mm"}[r["floor_by"]]
                r["floor_others_per_wall"] = r.get(key + "_others_per_wall")
            results.append(r)
    return results


def cmd_report(args):
    env = json.load(open(args.env))
    ours, blas = read_native(args.native)
    parts = [json.load(open(p)) for p in args.parts]
    results = merge(parts, ours, blas)
    extras = [dict(layer=p["layer"], dtype=p["dtype"],
                   iree_compile_s=p.get("iree_compile_s"),
                   iree_error=p.get("iree_error")) for p in parts]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(environment=env, results=results, layers=extras),
                      f, indent=1)

    ms = lambda s: "%.3f" % (s * 1e3) if s else "—"
    gf = lambda flops, s: "%.1f" % (flops / s / 1e9) if s else "—"
    ratio = lambda a, b: "%.2f" % (a / b) if a and b else "—"
    label = lambda r: "%s | %s | %d" % (r["layer"], r["dtype"], r["T"])
    peer_s = lambda r, key: r.get(key + "_s")

    print("## Times (ms, median)")
    print()
    print("| layer | dtype | T | moe-mlir | " +
          " | ".join(title for _, title in PEERS) + " | floor by |")
    print("|---|---|---|---|" + "---|" * len(PEERS) + "---|")
    busy = lambda r, key: (r.get(key + "_others_per_wall") or 0) > CONTENDED
    contended = 0
    for r in results:
        cells = [ms(r.get("ours_s")) + ("*" if busy(r, "ours") else "")
                 + ("" if r.get("ours_check", "PASS") == "PASS" else
                    " (check FAIL)")
                 + ("" if r.get("ours_seed", 1) == 1
                    or r.get("ours_check") != "PASS" else
                    " (seed %d)" % r["ours_seed"])]
        for key, _ in PEERS:
            s = peer_s(r, key)
            if s is None and key + "_error" in r:
                cells.append("— (not run)" if r[key + "_error"].startswith(
                    "not run") else "— (failed)")
            else:
                cells.append(ms(s) + ("*" if s and busy(r, key) else ""))
        contended += sum(c.endswith("*") for c in cells)
        if r.get("iree_check") == "FAIL":
            cells[1 + [k for k, _ in PEERS].index("iree")] += " (CHECK FAIL)"
        cells.append(r.get("floor_by", "—"))
        print("| %s | %s |" % (label(r), " | ".join(cells)))
    print()
    reseeded = [r for r in results if r.get("ours_seed", 1) != 1
                 and r.get("ours_check") == "PASS"]
    ours_failed = [r for r in results if r.get("ours_check", "PASS") != "PASS"]
    if ours_failed:
        print("(check FAIL): moe-run's check failed with seeds 1, 2 and 3 "
              "(the log has its output): no time.")
        print()
    if reseeded:
        print("(seed N): moe-run's check failed with the lower seeds (its "
              "output is in the log; a token whose k-th and (k+1)-th router "
              "logits tie at f32 rounding can be routed differently by the "
              "compiled layer and by the reference), so this time is of seed "
              "N's random inputs.")
        print()
    if contended:
        print("\\* %d measurements: other processes kept more than %.2f cores "
              "busy meanwhile (their mean is in the JSON: *_others_per_wall); "
              "those times are not this machine's alone." % (contended,
                                                             CONTENDED))
        print()
    print("## GFLOP/s (active FLOPs: 2·T·k·3·D·F; router and SwiGLU not "
          "counted)")
    print()
    shown = [p for p in PEERS if p[0] != "weight_read"]
    print("| layer | dtype | T | moe-mlir | " +
          " | ".join(title for _, title in shown) + " |")
    print("|---|---|---|---|" + "---|" * len(shown))
    for r in results:
        cells = [gf(r["flops"], r.get("ours_s"))] + [
            gf(r["flops"], peer_s(r, key)) for key, _ in shown]
        print("| %s | %s |" % (label(r), " | ".join(cells)))
    print()
    print("## moe-mlir time / peer time (< 1: moe-mlir is faster)")
    print()
    print("| layer | dtype | T | " +
          " | ".join(title for _, title in PEERS) + " |")
    print("|---|---|---|" + "---|" * len(PEERS))
    for r in results:
        cells = [ratio(r.get("ours_s"), peer_s(r, key)) for key, _ in PEERS]
        print("| %s | %s |" % (label(r), " | ".join(cells)))
    print()
    print("## Checks and compile times")
    print()
    print("Relative errors (Frobenius) against the HF eager block on the same "
          "tokens, except moe-mlir's (moe-run's check against its reference, "
          "max abs err over max |ref|). IREE: tokens whose top-k is a tie of "
          "router logits (the HF block's choice differs from the exact "
          "logits' top-k, or the k-th and (k+1)-th exact logits are within "
          "1e-5 of each other relative to the largest) are left out of its "
          "error, and counted. torch.compile: the first call at each T, "
          "compile included (cold inductor cache). moe-mlir packing: its "
          "weights packed into the kernels' panels, once before the calls "
          "(not in its times).")
    print()
    print("| layer | dtype | T | moe-mlir | HF grouped_mm | compile (eager) "
          "| compile (grouped_mm) | IREE | IREE ties left out | "
          "first call compile (eager) s | first call compile (grouped_mm) s "
          "| moe-mlir packing ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    e = lambda v: "%.1e" % v if isinstance(v, float) else "—"
    sec = lambda v: "%.1f" % v if isinstance(v, float) else "—"
    for r in results:
        iree = e(r.get("iree_err"))
        if r.get("iree_check"):
            iree += " " + r["iree_check"]
        pack = r.get("ours_pack_ms")
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label(r), e(r.get("ours_rel_err")), e(r.get("hf_grouped_err")),
            e(r.get("compile_eager_err")), e(r.get("compile_grouped_err")),
            iree, r.get("iree_tokens_excluded", "—"),
            sec(r.get("compile_eager_first_call_s")),
            sec(r.get("compile_grouped_first_call_s")),
            "%.0f" % pack if isinstance(pack, float) else "—"))
    print()
    for x in extras:
        if x["iree_compile_s"] is not None:
            print("- IREE compile of %s %s (once, dynamic T): %.1f s"
                  % (x["layer"], x["dtype"], x["iree_compile_s"]))
        if x["iree_error"]:
            print("- IREE failed for %s %s: %s"
                  % (x["layer"], x["dtype"], x["iree_error"]))
    errors = sorted({(r["layer"], r["dtype"], key, r[key + "_error"])
                     for r in results for key in (
                         "compile_eager", "compile_grouped", "iree",
                         "floor_mm", "floor_grouped_mm")
                     if key + "_error" in r})
    for layer, dtype, key, why in errors:
        print("- %s %s, %s: %s" % (layer, dtype, key, why))
    if ours_failed:
        print()
        print("**moe-run's check failed** at: " + ", ".join(
            "%s %s T=%d" % (r["layer"], r["dtype"], r["T"])
            for r in ours_failed))
    failed = [r for r in results if r.get("iree_check") == "FAIL"]
    if ours_failed and not failed:
        sys.exit(1)
    if failed:
        print()
        print("**IREE's output differs from the HF block's** at: " + ", ".join(
            "%s %s T=%d (rel err %.2e)" % (r["layer"], r["dtype"], r["T"],
                                          r["iree_err"]) for r in failed))
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("header")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--env-out", required=True)
    p = sub.add_parser("bandwidth")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--bytes", type=int, default=1 << 30)
    p = sub.add_parser("measure")
    p.add_argument("mlir")
    p.add_argument("linalg")
    p.add_argument("--layer", required=True)
    p.add_argument("--dtype", choices=sorted(TOLERANCE), required=True)
    p.add_argument("--tokens", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--budget", type=float, default=1.0,
                   help="seconds of timed runs per measurement, at least")
    p.add_argument("--bandwidth", type=float, required=True,
                   help="copy bandwidth, bytes per second (read + write)")
    p.add_argument("--out")
    p = sub.add_parser("report")
    p.add_argument("parts", nargs="+")
    p.add_argument("--env", required=True)
    p.add_argument("--native", required=True)
    p.add_argument("--json")
    args = parser.parse_args()
    {"header": cmd_header, "bandwidth": cmd_bandwidth,
     "measure": cmd_measure, "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
