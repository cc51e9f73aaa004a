// moe-gpu-pipeline: every parallel loop of the lowered layer becomes a
// kernel in a gpu.module compiled through NVVM for the chosen chip; the host
// code launches them and allocates its buffers host-shared. Without a GPU
// the kernels are checked as far as they go: PTX for sm_80 and sm_90, each
// module assembled by the CUDA toolkit's ptxas, and cubins (format=bin runs
// ptxas inside the pipeline).
//
// RUN: moe-opt %s --moe-gpu-pipeline="chip=sm_90 format=isa" | FileCheck %s --check-prefix=ISA90
// RUN: moe-opt %s --moe-gpu-pipeline="chip=sm_80 format=isa" -o %t.sm80.mlir
// RUN: FileCheck %s --check-prefix=ISA80 < %t.sm80.mlir
// RUN: moe-opt %s --moe-gpu-pipeline="chip=sm_90 format=isa" -o %t.sm90.mlir
// An unknown format is rejected when the options are parsed.
// RUN: not moe-opt %s --moe-gpu-pipeline="format=elf" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD-FORMAT
// BAD-FORMAT: for the --format option: Cannot find option named 'elf'!
// The host code is all LLVM dialect: it translates to LLVM IR.
// RUN: mlir-translate --mlir-to-llvmir %t.sm90.mlir -o /dev/null
//
// RUN: %if ptxas %{ rm -rf %t.ptx80 %t.ptx90 %}
// RUN: %if ptxas %{ %python %moe_src_root/scripts/extract-ptx.py %t.sm80.mlir %t.ptx80 --ptxas=%ptxas --arch=sm_80 | FileCheck %s --check-prefix=EXTRACT80 %}
// RUN: %if ptxas %{ %python %moe_src_root/scripts/extract-ptx.py %t.sm90.mlir %t.ptx90 --ptxas=%ptxas --arch=sm_90 | FileCheck %s --check-prefix=EXTRACT90 %}
// RUN: %if ptxas %{ moe-opt %s --moe-gpu-pipeline="chip=sm_80 format=bin" | FileCheck %s --check-prefix=BIN %}
// RUN: %if ptxas %{ moe-opt %s --moe-gpu-pipeline="chip=sm_90 format=bin" | FileCheck %s --check-prefix=BIN %}

// The host function stays, launches kernels and allocates host-shared
// memory (gpu-to-llvm turns the allocations into mgpuMemAlloc calls).
// ISA90: llvm.func @mixtral_like(
// ISA90: llvm.call @mgpuMemAlloc
// ISA90: gpu.launch_func @mixtral_like_kernel{{(_[0-9]+)?}}::@mixtral_like_kernel
// ISA90: gpu.binary @mixtral_like_kernel{{(_[0-9]+)?}} [#gpu.object<#nvvm.target<chip = "sm_90", features = "+ptx80">, {{.*}}assembly = "{{.*}}.target sm_90{{.*}}.visible .entry mixtral_like_kernel(
// ISA80: gpu.binary @mixtral_like_kernel{{(_[0-9]+)?}} [#gpu.object<#nvvm.target<chip = "sm_80", features = "+ptx80">, {{.*}}assembly = "{{.*}}.target sm_80
// EXTRACT80: [[N:[1-9][0-9]*]] PTX modules in
// EXTRACT80-NEXT: ptxas -arch=sm_80 assembled all [[N]]
// EXTRACT90: [[N:[1-9][0-9]*]] PTX modules in
// EXTRACT90-NEXT: ptxas -arch=sm_90 assembled all [[N]]
// BIN: gpu.binary @mixtral_like_kernel{{(_[0-9]+)?}} [#gpu.object<#nvvm.target<{{.*}}>, {{.*}}bin = "\7FELF

func.func @mixtral_like(%x: tensor<?x64xf32>, %wr: tensor<8x64xf32>,
                        %wg: tensor<8x96x64xf32>, %wu: tensor<8x96x64xf32>,
                        %wd: tensor<8x64x96xf32>) -> tensor<?x64xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<swiglu>}
       : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x96x64xf32>,
          tensor<8x96x64xf32>, tensor<8x64x96xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
