# -*- Python -*-
import os
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MOE"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.moe_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shlibext", config.llvm_shlib_ext))
config.substitutions.append(("%moe_src_root", config.moe_src_root))
config.substitutions.append(("%moe_obj_root", config.moe_obj_root))
# The Python lit runs under, for the project's stdlib-only scripts.
config.substitutions.append(("%python", sys.executable))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# Upstream's runner and its support libraries, from the installed LLVM.
config.substitutions.append(
    ("%mlir_runner_utils",
     os.path.join(config.llvm_lib_dir, "libmlir_runner_utils" + config.llvm_shlib_ext)))
config.substitutions.append(
    ("%mlir_c_runner_utils",
     os.path.join(config.llvm_lib_dir, "libmlir_c_runner_utils" + config.llvm_shlib_ext)))
# LLVM's OpenMP runtime, which moe-cpu-pipeline's parallel kernels call.
config.substitutions.append(("%libomp", config.moe_libomp))
config.substitutions.append(
    ("%moe_runner_utils",
     os.path.join(config.moe_lib_dir, "libmoe_runner_utils" + config.llvm_shlib_ext)))

# The dialect + pass plugin for upstream mlir-opt (a MODULE: no "lib" prefix).
config.substitutions.append(("%pluginext", config.llvm_plugin_ext))
config.substitutions.append(
    ("%moe_plugin",
     os.path.join(config.moe_lib_dir, "MoEPlugin" + config.llvm_plugin_ext)))

# What test/Downstream needs to install this build and build a project
# against the installed package: the same CMake, generator and compiler, and
# the MLIR package this build uses. (Substitutions apply in order: the longer
# %cmake_* names before %cmake.)
config.substitutions.append(("%cmake_make_program", config.cmake_make_program))
config.substitutions.append(("%cmake_cxx_compiler", config.cmake_cxx_compiler))
config.substitutions.append(("%cmake", config.cmake_command))
config.substitutions.append(("%mlir_cmake_dir", config.mlir_cmake_dir))

# Our tools first, then the installed LLVM's.
llvm_config.with_environment("PATH", config.moe_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.moe_tools_dir, config.llvm_tools_dir]
tools = ["moe-opt", "moe-run", "moe-compile", "moe-exec", "moe-preset", "moe-rt-check",
         "mlir-runner", "mlir-opt"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# Ahead-of-time GPU layers (test/Integration/GPU): the script, run against
# this build's moe-opt, portable runtime and checker.
config.substitutions.append(
    ("%aot_gpu_layer",
     "env MOE_BUILD_DIR=%s bash %s" % (
         config.moe_obj_root,
         os.path.join(config.moe_src_root, "scripts", "aot-gpu-layer.sh"))))

# Random test data from a fixed seed, so that a commit gets the same verdict
# on every run; MOE_TEST_SEED=S replays another seed, and scripts/soak.sh
# reruns the execution and conformance tests with fresh ones.
MOE_DEFAULT_TEST_SEED = "1"
config.environment["MOE_TEST_SEED"] = os.environ.get("MOE_TEST_SEED",
                                                     MOE_DEFAULT_TEST_SEED)

# What the host CPU offers the kernels moe-cpu-pipeline generates.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        _cpu_flags = set(cpuinfo.read().split())
except OSError:
    _cpu_flags = set()
for _flag in ("avx512f", "avx512_bf16"):
    if _flag in _cpu_flags:
        config.available_features.add(_flag.replace("_", ""))


def _amx_granted():
    """Whether Linux grants a process the AMX tile state (arch_prctl
    ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA, as moe-cpu-pipeline asks)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syscall(158, 0x1023, 18) == 0  # SYS_arch_prctl on x86-64
    except (OSError, AttributeError):
        return False


# "amx": AMX bf16 tile products, and the kernel lets us use them.
if {"amx_tile", "amx_bf16"} <= _cpu_flags and _amx_granted():
    config.available_features.add("amx")

# One OpenMP thread per compiled program unless the environment says
# otherwise: lit already runs a test per core, and threads that wait for a
# busy core turn every parallel loop's barrier into milliseconds. The tests
# of the parallel kernels ask for 2 threads with moe-run --threads.
config.environment["OMP_NUM_THREADS"] = os.environ.get("OMP_NUM_THREADS", "1")

# A sanitizer build (scripts/sanitize.sh): our binaries and libraries share
# the shared ASan runtime; preloading it lets uninstrumented hosts (mlir-runner,
# upstream mlir-opt) load our instrumented libraries. A downstream project
# would need the same flags, so that test does not run here.
if config.moe_sanitizers:
    config.available_features.add("sanitizers")
    if config.moe_sanitizer_runtime:
        config.environment["LD_PRELOAD"] = config.moe_sanitizer_runtime
    # Leaks inside libMLIR.so's process-wide registries are not ours to fix.
    config.environment["ASAN_OPTIONS"] = "detect_leaks=0:allow_user_poisoning=0:abort_on_error=1:allocator_may_return_null=1"
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"

# Checks against foreign code, with Python packages from the virtual
# environment scripts/bootstrap.sh --python makes (MOE_VENV, default <source
# root>/.venv): IREE (test/Integration/IREE) and PyTorch with Hugging Face
# transformers (test/Conformance). Without them those tests are UNSUPPORTED,
# and this says why.
def _moe_venv_python(imports, what):
    import subprocess

    venv = os.environ.get("MOE_VENV", os.path.join(config.moe_src_root, ".venv"))
    python = os.path.join(venv, "bin", "python")
    if "sanitizers" in config.available_features:
        return None, "not run in a sanitizer build"
    if not os.path.exists(python):
        return None, "no Python virtual environment at " + venv
    try:
        probe = subprocess.run([python, "-c", imports],
                               capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, "%s does not run (%s)" % (python, error)
    if probe.returncode != 0:
        lines = probe.stderr.strip().splitlines() or ["import failed"]
        return None, "%s cannot import %s (%s)" % (python, what, lines[-1])
    return python, None

_moe_python, _moe_iree_missing = _moe_venv_python(
    "import numpy, iree.compiler, iree.runtime", "IREE")
if _moe_python:
    config.available_features.add("iree")
else:
    lit_config.note(
        "IREE tests UNSUPPORTED: %s; scripts/bootstrap.sh --python installs numpy, "
        "iree-base-compiler and iree-base-runtime there (or set MOE_VENV to "
        "a venv that has them)" % _moe_iree_missing)

_moe_torch_python, _moe_torch_missing = _moe_venv_python(
    "import numpy, torch, transformers, safetensors", "PyTorch/transformers")
if _moe_torch_python:
    config.available_features.add("torch")
    _moe_python = _moe_python or _moe_torch_python
else:
    lit_config.note(
        "Hugging Face conformance tests UNSUPPORTED: %s; scripts/bootstrap.sh --python "
        "installs torch, transformers and safetensors there (or set MOE_VENV "
        "to a venv that has them)" % _moe_torch_missing)
if _moe_python:
    config.substitutions.append(("%moe_python", _moe_python))

# The runtime's backends (test/Runtime). `mpi`: the runtime has the MPI
# communicator and mpirun is there (ranks may outnumber the cores, and a CI
# container runs as root); `cuda-gpu`: a GPU the driver can open;
# `cuda-stub`: the toolkit's driver stub, a libcuda without a GPU behind it;
# `nccl-library`: the toolkit's NCCL; `ptxas`: the toolkit's PTX assembler.
import shutil
import subprocess

_mpirun = shutil.which("mpirun")
if config.moe_rt_have_mpi.upper() in ("TRUE", "ON", "1") and _mpirun:
    config.available_features.add("mpi")
    config.substitutions.append(("%mpirun", _mpirun + " --oversubscribe"))
    config.environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    config.environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    # Shared memory between the ranks of one machine; no network probing.
    config.environment["OMPI_MCA_btl"] = "self,vader"
else:
    lit_config.note("MPI tests UNSUPPORTED: %s" % (
        "no mpirun on PATH" if not _mpirun else
        "the runtime was built without MPI (libopenmpi-dev)"))

_cuda = os.environ.get("CUDA_HOME", "/usr/local/cuda")
if os.path.exists(os.path.join(_cuda, "lib64", "stubs", "libcuda.so")):
    config.available_features.add("cuda-stub")
    config.substitutions.append(
        ("%cuda_stub", os.path.join(_cuda, "lib64", "stubs", "libcuda.so")))
# `nccl-library`: the toolkit's libnccl.so.2, for the NCCL communicator.
for _nccl in (os.path.join(_cuda, d, "libnccl.so.2") for d in ("lib", "lib64")):
    if os.path.exists(_nccl):
        config.available_features.add("nccl-library")
        config.substitutions.append(("%nccl_library", _nccl))
        break
# `host-cc`: a C compiler, for small stand-in libraries (test/Integration/AOT).
_host_cc = shutil.which("cc") or shutil.which("gcc")
if _host_cc:
    config.available_features.add("host-cc")
    config.substitutions.append(("%host_cc", _host_cc))
_ptxas = shutil.which("ptxas") or os.path.join(_cuda, "bin", "ptxas")
if os.path.exists(_ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", _ptxas))
    # moe-gpu-pipeline{format=bin} runs ptxas too, and links libdevice (the
    # kernels' exp, erf, ...) from the toolkit that CUDA_HOME names.
    llvm_config.with_environment("PATH", os.path.dirname(_ptxas),
                                 append_path=True)
    config.environment["CUDA_HOME"] = _cuda
try:
    _gpu = subprocess.run(["nvidia-smi", "-L"], capture_output=True,
                          text=True, timeout=60)
    _has_gpu = _gpu.returncode == 0 and "GPU" in _gpu.stdout
except (OSError, subprocess.TimeoutExpired):
    _has_gpu = False
if _has_gpu:
    config.available_features.add("cuda-gpu")
    # The first GPU's architecture (compute capability 9.0: sm_90), for
    # tests that compile for the GPU at hand.
    try:
        _cap = subprocess.run(
            ["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=60).stdout.split()
        config.substitutions.append(
            ("%cuda_chip", "sm_" + _cap[0].replace(".", "")))
    except (OSError, subprocess.TimeoutExpired, IndexError):
        config.substitutions.append(("%cuda_chip", "sm_90"))
else:
    lit_config.note("GPU execution tests UNSUPPORTED: no GPU (nvidia-smi -L "
                    "lists none)")
