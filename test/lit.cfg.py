# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MOE"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.moe_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shlibext", config.llvm_shlib_ext))
config.substitutions.append(("%moe_src_root", config.moe_src_root))
config.substitutions.append(("%moe_obj_root", config.moe_obj_root))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# Upstream's runner and its support libraries, from the installed LLVM.
config.substitutions.append(
    ("%mlir_runner_utils",
     os.path.join(config.llvm_lib_dir, "libmlir_runner_utils" + config.llvm_shlib_ext)))
config.substitutions.append(
    ("%mlir_c_runner_utils",
     os.path.join(config.llvm_lib_dir, "libmlir_c_runner_utils" + config.llvm_shlib_ext)))
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
tools = ["moe-opt", "moe-run", "mlir-runner", "mlir-opt"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# Fresh random data on every run unless a seed is given; tests print theirs.
if "MOE_TEST_SEED" in os.environ:
    config.environment["MOE_TEST_SEED"] = os.environ["MOE_TEST_SEED"]
