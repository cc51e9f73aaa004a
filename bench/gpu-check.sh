#!/usr/bin/env bash
# The prepared GPU check: everything this project runs on an NVIDIA GPU, in
# one command, on a machine with a CUDA driver and PyTorch but no MLIR or
# LLVM. It needs the kit that bench/gpu-check-prepare.sh builds on a machine
# with MLIR (the runtime, its check driver and unit tests, ahead-of-time
# compiled layers with their checker: a self-contained folder).
#
#   bench/gpu-check.sh KIT [LOG]        on the GPU machine
#   bench/gpu-check.sh KIT --rehearse   here, without a GPU: every step up to
#                                       the first CUDA call, the peers on the
#                                       CPU at tiny shapes
#
# Steps: (1) the device; (2) the runtime's GPU layer (module load, launch,
# errors as statuses), its unit tests and the NCCL communicator on one rank;
# (3) each compiled layer against the reference for T in {1, 7, 64, 1000}:
# the aot-gpu-layer.sh layers with their checker, then every family's
# preset from moe-compile with moe-exec;
# (3b) with KIT/gemm/ (from bench/gpu-gemm-prepare.sh), each tensor-core
# grouped GEMM case checked and timed; (4) the peers' benchmark
# (bench/gpu-peers.py: Hugging Face's blocks, torch._grouped_mm, cuBLAS,
# the copy bandwidth). One log; the last lines are the verdict of each step
# and the peers' table. Exit status 1 if a check failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kit=${1:?usage: bench/gpu-check.sh KIT [LOG|--rehearse]}
kit=$(cd "$kit" && pwd)
rehearse=0
log=${OUT:-.}/gpu-check.log
case "${2:-}" in
  --rehearse) rehearse=1; log=${OUT:-/tmp}/gpu-check-rehearsal.log ;;
  "") ;;
  *) log=$2 ;;
esac
: >"$log"
verdicts=()
failed=0
say() { echo "$*" | tee -a "$log"; }
# step NAME EXPECTED_CODES COMMAND...: runs the command, logs its output,
# and records PASS when its exit code is one of EXPECTED_CODES.
step() {
  local name=$1 expected=$2; shift 2
  say "== $name: $*"
  local start=$SECONDS before
  before=$(wc -l <"$log")
  "$@" >>"$log" 2>&1
  local rc=$?
  if [[ ",$expected," == *",$rc,"* ]]; then
    verdicts+=("PASS  $name (exit $rc, $((SECONDS - start)) s)")
  else
    verdicts+=("FAIL  $name (exit $rc, expected $expected, $((SECONDS - start)) s)")
    failed=1
  fi
  tail -n +"$((before + 1))" "$log" | tail -n 3 | sed 's/^/   /'
}

say "gpu-check: $(date -u '+%Y-%m-%d %H:%M UTC'), kit $kit, host $(uname -m)"
if ((rehearse)); then
  gpu_expect="open: MOE_RT_UNAVAILABLE"   # the runtime says why there is no GPU
  nccl_expect="create: MOE_RT_UNAVAILABLE"
  layer_comm_expect="layer gpu comm: MOE_RT_UNAVAILABLE"
  layer_rc=77                             # layer checker: no GPU
  gemm_rc=77                              # grouped GEMM checker: no GPU
  peers=(--rehearse)
else
  step "device" 0 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  gpu_expect=" 0 differ from the host's fma"
  nccl_expect="exchange after the faults: ok"
  layer_comm_expect="rank 0: the next layer: MOE_RT_OK"
  layer_rc=0 gemm_rc=0 peers=()
fi

export LD_LIBRARY_PATH="$kit/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -x "$kit/bin/moe-rt-check" ]; then
  # moe-rt-check exits 0 without a GPU too (no GPU is an outcome): read
  # which outcome it was, and that no check FAILED.
  rt_check() {
    local out
    out=$("$kit/bin/moe-rt-check" gpu) || { echo "$out"; return 1; }
    echo "$out"
    grep -qF "$gpu_expect" <<<"$out" && ! grep -q FAILED <<<"$out"
  }
  step "runtime: module load, launch, errors" 0 rt_check
fi
if [ -x "$kit/bin/moe-runtime-tests" ]; then
  step "runtime unit tests" 0 "$kit/bin/moe-runtime-tests" --gtest_brief=1
fi

# The NCCL communicator, one rank on this GPU: NCCL from PyTorch's wheels
# there (nvidia-nccl), unless MOE_RT_NCCL_LIBRARY names one.
nccl_python=${PYTHON:-python3}
((rehearse)) && [ -x "$here/../.venv/bin/python" ] && nccl_python=$here/../.venv/bin/python
export MOE_RT_NCCL_LIBRARY=${MOE_RT_NCCL_LIBRARY:-$("$nccl_python" -c \
  'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib", "libnccl.so.2"))' \
  2>/dev/null)}
if [ -x "$kit/bin/moe-rt-check" ]; then
  nccl_check() {
    local out
    out=$("$kit/bin/moe-rt-check" comm --kind=nccl) || { echo "$out"; return 1; }
    echo "$out"
    grep -qF "$nccl_expect" <<<"$out" && ! grep -q FAILED <<<"$out"
  }
  step "NCCL communicator, one rank ($MOE_RT_NCCL_LIBRARY)" 0 nccl_check
  # What compiled GPU layers call (moe_rt_layer_gpu_*): the GPU layer
  # communicator (NCCL) on rows in host-shared memory, a layer compiled for
  # another rank count failing with the sticky error, then working again.
  layer_comm_check() {
    local out
    out=$("$kit/bin/moe-rt-check" layer --gpu-rows) || { echo "$out"; return 1; }
    echo "$out"
    grep -qF "$layer_comm_expect" <<<"$out" && ! grep -q FAILED <<<"$out"
  }
  step "GPU layer communicator, one rank" 0 layer_comm_check
fi

# Each layer folder holds the layer, its checker and the checker's
# arguments (KIT stands for the kit's path); the checker runs every T.
for layer in "$kit"/layers/*/; do
  [ -x "$layer/moe-gpu-layer-check" ] || continue
  read -r -a args < <(sed "s|KIT|$kit|g" "$layer/args")
  step "layer $(basename "$layer"), T in {1, 7, 64, 1000}" "$layer_rc" \
    "$layer/moe-gpu-layer-check" "${args[@]}" --tokens=1,7,64,1000 --seed=2026
done

# Every family's preset from moe-compile (KIT/families/), run by moe-exec
# at each T; 77 (no GPU) ends a library's run at once.
exec_layer() { # LIBRARY
  local rc=0 T
  for T in 1 7 64 1000; do
    "$kit/bin/moe-exec" "$1" --tokens=$T --seed=2026 --runs=3
    case $? in
      0) ;;
      77) return 77 ;;
      *) rc=1 ;;
    esac
  done
  return $rc
}
if [ -x "$kit/bin/moe-exec" ]; then
  for library in "$kit"/families/lib*-f32.so "$kit"/families/lib*-bf16.so; do
    name=$(basename "$library" .so)
    step "family ${name#lib}, T in {1, 7, 64, 1000}" "$layer_rc" \
      exec_layer "$library"
  done
fi

# The tensor-core grouped GEMM (bench/gpu-gemm-prepare.sh): each case
# checked against the CPU reference on poisoned output, then timed; the
# peers time torch._grouped_mm on the same cases.
if [ -f "$kit/gemm/cases" ]; then
  while read -r -u 3 name rest; do
    read -r -a args <<<"${rest//KIT/$kit}"
    step "gemm $name" "$gemm_rc" "$kit/gemm/moe-gpu-gemm-check" "${args[@]}" \
      --seed=2026
  done 3<"$kit/gemm/cases"
  peers+=(--gemm-cases "$kit/gemm/cases")
fi

python=${PYTHON:-python3}
json=${OUT:-$(dirname "$log")}/gpu-peers.json
((rehearse)) && [ -x "$here/../.venv/bin/python" ] && python=$here/../.venv/bin/python
step "peers: HF blocks, torch._grouped_mm, cuBLAS" 0 \
  env PYTHONUNBUFFERED=1 "$python" "$here/gpu-peers.py" "${peers[@]}" --json "$json"

say ""
say "gpu-check verdicts:"
for v in "${verdicts[@]}"; do say "  $v"; done
say ""
gemm_lines=$(grep -E '^(PASS|FAIL) R=' "$log" | sed 's/^/  /')
if [ -n "$gemm_lines" ]; then
  say "grouped GEMM, ours (moe-gpu-gemm-check):"
  say "$gemm_lines"
  say ""
fi
# The peers' tables are the last thing the peers step printed.
sed -n '/^| layer /,$p' "$log" | tail -n 50
exit $failed
