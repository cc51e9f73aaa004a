// moe-gpu-grouped-matmul-kernel: one tensor-core kernel for the grouped GEMM
// of a shape, its tiles chosen from n and k.
//
// RUN: moe-opt %s --moe-gpu-grouped-matmul-kernel="n=4096 k=7168 experts=256" | FileCheck %s --check-prefix=WIDE
// RUN: moe-opt %s --moe-gpu-grouped-matmul-kernel="n=48 k=80 experts=5 module-name=narrow kernel-name=gemm" | FileCheck %s --check-prefix=NARROW
// RUN: not moe-opt %s --moe-gpu-grouped-matmul-kernel="n=40 k=64 experts=2" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: moe-opt %s --moe-gpu-grouped-matmul-kernel="n=4096 k=7168 experts=256 chip=sm_90a" | FileCheck %s --check-prefix=WGMMA
// RUN: moe-opt %s --moe-gpu-grouped-matmul-kernel="n=384 k=320 experts=3 chip=sm_90a" | FileCheck %s --check-prefix=WGMMA128
// RUN: moe-opt %s --moe-gpu-grouped-matmul-kernel="n=48 k=80 experts=5 chip=sm_90a" | FileCheck %s --check-prefix=NARROW90
// RUN: moe-opt %s --moe-gpu-grouped-matmul-kernel="n=384 k=320 experts=3 chip=sm_90a block-n=128 stages=3" | FileCheck %s --check-prefix=TWOBLOCKS
// RUN: not moe-opt %s --moe-gpu-grouped-matmul-kernel="n=384 k=320 experts=3 chip=sm_90a block-n=256" 2>&1 | FileCheck %s --check-prefix=BADN

module {
}

// A 128x128 tile stepping k by 32, 8 warps, two shared-memory stages of
// A and B padded to 40 bf16 a row.
// WIDE: module attributes {gpu.container_module}
// WIDE: gpu.module @grouped_matmul
// WIDE-DAG: memref.global "private" @smem_a : memref<2x128x40xbf16, #gpu.address_space<workgroup>> {alignment = 128 : i64}
// WIDE-DAG: memref.global "private" @smem_b : memref<2x128x40xbf16, #gpu.address_space<workgroup>> {alignment = 128 : i64}
// WIDE: gpu.func @grouped_matmul(%[[A:.*]]: memref<?x7168xbf16>, %[[B:.*]]: memref<256x4096x7168xbf16>, %[[OFF:.*]]: memref<257xi32>, %[[C:.*]]: memref<?x4096xbf16>) kernel
// WIDE-SAME: known_block_size = array<i32: 256, 1, 1>, moe.dynamic_smem = 0 : i64, moe.tile = array<i64: 128, 128, 32>, moe.variant = "mma.sync"
// Blocks in groups of row tiles (8 for k = 7168: 8 x 128 rows of A, 14 MiB,
// stay in L2 while the group sweeps the n tiles).
// WIDE: gpu.grid_dim  x
// WIDE: arith.muli %{{.*}}, %c8
// WIDE: arith.minui
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
// NARROW-SAME: known_block_size = array<i32: 128, 1, 1>, moe.dynamic_smem = 0 : i64, moe.tile = array<i64: 64, 16, 16>, moe.variant = "mma.sync"
// NARROW: nvgpu.device_async_wait {{.*}} {numGroups = 2 : i32}
// NARROW: nvvm.mma.sync

// BAD: error: moe-gpu-grouped-matmul-kernel: n=40 k=64 experts=2: n (40) and k (64) must be multiples of 16

// sm_90a, n a multiple of 256 and k of 64: the wgmma kernel. Two
// warpgroups of m64n256, k steps of 64, 4 stages of 48 KiB in dynamic
// shared memory (+ 1 KiB to align the swizzle atoms).
// WGMMA: gpu.func @grouped_matmul(%[[A:.*]]: memref<?x7168xbf16>, %[[B:.*]]: memref<256x4096x7168xbf16>, %[[OFF:.*]]: memref<257xi32>, %[[C:.*]]: memref<?x4096xbf16>) kernel
// WGMMA-SAME: known_block_size = array<i32: 256, 1, 1>, moe.dynamic_smem = 197632 : i64, moe.tile = array<i64: 128, 256, 64>, moe.variant = "wgmma"
// The expert of the row tile, each warp scanning 32 experts' tile counts
// at a time with shuffles (8 chunks for 256 experts).
// WGMMA-NOT: scf.for
// WGMMA-COUNT-5: gpu.shuffle  up
// WGMMA: gpu.shuffle  idx
// WGMMA: gpu.shuffle  xor
// WGMMA: %[[DYN:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// WGMMA: memref.extract_aligned_pointer_as_index %[[DYN]]
// WGMMA: %[[SA:.*]] = memref.view %[[DYN]][{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<4x128x64xbf16, #gpu.address_space<workgroup>>
// WGMMA: %[[SB:.*]] = memref.view %[[DYN]][{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<4x256x64xbf16, #gpu.address_space<workgroup>>
// The 128-byte swizzle: chunk (tid % 8) of row tid / 8 at (tid % 8) ^ (row % 8).
// WGMMA: arith.xori
// WGMMA: nvgpu.device_async_copy %[[A]][{{.*}}], %[[SA]][{{.*}}], 8, {{.*}} {bypassL1}
// WGMMA: nvgpu.device_async_copy %[[B]][{{.*}}], %[[SB]][{{.*}}], 8, {{.*}} {bypassL1}
// WGMMA: nvgpu.device_async_create_group
// Descriptors: 1024-byte stride between 8-row atoms, 128-byte swizzle.
// WGMMA: arith.constant 4611686293305360384 : i64
// WGMMA: llvm.mlir.zero : !llvm.struct<(f32,
// WGMMA: scf.for {{.*}} iter_args(
// WGMMA: nvgpu.device_async_wait {{.*}} {numGroups = 1 : i32}
// WGMMA: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// WGMMA: gpu.barrier
// WGMMA: nvvm.wgmma.fence.aligned
// WGMMA-COUNT-4: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 256, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// WGMMA: nvvm.wgmma.commit.group.sync.aligned
// WGMMA: nvgpu.device_async_copy
// WGMMA: nvvm.wgmma.wait.group.sync.aligned 1
// WGMMA: scf.yield
// WGMMA: nvvm.wgmma.wait.group.sync.aligned 0
// WGMMA: nvgpu.device_async_wait {{.*}} {numGroups = 0 : i32}
// WGMMA: arith.truncf {{.*}} : vector<2xf32> to vector<2xbf16>
// WGMMA: vector.store {{.*}}, %[[C]][{{.*}}] {alignment = 4 : i64} : memref<?x4096xbf16>, vector<2xbf16>
// WGMMA: gpu.return

// n = 384 (not a multiple of 256): m64n128 tiles, 6 stages of 32 KiB.
// WGMMA128: moe.dynamic_smem = 197632 : i64, moe.tile = array<i64: 128, 128, 64>, moe.variant = "wgmma"
// WGMMA128: memref.view {{.*}} to memref<6x128x64xbf16, #gpu.address_space<workgroup>>
// WGMMA128: nvgpu.device_async_wait {{.*}} {numGroups = 3 : i32}
// WGMMA128: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 128, k = 16>

// sm_90a, but n = 48 and k = 80 fit no wgmma tile: the mma.sync kernel.
// NARROW90: moe.dynamic_smem = 0 : i64, moe.tile = array<i64: 64, 16, 16>, moe.variant = "mma.sync"
// NARROW90-NOT: wgmma
// NARROW90: nvvm.mma.sync

// Tiles given for a measurement: 128x128x64 in 3 stages (97 KiB) fit two
// blocks a multiprocessor, which caps the registers at 128; the copies run
// one step ahead.
// TWOBLOCKS: moe.dynamic_smem = 99328 : i64, moe.tile = array<i64: 128, 128, 64>, moe.variant = "wgmma", nvvm.minctasm = 2 : i32
// TWOBLOCKS: memref.view {{.*}} to memref<3x128x64xbf16, #gpu.address_space<workgroup>>
// TWOBLOCKS: nvgpu.device_async_wait {{.*}} {numGroups = 0 : i32}

// BADN: error: moe-gpu-grouped-matmul-kernel: n=384 k=320 experts=3: block-n=256 must be 128 or 256 and divide n
