#!/usr/bin/env python3
"""Draws the figures of docs/ (PNG), from our own tools' output:

  flops  docs/figures/flops-vs-params.png: FLOPs per token against total
         parameters for the MoE layer of every preset (moe-preset at full
         size, bf16, reported by moe-cost) and for a dense FFN with the same
         parameters (2 FLOPs per parameter): the decoupling of compute from
         model size that MoE buys.
  speed  docs/figures/throughput-vs-tokens.png: tokens per second against
         the token count for the Mixtral-style example layer, compiled by
         moe-run, and the same layer on OpenBLAS (bench/blas-moe-baseline),
         one thread each, medians of RUNS runs, measured when the script
         runs (a timing figure: run it on a quiet machine).

  peers  docs/figures/cpu-peers.png: tokens per second against the token
         count for each layer and dtype of a bench/cpu-peers.sh run, ours
         and every peer, from the JSON it writes (--json FILE): a drawing of
         measured figures, not a new measurement.

Usage: scripts/plot-figures.sh [flops|speed|all] [RUNS]
       scripts/plot-figures.sh peers CPU-PEERS.json
(the wrapper installs matplotlib into the venv if it is missing).
"""

import json
import os
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("MOE_BUILD_DIR", os.path.join(ROOT, "build"))
BIN = os.path.join(BUILD, "bin")
FIGURES = os.path.join(ROOT, "docs", "figures")


def tool(name):
    return os.path.join(BIN, name)


def presets():
    listing = subprocess.run([tool("moe-preset"), "--list"], check=True,
                             capture_output=True, text=True).stdout
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def layer_cost(preset):
    layer = subprocess.run([tool("moe-preset"), preset, "--dtype=bf16"],
                           check=True, capture_output=True, text=True).stdout
    report = subprocess.run(
        [tool("moe-opt"), "-", "--moe-cost=format=json", "-o", "/dev/null"],
        input=layer, check=True, capture_output=True, text=True).stdout
    cost = json.loads(report)["layers"][0]
    return cost["params"]["total"], cost["params"]["active"], \
        cost["flops_per_token"]["total"]


def plot_flops():
    points = [(name,) + layer_cost(name) for name in presets()]
    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    xs = [p[1] for p in points]
    lo, hi = min(xs) / 2, max(xs) * 2
    ax.plot([lo, hi], [2 * lo, 2 * hi], color="0.4", linestyle="--",
            label="dense FFN with the same parameters (2 FLOPs/param)")
    ax.scatter(xs, [p[3] for p in points], color="tab:blue", zorder=3,
               label="MoE layer (router + k experts + shared experts)")
    # Labels right of the point, moved where two points nearly coincide.
    offsets = {"kimi-k2": (5, 5), "deepseek-v3": (-30, -13)}
    for name, total, active, flops in points:
        ax.annotate(name, (total, flops), textcoords="offset points",
                    xytext=offsets.get(name, (5, -3)), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters of one MoE layer")
    ax.set_ylabel("FLOPs per token")
    ax.set_title("Compute per token against layer size "
                 "(moe-preset | moe-cost)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = os.path.join(FIGURES, "flops-vs-params.png")
    fig.savefig(path, dpi=110)
    print("wrote", path)
    for name, total, active, flops in points:
        print("  %-14s total %.3e active %.3e flops/token %.3e (dense %.0fx)"
              % (name, total, active, flops, 2 * total / flops))


def median_ms(text):
    return float(re.search(r"median ([0-9.]+) ms", text).group(1))


def plot_speed(runs):
    layer = os.path.join(ROOT, "examples", "mixtral.mlir")
    D, F, E, k = 512, 1792, 8, 2
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    tokens = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    ours, blas = [], []
    for T in tokens:
        run = subprocess.run([tool("moe-run"), layer, "--tokens=%d" % T,
                              "--runs=%d" % runs, "--seed=1"], check=True,
                             capture_output=True, text=True, env=env).stdout
        if ": PASS" not in run:
            sys.exit("moe-run does not match the reference at T=%d" % T)
        base = subprocess.run([tool("blas-moe-baseline"), str(D), str(F),
                               str(E), str(k), str(T), str(runs)], check=True,
                              capture_output=True, text=True, env=env).stdout
        ours.append(T / median_ms(run) * 1e3)
        blas.append(T / median_ms(base) * 1e3)
        print("  T=%-4d moe-mlir %8.0f tokens/s   OpenBLAS %8.0f tokens/s"
              % (T, ours[-1], blas[-1]))
    fig, ax = plt.subplots(figsize=(7.5, 5.0))
    ax.plot(tokens, ours, marker="o", label="moe-mlir (moe-cpu-pipeline)")
    ax.plot(tokens, blas, marker="s",
            label="OpenBLAS sgemm per expert (same routing)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("tokens per call (T)")
    ax.set_ylabel("tokens per second (1 thread)")
    ax.set_title("Mixtral-style layer (D=512, F=1792, E=8, k=2), f32, "
                 "median of %d" % runs)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(FIGURES, "throughput-vs-tokens.png")
    fig.savefig(path, dpi=110)
    print("wrote", path)


PEERS = [("ours", "moe-mlir", "o", "-"),
         ("hf_eager", "HF eager", "s", "--"),
         ("hf_grouped", "HF grouped_mm", "^", "--"),
         ("compile_eager", "torch.compile (eager experts)", "v", ":"),
         ("compile_grouped", "torch.compile (grouped_mm)", "<", ":"),
         ("iree", "IREE (our linalg)", "D", "-."),
         ("floor", "dense-GEMM floor", "x", "-")]


def plot_peers(path):
    report = json.load(open(path))
    results = report["results"]
    panels = sorted({(r["layer"], r["dtype"]) for r in results})
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.6),
                             squeeze=False)
    for ax, (layer, dtype) in zip(axes[0], panels):
        rows = sorted((r for r in results
                       if (r["layer"], r["dtype"]) == (layer, dtype)),
                      key=lambda r: r["T"])
        for key, label, marker, style in PEERS:
            points = [(r["T"], r["T"] / r[key + "_s"]) for r in rows
                      if r.get(key + "_s")]
            if points:
                ax.plot(*zip(*points), marker=marker, linestyle=style,
                        label=label, linewidth=2.2 if key == "ours" else 1.2)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title("%s, %s" % (layer, dtype), fontsize=9)
        ax.set_xlabel("tokens per call (T)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("tokens per second")
    axes[0][0].legend(fontsize=7)
    env = report.get("environment", {})
    fig.suptitle("bench/cpu-peers.sh, %s, %s threads, %s"
                 % (env.get("cpu", "CPU"), env.get("threads", "?"),
                    env.get("date", "")), fontsize=9)
    fig.tight_layout()
    out = os.path.join(FIGURES, "cpu-peers.png")
    fig.savefig(out, dpi=100)
    print("wrote", out)


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what == "peers":
        os.makedirs(FIGURES, exist_ok=True)
        if len(sys.argv) < 3:
            sys.exit("usage: scripts/plot-figures.sh peers CPU-PEERS.json")
        plot_peers(sys.argv[2])
        return
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    os.makedirs(FIGURES, exist_ok=True)
    if what in ("flops", "all"):
        plot_flops()
    if what in ("speed", "all"):
        plot_speed(runs)


if __name__ == "__main__":
    main()
