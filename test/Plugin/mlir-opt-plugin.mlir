// The moe plugin in upstream mlir-opt (the installed /usr/lib/llvm-22 one,
// not moe-opt): the dialect plugin parses, verifies and prints moe ops; the
// pass plugin adds moe's passes and moe-cpu-pipeline.
//
// Passes a plugin registers are not command-line flags of mlir-opt (its pass
// flags are made before the plugin is loaded): they run through
// --pass-pipeline, and --help lists them.

// RUN: mlir-opt %s --load-dialect-plugin=%moe_plugin --verify-roundtrip \
// RUN: | mlir-opt --load-dialect-plugin=%moe_plugin \
// RUN: | FileCheck %s --check-prefix=ROUNDTRIP

// RUN: mlir-opt --load-dialect-plugin=%moe_plugin --load-pass-plugin=%moe_plugin --help \
// RUN: | FileCheck %s --check-prefix=HELP

// RUN: mlir-opt %s --load-dialect-plugin=%moe_plugin --load-pass-plugin=%moe_plugin \
// RUN:     --pass-pipeline='builtin.module(moe-expand-layer)' \
// RUN: | FileCheck %s --check-prefix=EXPAND

// RUN: mlir-opt %s --load-dialect-plugin=%moe_plugin --load-pass-plugin=%moe_plugin \
// RUN:     --pass-pipeline='builtin.module(moe-expand-layer,convert-moe-to-linalg)' \
// RUN: | FileCheck %s --check-prefix=LINALG

// The dialect plugin registers the passes too, as upstream's standalone
// plugin does, so that one flag is enough.
// RUN: mlir-opt %s --load-dialect-plugin=%moe_plugin \
// RUN:     --pass-pipeline='builtin.module(moe-cpu-pipeline)' \
// RUN: | FileCheck %s --check-prefix=LLVM

// Without the dialect plugin mlir-opt does not know moe ops.
// RUN: not mlir-opt %s --load-pass-plugin=%moe_plugin 2>&1 \
// RUN: | FileCheck %s --check-prefix=NODIALECT

// ROUNDTRIP-LABEL: func.func @layer(
// ROUNDTRIP-SAME: %[[X:[^:]+]]: tensor<?x16xf32>, %[[WR:[^:]+]]: tensor<4x16xf32>, %[[WU:[^:]+]]: tensor<4x32x16xf32>, %[[WD:[^:]+]]: tensor<4x16x32xf32>)
// ROUNDTRIP: %[[Y:[^ ]+]] = moe.layer %[[X]] router(%[[WR]]) up(%[[WU]]) down(%[[WD]])
// ROUNDTRIP-SAME: activation = #moe.activation<relu>
// ROUNDTRIP-SAME: capacity = #moe.capacity<dropless>
// ROUNDTRIP-SAME: router = #moe.router<k = 2>
// ROUNDTRIP-SAME: : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4x32x16xf32>, tensor<4x16x32xf32>) -> tensor<?x16xf32>
// ROUNDTRIP: return %[[Y]] : tensor<?x16xf32>

// HELP-DAG: --convert-moe-to-linalg
// HELP-DAG: --moe-expand-layer
// HELP-DAG: --moe-cpu-pipeline

// EXPAND-LABEL: func.func @layer(
// EXPAND-SAME: %[[X:[^:]+]]: tensor<?x16xf32>, %[[WR:[^:]+]]: tensor<4x16xf32>, %[[WU:[^:]+]]: tensor<4x32x16xf32>, %[[WD:[^:]+]]: tensor<4x16x32xf32>)
// EXPAND: %[[LOGITS:[^ ]+]] = linalg.matmul {{.*}} ins(%[[X]], %[[WR]] : tensor<?x16xf32>, tensor<4x16xf32>)
// EXPAND: %[[W:[^ ]+]], %[[IDS:[^ ]+]] = moe.route %[[LOGITS]] {router = #moe.router<k = 2>}
// EXPAND: %[[BUF:[^ ]+]], %[[OFF:[^ ]+]], %[[ROWS:[^ ]+]], %{{[^ ]+}}, %{{[^ ]+}} = moe.dispatch %[[X]], %[[IDS]] {capacity = #moe.capacity<dropless>, num_experts = 4 : i64}
// EXPAND: %[[OUT:[^ ]+]] = moe.experts %[[BUF]], %[[OFF]] up(%[[WU]]) down(%[[WD]]) {activation = #moe.activation<relu>}
// EXPAND: %[[Y:[^ ]+]] = moe.combine %[[OUT]], %[[ROWS]], %[[W]]
// EXPAND-NOT: moe.layer
// EXPAND: return %[[Y]] : tensor<?x16xf32>

// LINALG-LABEL: func.func @layer(
// LINALG-NOT: moe.
// LINALG: linalg.matmul
// LINALG-NOT: moe.
// LINALG: scf.for
// LINALG-NOT: moe.
// LINALG: return %{{.*}} : tensor<?x16xf32>

// LLVM-NOT: {{(moe|linalg|tensor|scf|memref|bufferization|arith|func)\.}}
// LLVM: llvm.func @layer(
// LLVM-NOT: {{(moe|linalg|tensor|scf|memref|bufferization|arith|func)\.}}
// LLVM: llvm.func @_mlir_ciface_layer(
// LLVM-NOT: {{(moe|linalg|tensor|scf|memref|bufferization|arith|func)\.}}

// NODIALECT: error: Dialect `moe' not found for custom op 'moe.layer'

func.func @layer(%x: tensor<?x16xf32>, %wr: tensor<4x16xf32>,
                 %wu: tensor<4x32x16xf32>, %wd: tensor<4x16x32xf32>)
    -> tensor<?x16xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 2>,
         capacity = #moe.capacity<dropless>,
         activation = #moe.activation<relu>}
       : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4x32x16xf32>,
          tensor<4x16x32xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
