#!/usr/bin/env python3
"""Writes the inputs of capacity-ties.mlir (argN.npy, f32) into DIR.

Token 0 is e_0 and token 1 is e_1. The router gives token 0 the logits
1 for experts 1 and 2 (so it picks 1, then 2), token 1 the logits 1 for
experts 2 and 3 (it picks 2, then 3): both want expert 2 with weight 0.5,
token 0 as its second choice, token 1 as its first. The experts' weights
are small integers over 8, exact in f32. Plain Python: no NumPy needed.
"""
import struct
import sys
from pathlib import Path


def write_npy(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        "".join(f"{d}, " for d in shape))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        f.write(struct.pack(f"<{len(values)}f", *values))


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    d = e = f = 8
    tokens = [0.0] * (2 * d)
    tokens[0 * d + 0] = 1.0
    tokens[1 * d + 1] = 1.0
    router = [0.0] * (e * d)
    for expert in (1, 2):
        router[expert * d + 0] = 1.0
    for expert in (2, 3):
        router[expert * d + 1] = 1.0
    up = [((i * 7) % 5 - 2) / 8.0 for i in range(e * f * d)]
    down = [((i * 3) % 7 - 3) / 8.0 for i in range(e * d * f)]
    for i, (shape, values) in enumerate(
            [((2, d), tokens), ((e, d), router), ((e, f, d), up),
             ((e, d, f), down)]):
        write_npy(out / f"arg{i}.npy", shape, values)


if __name__ == "__main__":
    main()
