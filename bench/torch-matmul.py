#!/usr/bin/env python3
"""PyTorch's CPU matmul (MKL or oneDNN) on the projections of
bench/matmul-kernels.sh: C[M, N] = A[M, K] @ B[N, K]^T, the weight stored
[out, in] as moe-mlir's. Prints one line per M: "M median_ms".

    torch-matmul.py N K THREADS DTYPE RUNS M...
"""
import sys
import time

import torch


def main():
    n, k, threads, dtype, runs = (int(sys.argv[1]), int(sys.argv[2]),
                                  int(sys.argv[3]), sys.argv[4],
                                  int(sys.argv[5]))
    torch.set_num_threads(threads)
    torch_dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype]
    gen = torch.Generator().manual_seed(1)
    b = (torch.rand(n, k, generator=gen) * 2 - 1).to(torch_dtype)
    for m in map(int, sys.argv[6:]):
        a = (torch.rand(m, k, generator=gen) * 2 - 1).to(torch_dtype)
        times = []
        with torch.inference_mode():
            for i in range(runs + 1):
                start = time.perf_counter()
                torch.matmul(a, b.t())
                end = time.perf_counter()
                if i:
                    times.append(end - start)
        times.sort()
        mid = len(times) // 2
        median = (times[mid] if len(times) % 2
                  else 0.5 * (times[mid - 1] + times[mid]))
        print(m, f"{median * 1e3:.3f}", flush=True)


if __name__ == "__main__":
    main()
