// moe-gpu-grouped-matmul-kernel: one tensor-core kernel for the grouped GEMM
// of a shape, its tiles chosen from n and k.
//
// RUN: moe-opt %s --moe-gpu-grouped-matmul-kernel="n=4096 k=7168 experts=256" | FileCheck %s --check-prefix=WIDE
// RUN: moe-opt %s --moe-gpu-grouped-matmul-kernel="n=48 k=80 experts=5 module-name=narrow kernel-name=gemm" | FileCheck %s --check-prefix=NARROW
// RUN: not moe-opt %s --moe-gpu-grouped-matmul-kernel="n=40 k=64 experts=2" 2>&1 | FileCheck %s --check-prefix=BAD

module {
}

// A 128x128 tile stepping k by 32, 8 warps, two shared-memory stages of
// A and B padded to 40 bf16 a row.
// WIDE: module attributes {gpu.container_module}
// WIDE: gpu.module @grouped_matmul
// WIDE-DAG: memref.global "private" @smem_a : memref<2x128x40xbf16, #gpu.address_space<workgroup>> {alignment = 128 : i64}
// WIDE-DAG: memref.global "private" @smem_b : memref<2x128x40xbf16, #gpu.address_space<workgroup>> {alignment = 128 : i64}
// WIDE: gpu.func @grouped_matmul(%[[A:.*]]: memref<?x7168xbf16>, %[[B:.*]]: memref<256x4096x7168xbf16>, %[[OFF:.*]]: memref<257xi32>, %[[C:.*]]: memref<?x4096xbf16>) kernel
// WIDE-SAME: known_block_size = array<i32: 256, 1, 1>, moe.tile = array<i64: 128, 128, 32>
// The expert of the block's row tile, from a prefix sum over the offsets.
// WIDE: %[[FOUND:.*]]:3 = scf.for {{.*}} iter_args({{.*}}) -> (index, index, index)
// WIDE: memref.load %[[OFF]]
// WIDE: scf.if
// A and B tiles through cp.async, rows past the expert's end zero-filled.
// WIDE: nvgpu.device_async_copy %[[A]][{{.*}}], {{.*}}, 8, {{.*}} {bypassL1}
// WIDE: nvgpu.device_async_copy %[[B]][%[[FOUND]]#1, {{.*}}], {{.*}}, 8, {{.*}} {bypassL1}
// WIDE: nvgpu.device_async_create_group
// WIDE: scf.for {{.*}} iter_args(
// WIDE: nvgpu.device_async_wait {{.*}} {numGroups = 0 : i32}
// WIDE: gpu.barrier
// WIDE: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false} : memref<2x128x40xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// WIDE: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// WIDE: scf.yield
// Rounded to bf16 once; only the expert's rows stored.
// WIDE: arith.truncf {{.*}} : vector<2xf32> to vector<2xbf16>
// WIDE: scf.if
// WIDE: vector.store {{.*}}, %[[C]][{{.*}}] {alignment = 4 : i64} : memref<?x4096xbf16>, vector<2xbf16>
// WIDE: gpu.return

// n = 48 and k = 80 allow only a 16-wide n tile and 16-deep k steps: a
// 64x16 tile, 4 warps, 4 stages.
// NARROW: gpu.module @narrow
// NARROW-DAG: memref.global "private" @smem_a : memref<4x64x24xbf16, #gpu.address_space<workgroup>>
// NARROW-DAG: memref.global "private" @smem_b : memref<4x16x24xbf16, #gpu.address_space<workgroup>>
// NARROW: gpu.func @gemm(%{{.*}}: memref<?x80xbf16>, %{{.*}}: memref<5x48x80xbf16>, %{{.*}}: memref<6xi32>, %{{.*}}: memref<?x48xbf16>) kernel
// NARROW-SAME: known_block_size = array<i32: 128, 1, 1>, moe.tile = array<i64: 64, 16, 16>
// NARROW: nvgpu.device_async_wait {{.*}} {numGroups = 2 : i32}
// NARROW: nvvm.mma.sync

// BAD: error: moe-gpu-grouped-matmul-kernel: n=40 k=64 experts=2: n (40) and k (64) must be multiples of 16
