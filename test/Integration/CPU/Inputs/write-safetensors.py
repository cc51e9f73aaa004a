#!/usr/bin/env python3
"""Writes small .safetensors files for moe-run-weights.mlir with the Python
standard library only (no torch): a Mixtral-named layer of E = 2 experts,
D = 4, F = 3 whose tensors are stored as F32, BF16 and F16, and broken
variants. Usage: write-safetensors.py DIR, then, after moe-run --dump=DIR/dump,
write-safetensors.py DIR --check"""

import json
import os
import random
import struct
import sys

E, D, F = 2, 4, 3


def pack(dtype, values):
    if dtype == "F32":
        return struct.pack("<%df" % len(values), *values)
    if dtype == "F16":
        return struct.pack("<%de" % len(values), *values)
    if dtype == "BF16":
        # The top 16 bits of the f32: values are chosen exactly representable.
        words = [struct.unpack("<I", struct.pack("<f", v))[0] >> 16
                 for v in values]
        return struct.pack("<%dH" % len(words), *words)
    if dtype == "I8":
        return bytes(len(values))
    raise ValueError(dtype)


def write(path, tensors, header_extra=None):
    """tensors: name -> (dtype, shape, values)."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, (dtype, shape, values) in tensors.items():
        blob = pack(dtype, values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if header_extra:
        header.update(header_extra)
    text = json.dumps(header).encode()
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def values(n, rng):
    # Multiples of 1/16 in [-1, 1]: exact in F32, BF16 and F16.
    return [rng.randint(-16, 16) / 16.0 for _ in range(n)]


def layer(prefix, rng, dtypes=("F32", "BF16", "F16")):
    block = prefix + "block_sparse_moe."
    tensors = {block + "gate.weight": (dtypes[0], [E, D], values(E * D, rng))}
    for e in range(E):
        for w, shape, dtype in (("w1", [F, D], dtypes[1]),
                                ("w2", [D, F], dtypes[2]),
                                ("w3", [F, D], dtypes[0])):
            tensors["%sexperts.%d.%s.weight" % (block, e, w)] = (
                dtype, shape, values(shape[0] * shape[1], rng))
    return tensors


def operands(tensors, prefix):
    """The layer's weights in moe.layer's operand order and layout: router
    [E, D], gate (w1) [E, F, D], up (w3) [E, F, D], down (w2) [E, D, F],
    each flattened."""
    block = prefix + "block_sparse_moe."
    out = [tensors[block + "gate.weight"][2]]
    for w in ("w1", "w3", "w2"):
        out.append([v for e in range(E)
                    for v in tensors["%sexperts.%d.%s.weight" % (block, e, w)][2]])
    return out


def read_npy(path):
    """The f32 values of a .npy file moe-run --dump wrote."""
    data = open(path, "rb").read()
    length = struct.unpack("<H", data[8:10])[0]
    body = data[10 + length:]
    return list(struct.unpack("<%df" % (len(body) // 4), body))


def check(out):
    """Compares what moe-run --dump wrote (arg1..4.npy) with the values the
    checkpoint holds: the F32, BF16 and F16 conversions and the stacking."""
    expected = json.load(open(os.path.join(out, "mixtral.expected.json")))
    for i, values in enumerate(expected, start=1):
        got = read_npy(os.path.join(out, "dump", "arg%d.npy" % i))
        if got != values:
            print("arg%d.npy differs from the checkpoint" % i)
            return 1
    print("dumped weights equal the checkpoint's: %d tensors" % len(expected))
    return 0


def main():
    out = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--check":
        sys.exit(check(out))
    os.makedirs(out, exist_ok=True)
    rng = random.Random(int(os.environ.get("MOE_TEST_SEED", "0")) or None)
    tensors = layer("model.layers.0.", rng)
    write(os.path.join(out, "mixtral.safetensors"), tensors)
    with open(os.path.join(out, "mixtral.expected.json"), "w") as f:
        json.dump(operands(tensors, "model.layers.0."), f)
    two = layer("model.layers.0.", rng)
    two.update(layer("model.layers.1.", rng))
    write(os.path.join(out, "two-layers.safetensors"), two)
    bad = layer("model.layers.0.", rng)
    bad["model.layers.0.block_sparse_moe.experts.1.w1.weight"] = (
        "I8", [F, D], [0] * (F * D))
    write(os.path.join(out, "int8.safetensors"), bad)
    wide = layer("model.layers.0.", rng)
    wide["model.layers.0.block_sparse_moe.experts.1.w2.weight"] = (
        "F32", [D, F + 1], values(D * (F + 1), rng))
    write(os.path.join(out, "ragged.safetensors"), wide)
    with open(os.path.join(out, "truncated.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", 1000) + b"{}")


if __name__ == "__main__":
    main()
