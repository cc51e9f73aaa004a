#!/usr/bin/env python3
"""Compiles moe-mlir's portable linalg output with IREE, runs it on IREE's CPU
runtime and compares the result with moe-mlir's reference.

    moe-opt --moe-expand-layer --convert-moe-to-linalg examples/mixtral.mlir \\
        > mixtral.linalg.mlir
    moe-run examples/mixtral.mlir --tokens=7 --dump=t7
    $MOE_VENV/bin/python scripts/iree-check.py mixtral.linalg.mlir t7 [more dirs]

Each DIR holds what `moe-run --dump=DIR` writes: arg0.npy, arg1.npy, ... (the
function's arguments in order) and reference.npy. The module is compiled once
for IREE's local CPU device (llvm-cpu backend) and run once per DIR; a dynamic
token count is fine, each DIR may have its own. Prints one line per DIR:

    iree-check: @mixtral_moe T=7 (t7): max abs err 4.1e-08, rel err 4.0e-07: PASS

and exits 0 when every DIR passes, 1 on a mismatch, 2 when the module does not
compile or run (the compiler's diagnostics go to stderr). Needs numpy,
iree-base-compiler and iree-base-runtime (scripts/bootstrap.sh installs them in
the virtual environment ${MOE_VENV:-.venv}).
"""

import argparse
import os
import re
import sys
import time

import numpy as np


def fail(message: str, code: int = 2):
    print(f"iree-check: {message}: FAIL", flush=True)
    sys.exit(code)


def entry_function(mlir_text: str, requested: str | None) -> str:
    """The public func.func to run: the requested one, else the only one."""
    names = re.findall(r"func\.func\s+(?:public\s+)?@([\w$.]+)", mlir_text)
    private = set(re.findall(r"func\.func\s+private\s+@([\w$.]+)", mlir_text))
    names = [n for n in names if n not in private]
    if requested:
        if requested not in names:
            fail(f"no public function @{requested} (found: {', '.join(names) or 'none'})")
        return requested
    if len(names) != 1:
        fail(f"expected one public function, found {len(names)} "
             f"({', '.join(names)}): choose one with --function")
    return names[0]


def compile_module(mlir_path: str, extra_args: list[str], save_vmfb: str | None) -> bytes:
    import iree.compiler as ireec

    args = [
        "--iree-hal-target-device=local",
        "--iree-hal-local-target-device-backends=llvm-cpu",
        "--iree-llvmcpu-target-cpu=host",
    ] + extra_args
    try:
        vmfb = ireec.compile_file(mlir_path, extra_args=args)
    except ireec.CompilerToolError as error:
        # The diagnostics name the op IREE rejected and the pass that did.
        sys.stderr.write(str(error) + "\n")
        lines = [line for line in str(error).splitlines() if "error:" in line]
        first = lines[0].strip() if lines else "see stderr"
        fail(f"{os.path.basename(mlir_path)}: iree-compile failed: {first}")
    if save_vmfb:
        with open(save_vmfb, "wb") as f:
            f.write(vmfb)
    return vmfb


def load_inputs(data_dir: str) -> list[np.ndarray]:
    inputs = []
    while os.path.exists(os.path.join(data_dir, f"arg{len(inputs)}.npy")):
        array = np.load(os.path.join(data_dir, f"arg{len(inputs)}.npy"))
        inputs.append(np.ascontiguousarray(array))
    if not inputs:
        fail(f"{data_dir}: no arg0.npy (write it with moe-run --dump={data_dir})")
    return inputs


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Compile moe-mlir linalg output with IREE (llvm-cpu), run "
        "it on the inputs written by `moe-run --dump=DIR` and compare with "
        "DIR/reference.npy.")
    parser.add_argument("mlir", help="output of moe-opt --moe-expand-layer --convert-moe-to-linalg")
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="directories written by moe-run --dump")
    parser.add_argument("--function", help="function to run (default: the only public one)")
    parser.add_argument("--rtol", type=float, default=1e-5,
                        help="largest accepted max abs error / max |reference| (default 1e-5)")
    parser.add_argument("--driver", default="local-task",
                        help="IREE runtime driver (default local-task)")
    parser.add_argument("--save-vmfb", help="also write the compiled module here")
    parser.add_argument("--iree-arg", action="append", default=[],
                        help="extra iree-compile flag (repeatable)")
    args = parser.parse_args()

    with open(args.mlir) as f:
        function = entry_function(f.read(), args.function)

    start = time.monotonic()
    vmfb = compile_module(args.mlir, args.iree_arg, args.save_vmfb)
    compile_seconds = time.monotonic() - start

    import iree.runtime as ireert

    try:
        module = ireert.load_vm_flatbuffer(vmfb, driver=args.driver)
        entry = module[function]
    except Exception as error:  # the runtime raises plain RuntimeError/KeyError
        fail(f"cannot load @{function} on IREE driver {args.driver}: {error}")

    ok = True
    for data_dir in args.dirs:
        inputs = load_inputs(data_dir)
        reference = np.load(os.path.join(data_dir, "reference.npy"))
        try:
            result = entry(*inputs)
        except Exception as error:
            fail(f"@{function} ({data_dir}): IREE runtime error: {error}")
        # A layer that returns a dropped count returns (output, dropped).
        dropped = None
        if isinstance(result, (tuple, list)):
            result, dropped = result[0], result[1]
        output = np.asarray(result.to_host() if hasattr(result, "to_host") else result)
        label = f"@{function} T={inputs[0].shape[0]} ({os.path.basename(os.path.normpath(data_dir))})"
        if output.shape != reference.shape:
            print(f"iree-check: {label}: shape {output.shape}, reference {reference.shape}: FAIL")
            ok = False
            continue
        abs_err = float(np.max(np.abs(output.astype(np.float64) - reference.astype(np.float64)))) if output.size else 0.0
        max_ref = float(np.max(np.abs(reference.astype(np.float64)))) if reference.size else 0.0
        rel_err = abs_err / max_ref if max_ref > 0 else abs_err
        passed = bool(np.all(np.isfinite(output))) and rel_err <= args.rtol
        note = ""
        dropped_path = os.path.join(data_dir, "reference_dropped.txt")
        if dropped is not None and os.path.exists(dropped_path):
            expected = int(open(dropped_path).read().split()[0])
            got = int(np.asarray(dropped.to_host() if hasattr(dropped, "to_host") else dropped))
            note = f", dropped {got} (reference {expected})"
            passed = passed and got == expected
        print(f"iree-check: {label}: compile {compile_seconds:.2f} s, max abs err "
              f"{abs_err:.3e}{note}, rel err {rel_err:.3e} (tolerance {args.rtol:.1e}): "
              f"{'PASS' if passed else 'FAIL'}", flush=True)
        ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
