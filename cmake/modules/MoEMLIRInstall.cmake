# MoEMLIRInstall.cmake - link our libraries against libMLIR.so, install
# them, and export the CMake package MoEMLIR.
#
# Included at the end of the top-level CMakeLists.txt, once every target
# exists. The per-directory add_mlir_library(... DISABLE_INSTALL) calls stay
# as they are: DISABLE_INSTALL keeps our libraries out of MLIR's own export
# set, and this file installs them into ours, the way CIRCT's AddCIRCT.cmake
# does. `cmake --install build --prefix P` then gives
#
#   P/include/moe-mlir/...        headers, .td files, generated .inc files
#   P/include/moe-runtime/...     the runtime's C ABI
#   P/lib/libMLIRMoE*.a, libMoEReference.a, libmoe_runtime.so, MoEPlugin.so
#   P/bin/moe-opt, moe-run, ...
#   P/lib/cmake/MoEMLIR/          MoEMLIRConfig.cmake, MoEMLIRConfigVersion.cmake,
#                                 MoEMLIRTargets*.cmake (namespace MoEMLIR::)
#
# What is installed is found, not listed: every library under lib/ and
# runtime/, every executable and plugin (MODULE) under tools/. A new library
# or tool is installed and exported without editing this file.

include(CMakePackageConfigHelpers)

set(MOE_INSTALL_INCLUDEDIR include)
set(MOE_INSTALL_LIBDIR lib${LLVM_LIBDIR_SUFFIX})
set(MOE_INSTALL_BINDIR bin)
set(MOE_INSTALL_CMAKEDIR ${MOE_INSTALL_LIBDIR}/cmake/MoEMLIR)

#===----------------------------------------------------------------------===#
# Which targets
#===----------------------------------------------------------------------===#

# The buildsystem targets of `dir` and of every directory below it.
function(_moe_targets_under dir out)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _moe_targets_under("${sub}" sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

# The targets of `types` (STATIC_LIBRARY, EXECUTABLE, ...) under `dirs`.
function(_moe_targets_of_type out)
  cmake_parse_arguments(ARG "" "" "DIRS;TYPES" ${ARGN})
  set(result)
  foreach(dir IN LISTS ARG_DIRS)
    _moe_targets_under("${dir}" targets)
    foreach(target IN LISTS targets)
      get_target_property(type ${target} TYPE)
      if(type IN_LIST ARG_TYPES)
        list(APPEND result ${target})
      endif()
    endforeach()
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

_moe_targets_of_type(MOE_INSTALLED_LIBRARIES
  DIRS ${PROJECT_SOURCE_DIR}/lib ${PROJECT_SOURCE_DIR}/runtime
  TYPES STATIC_LIBRARY SHARED_LIBRARY)
# The portable runtime is for scripts/aot-gpu-layer.sh to copy next to a
# layer, not a second libmoe_runtime to install.
list(REMOVE_ITEM MOE_INSTALLED_LIBRARIES moe_runtime_portable)
_moe_targets_of_type(MOE_INSTALLED_PLUGINS
  DIRS ${PROJECT_SOURCE_DIR}/tools TYPES MODULE_LIBRARY)
_moe_targets_of_type(MOE_INSTALLED_TOOLS
  DIRS ${PROJECT_SOURCE_DIR}/tools TYPES EXECUTABLE)

#===----------------------------------------------------------------------===#
# One libMLIR.so
#===----------------------------------------------------------------------===#
#
# add_mlir_library(... LINK_LIBS PUBLIC MLIRIR ...) names MLIR's static
# libraries, and MLIR_LINK_MLIR_DYLIB does not change that (only
# mlir_target_link_libraries() does, and only for the target it is called
# on). Left alone, every tool, the plugin and every downstream user of the
# exported targets would get libMLIR.so *and* the static libMLIR*.a on its
# link line: two copies of MLIR in one process as soon as one symbol is
# taken from an archive. So each MLIR library of libMLIR.so that our
# libraries name is replaced by the imported `MLIR` target (the dylib, from
# MLIR's own package), in the build tree and in the export alike.

# Whether `lib` is one of the MLIR libraries built into libMLIR.so. Those left
# out of it (ExecutionEngine, the test libraries, ...) are built with
# mlir_target_link_libraries() and so name MLIR in their own interface.
function(_moe_in_mlir_dylib lib out)
  set(result OFF)
  if(lib MATCHES "^MLIR." AND TARGET ${lib})
    get_target_property(imported ${lib} IMPORTED)
    if(imported)
      get_target_property(deps ${lib} INTERFACE_LINK_LIBRARIES)
      if(NOT "MLIR" IN_LIST deps)
        set(result ON)
      endif()
    endif()
  endif()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

function(_moe_link_mlir_dylib target)
  foreach(property LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
    get_target_property(libs ${target} ${property})
    if(NOT libs)
      continue()
    endif()
    set(result)
    foreach(lib IN LISTS libs)
      set(wrapped OFF)
      set(name "${lib}")
      if(lib MATCHES "^\\$<LINK_ONLY:([^<>]+)>$")
        set(wrapped ON)
        set(name "${CMAKE_MATCH_1}")
      endif()
      _moe_in_mlir_dylib("${name}" in_dylib)
      if(in_dylib OR name STREQUAL "MLIR")
        set(lib MLIR)
        if(wrapped)
          set(lib "$<LINK_ONLY:MLIR>")
        endif()
        if(lib IN_LIST result)
          continue()
        endif()
      endif()
      list(APPEND result "${lib}")
    endforeach()
    set_property(TARGET ${target} PROPERTY ${property} "${result}")
  endforeach()
endfunction()

if(MLIR_LINK_MLIR_DYLIB)
  if(NOT TARGET MLIR)
    message(FATAL_ERROR "MLIR_LINK_MLIR_DYLIB is ON but the MLIR package at "
                        "${MLIR_DIR} has no libMLIR.so (target MLIR)")
  endif()
  foreach(target IN LISTS MOE_INSTALLED_LIBRARIES)
    _moe_link_mlir_dylib(${target})
  endforeach()
endif()

#===----------------------------------------------------------------------===#
# Install and export
#===----------------------------------------------------------------------===#

# Libraries that use MLIR: their users need MLIR's headers and C++17, which
# MLIR's imported targets do not carry; MoEMLIRConfig.cmake adds the headers.
set(MOE_MLIR_BASED_LIBRARIES)
foreach(target IN LISTS MOE_INSTALLED_LIBRARIES)
  get_target_property(libs ${target} INTERFACE_LINK_LIBRARIES)
  if("MLIR" IN_LIST libs OR "$<LINK_ONLY:MLIR>" IN_LIST libs OR
     target MATCHES "^MLIR")
    list(APPEND MOE_MLIR_BASED_LIBRARIES ${target})
    set_property(TARGET ${target} APPEND PROPERTY
      INTERFACE_COMPILE_FEATURES cxx_std_17)
  endif()
endforeach()

foreach(target IN LISTS MOE_INSTALLED_LIBRARIES MOE_INSTALLED_PLUGINS
                        MOE_INSTALLED_TOOLS)
  # Include directories inside the source or build tree hold only in the
  # build tree; the installed targets get ${prefix}/include (INCLUDES below).
  get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  if(dirs)
    set(result)
    foreach(dir IN LISTS dirs)
      if(NOT dir MATCHES "^\\$<" AND
         (dir MATCHES "^${PROJECT_SOURCE_DIR}/" OR
          dir MATCHES "^${PROJECT_BINARY_DIR}/"))
        set(dir "$<BUILD_INTERFACE:${dir}>")
      endif()
      list(APPEND result "${dir}")
    endforeach()
    set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES
      "${result}")
  endif()

  # Binaries find our shared libraries through $ORIGIN and MLIR's where this
  # build found them (not on the default search path on Debian). The build
  # tree has the install's bin/ and lib/ layout, so the same RPATH serves
  # both: no build RPATH padded for the install to rewrite (CMake pads with
  # empty entries, which the loader reads as the working directory).
  get_target_property(type ${target} TYPE)
  get_target_property(libs ${target} LINK_LIBRARIES)
  if(type STREQUAL "EXECUTABLE")
    set_target_properties(${target} PROPERTIES
      INSTALL_RPATH "\$ORIGIN/../${MOE_INSTALL_LIBDIR};${LLVM_LIBRARY_DIR}"
      BUILD_WITH_INSTALL_RPATH ON)
  elseif(NOT type STREQUAL "STATIC_LIBRARY" AND
         ("MLIR" IN_LIST libs OR "LLVM" IN_LIST libs))
    set_target_properties(${target} PROPERTIES
      INSTALL_RPATH "\$ORIGIN;${LLVM_LIBRARY_DIR}"
      BUILD_WITH_INSTALL_RPATH ON)
  endif()

  # add_mlir_tool leaves tools out of `all` unless LLVM_BUILD_TOOLS is set;
  # what is installed must be built by a plain `ninja`.
  set_target_properties(${target} PROPERTIES EXCLUDE_FROM_ALL OFF)
endforeach()

# moe-gpu-layer-check also runs from aot-gpu-layer.sh's folder, and
# moe-gpu-gemm-check from bench/gpu-gemm-prepare.sh's, with the runtime next
# to them, on machines without MLIR.
set_target_properties(moe-gpu-layer-check moe-gpu-gemm-check PROPERTIES
  INSTALL_RPATH "\$ORIGIN;\$ORIGIN/../${MOE_INSTALL_LIBDIR}")
# moe-exec, the runner of moe-compile's libraries, links no MLIR or LLVM:
# the portable runtime next to it or in the build's lib/portable.
set_target_properties(moe-exec PROPERTIES
  INSTALL_RPATH "\$ORIGIN;\$ORIGIN/../${MOE_INSTALL_LIBDIR}/portable")

install(TARGETS ${MOE_INSTALLED_LIBRARIES} ${MOE_INSTALLED_PLUGINS}
                ${MOE_INSTALLED_TOOLS}
  EXPORT MoEMLIRTargets
  ARCHIVE DESTINATION ${MOE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${MOE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${MOE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${MOE_INSTALL_INCLUDEDIR}
)

# Headers and ODS (.td) sources, the generated .inc files, the runtime's C ABI.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/moe-mlir
  DESTINATION ${MOE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/moe-mlir
  DESTINATION ${MOE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.inc"
  PATTERN "CMakeFiles" EXCLUDE)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/moe-runtime
  DESTINATION ${MOE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

install(EXPORT MoEMLIRTargets
  NAMESPACE MoEMLIR::
  DESTINATION ${MOE_INSTALL_CMAKEDIR}
  FILE MoEMLIRTargets.cmake)

# Generated outside lib/cmake so that the build tree is never mistaken for
# an installed package.
set(_moe_package_dir ${PROJECT_BINARY_DIR}/CMakeFiles/MoEMLIRPackage)
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/MoEMLIRConfig.cmake.in
  ${_moe_package_dir}/MoEMLIRConfig.cmake
  INSTALL_DESTINATION ${MOE_INSTALL_CMAKEDIR}
  PATH_VARS MOE_INSTALL_INCLUDEDIR MOE_INSTALL_BINDIR MOE_INSTALL_LIBDIR)
write_basic_package_version_file(
  ${_moe_package_dir}/MoEMLIRConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${_moe_package_dir}/MoEMLIRConfig.cmake
  ${_moe_package_dir}/MoEMLIRConfigVersion.cmake
  DESTINATION ${MOE_INSTALL_CMAKEDIR})

string(REPLACE ";" " " _moe_installed
  "${MOE_INSTALLED_LIBRARIES};${MOE_INSTALLED_PLUGINS};${MOE_INSTALLED_TOOLS}")
message(STATUS "MoEMLIR package exports: ${_moe_installed}")
