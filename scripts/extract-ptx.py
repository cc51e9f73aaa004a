#!/usr/bin/env python3
"""Writes the PTX of every gpu.binary in an MLIR file to DIR/<name>.ptx.

moe-gpu-pipeline with format=isa keeps each kernel module's PTX as the
escaped `assembly` string of its gpu.binary (newlines as \\0A, quotes as
\\22); this undoes the escaping so that ptxas can assemble the text.

    scripts/extract-ptx.py layer.gpu.mlir ptx/
    ptxas -arch=sm_90 ptx/mixtral_moe_kernel.ptx -o /dev/null

With --ptxas=PATH --arch=sm_XX it also assembles every module (a cubin next
to each .ptx) and fails on the first that ptxas rejects.
"""
import argparse
import os
import re
import subprocess
import sys


def unescape(text):
    # MLIR prints non-printable bytes and quotes as \XX (two hex digits) and
    # a backslash as \\.
    return re.sub(r"\\([0-9A-Fa-f]{2}|\\)",
                  lambda m: "\\" if m.group(1) == "\\" else chr(int(m.group(1), 16)),
                  text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mlir")
    parser.add_argument("outdir")
    parser.add_argument("--ptxas", help="assemble each module with this ptxas")
    parser.add_argument("--arch", default="sm_90", help="ptxas -arch")
    args = parser.parse_args()
    source = open(args.mlir).read()
    os.makedirs(args.outdir, exist_ok=True)
    binaries = re.findall(
        r'gpu\.binary @(\w+)\s*\[#gpu\.object<#nvvm\.target<[^>]*>,'
        r'(?:\s*properties = \{[^}]*\},)?\s*assembly = "((?:[^"\\]|\\.)*)"',
        source)
    if not binaries:
        sys.exit("extract-ptx.py: no gpu.binary with PTX (format=isa) in " +
                 args.mlir)
    paths = []
    for name, assembly in binaries:
        path = os.path.join(args.outdir, name + ".ptx")
        with open(path, "w") as out:
            out.write(unescape(assembly))
        paths.append(path)
    print("%d PTX modules in %s" % (len(paths), args.outdir))
    if args.ptxas:
        for path in paths:
            run = subprocess.run([args.ptxas, "-arch=" + args.arch, path,
                                  "-o", path[:-len(".ptx")] + ".cubin"],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit("ptxas -arch=%s rejects %s:\n%s" %
                         (args.arch, path, run.stderr))
        print("ptxas -arch=%s assembled all %d" % (args.arch, len(paths)))


if __name__ == "__main__":
    main()
