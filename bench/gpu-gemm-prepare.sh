#!/usr/bin/env bash
# Builds KIT/gemm/, the tensor-core grouped GEMM check that bench/gpu-check.sh
# runs on a GPU machine without MLIR. Each case in two variants, measured
# side by side:
#   KIT/gemm/NAME.mma.ptx          moe-opt --moe-gpu-grouped-matmul-kernel
#                                  chip=CHIP (mma.sync), lowered for the
#                                  chip (sm_90 by default)
#   KIT/gemm/NAME.mma.CHIP.cubin   ptxas's binary of it (the checker falls
#                                  back to the PTX when it does not load)
#   KIT/gemm/NAME.wgmma.ptx        the same with chip=sm_90a (wgmma), when
#   KIT/gemm/NAME.wgmma.sm_90a.cubin  the generator picks wgmma for the
#                                  shape; the checker falls back to the
#                                  mma.sync cubin when it does not load
#   KIT/gemm/NAME.*.ptxas.txt      ptxas -v: registers, shared memory, spills
#   KIT/gemm/moe-gpu-gemm-check    the checker (no MLIR) and the portable
#   KIT/gemm/libmoe_runtime.so     runtime it loads ($ORIGIN)
#   KIT/gemm/cases                 one line a case and variant:
#                                  NAME@VARIANT, then the checker's arguments
#                                  (KIT stands for the kit's path);
#                                  bench/gpu-peers.py --gemm-cases reads the
#                                  same lines to time torch._grouped_mm (once
#                                  a NAME)
#
#   bench/gpu-gemm-prepare.sh KIT     (MOE_GPU_CHIP=sm_90, MOE_SKIP_BUILD=1)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
kit=${1:?usage: bench/gpu-gemm-prepare.sh KIT}
chip=${MOE_GPU_CHIP:-sm_90}
ptxas=${PTXAS:-$(command -v ptxas || echo "${CUDA_HOME:-/usr/local/cuda}/bin/ptxas")}

[ "${MOE_SKIP_BUILD:-0}" = 1 ] ||
  MOE_BUILD_DIR=$build "$root/scripts/build.sh" moe-opt moe_runtime_portable \
    moe-gpu-gemm-check
mkdir -p "$kit"
kit=$(cd "$kit" && pwd)
out=$kit/gemm
rm -rf "$out"
mkdir -p "$out"
cp "$build/lib/portable/libmoe_runtime.so" "$build/bin/moe-gpu-gemm-check" "$out/"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Row counts per expert: seeded and uneven ((u + 0.1)^2 weights), with the
# given experts empty.
counts() { # ROWS EXPERTS SEED [EMPTY...]
  python3 - "$@" <<'PY'
import random, sys
rows, experts, seed = map(int, sys.argv[1:4])
empty = {int(e) for e in sys.argv[4:]}
rng = random.Random(seed)
w = [0.0 if e in empty else (rng.random() + 0.1) * (rng.random() + 0.1)
     for e in range(experts)]
c = [int(rows * x / sum(w)) for x in w]
e = 0
while sum(c) < rows:
    if e not in empty:
        c[e] += 1
    e = (e + 1) % experts
print(",".join(map(str, c)))
PY
}

# KERNEL NAME N K E CHIP [PASS-OPTIONS]: the kernel for CHIP, lowered and
# assembled into $out/NAME.{ptx,CHIP.cubin,ptxas.txt}; sets tile, threads,
# smem, variant.
kernel() {
  local name=$1 n=$2 k=$3 e=$4 for=$5 extra=${6:-}
  echo 'module {}' | "$build/bin/moe-opt" \
    --moe-gpu-grouped-matmul-kernel="n=$n k=$k experts=$e chip=$for $extra" \
    -o "$tmp/$name.mlir"
  tile=$(grep -o 'moe.tile = array<i64: [0-9, ]*>' "$tmp/$name.mlir" |
         sed 's/.*: //; s/>//; s/ //g')
  threads=$(grep -o 'known_block_size = array<i32: [0-9]*' "$tmp/$name.mlir" |
            sed 's/.*: //')
  smem=$(grep -o 'moe.dynamic_smem = [0-9]*' "$tmp/$name.mlir" | sed 's/.*= //')
  variant=$(grep -o 'moe.variant = "[a-z.]*"' "$tmp/$name.mlir" |
            sed 's/.*= //; s/"//g')
  "$build/bin/moe-opt" "$tmp/$name.mlir" --gpu-lower-to-nvvm-pipeline="cubin-chip=$for cubin-features=+ptx80 cubin-format=isa" \
    -o "$tmp/$name.isa.mlir"
  python3 "$root/scripts/extract-ptx.py" "$tmp/$name.isa.mlir" "$tmp/$name" >/dev/null
  cp "$tmp/$name/grouped_matmul.ptx" "$out/$name.ptx"
  "$ptxas" -v -arch="$for" "$out/$name.ptx" -o "$out/$name.$for.cubin" \
    2>"$out/$name.ptxas.txt"
  # Spills, and wgmma serialized by ptxas, are worth a look.
  grep -E '[1-9][0-9]* bytes spill stores|Performance Loss' \
    "$out/$name.ptxas.txt" >&2 || true
  echo "$name: $variant, tile $tile, $threads threads, $smem bytes of dynamic shared memory; ptxas: $(grep -o 'Used .*' "$out/$name.ptxas.txt")"
}

# NAME N K E COUNTS [ALTERNATIVE]: both variants of the case and their case
# lines: the mma.sync kernel for $chip, and the wgmma kernel (sm_90a) when
# the generator picks it for the shape, falling back to the mma.sync cubin.
# ALTERNATIVE (pass options, e.g. "block-n=128 stages=3") adds a third line,
# NAME@wgmma-ALTERNATIVE, the wgmma kernel with those tiles, to compare.
gemm() {
  local name=$1 n=$2 k=$3 e=$4 counts=$5 alternative=${6:-}
  local tile threads smem variant
  kernel "$name.mma" "$n" "$k" "$e" "$chip"
  local mtile=$tile mthreads=$threads
  echo "$name@$variant --variant=$variant --module=KIT/gemm/$name.mma.$chip.cubin" \
       "--fallback=KIT/gemm/$name.mma.ptx --smem=$smem" \
       "--n=$n --k=$k --experts=$e --tile=$tile --threads=$threads" \
       "--counts=$counts" >>"$out/cases"
  kernel "$name.wgmma" "$n" "$k" "$e" sm_90a
  if [ "$variant" = wgmma ]; then
    echo "$name@wgmma --variant=wgmma --module=KIT/gemm/$name.wgmma.sm_90a.cubin" \
         "--smem=$smem --n=$n --k=$k --experts=$e --tile=$tile" \
         "--threads=$threads --fallback=KIT/gemm/$name.mma.$chip.cubin" \
         "--fallback-variant=mma.sync --fallback-tile=$mtile" \
         "--fallback-threads=$mthreads --fallback-smem=0" \
         "--counts=$counts" >>"$out/cases"
  else
    rm -f "$out/$name.wgmma."*
    return
  fi
  [ -n "$alternative" ] || return 0
  local label
  label=wgmma-$(echo "$alternative" | sed 's/block-n=/n/; s/stages=/s/; s/ //g')
  kernel "$name.$label" "$n" "$k" "$e" sm_90a "$alternative"
  echo "$name@$label --variant=$label --module=KIT/gemm/$name.$label.sm_90a.cubin" \
       "--smem=$smem --n=$n --k=$k --experts=$e --tile=$tile" \
       "--threads=$threads --fallback=KIT/gemm/$name.mma.$chip.cubin" \
       "--fallback-variant=mma.sync --fallback-tile=$mtile" \
       "--fallback-threads=$mthreads --fallback-smem=0" \
       "--counts=$counts" >>"$out/cases"
}

# Small shapes first (every element checked): rows not a multiple of the
# tile, empty experts, one expert, the narrow tiles (n = 48, k = 80).
gemm odd-n48-k80-e5 48 80 5 5,0,17,130,1
gemm one-expert-n64-k96 64 96 1 77
gemm uneven-n256-k512-e8 256 512 8 300,0,1,129,0,64,513,7
# wgmma's other paths: 128-wide n tiles over 5 k steps (fewer than the
# stages), and a single k step.
gemm n384-k320-e3 384 320 3 200,0,77 "block-n=128 stages=3"
gemm n256-k64-e4 256 64 4 1,128,0,250
# The published expert shapes, bf16, T = 4096 tokens (k routed experts
# each): gate and up projections together (N = 2F), then down.
gemm mixtral-up-n28672-k4096-e8 28672 4096 8 "$(counts 8192 8 1)"
gemm mixtral-down-n4096-k14336-e8 4096 14336 8 "$(counts 8192 8 2)"
# The fine-grained shapes also with 128x128 tiles, 3 stages and two blocks
# a multiprocessor (their tiles are short in k: one block's epilogue and
# first copies overlap the other's multiplies).
alt="block-n=128 stages=3"
gemm deepseek-up-n4096-k7168-e256 4096 7168 256 "$(counts 32768 256 3 17)" "$alt"
gemm deepseek-down-n7168-k2048-e256 7168 2048 256 "$(counts 32768 256 4 17)" "$alt"
gemm qwen3-up-n1536-k2048-e128 1536 2048 128 "$(counts 32768 128 5 9)" "$alt"
gemm qwen3-down-n2048-k768-e128 2048 768 128 "$(counts 32768 128 6 9)" "$alt"
sed -i "s|$kit|KIT|g" "$out/cases"
echo "gpu-gemm-prepare: $(wc -l <"$out/cases") cases in $out ($(du -sh "$out" | cut -f1))"
