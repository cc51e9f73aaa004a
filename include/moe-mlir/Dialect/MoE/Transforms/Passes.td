//===- Passes.td - Transformations of the moe dialect ------*- tablegen -*-===//

#ifndef MOE_DIALECT_MOE_TRANSFORMS_PASSES_TD
#define MOE_DIALECT_MOE_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Layer decomposition
//===----------------------------------------------------------------------===//

def MoEExpandLayerPass : Pass<"moe-expand-layer"> {
  let summary = "Split moe.layer into the router matmul, route, dispatch, "
                "experts and combine";
  let description = [{
    Replaces every `moe.layer` by its level-1 parts:

    1. the router logits `x Wr^T` (+ router bias) as a `linalg.matmul` with
       f32 accumulation (`linalg.generic` adds the bias);
    2. `moe.route` on the logits;
    3. `moe.dispatch` of the tokens by the chosen expert ids;
    4. `moe.experts` on the dispatched buffer;
    5. `moe.combine` of the expert outputs with the gate weights.

    The layer's dropped count, when it has one, is the dispatch's.

    Example: `moe-opt --moe-expand-layer layer.mlir`
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

//===----------------------------------------------------------------------===//
// Calling convention
//===----------------------------------------------------------------------===//

def MoEEmitCInterfacePass : Pass<"moe-emit-c-interface", "::mlir::ModuleOp"> {
  let summary = "Give every public function a C interface wrapper";
  let description = [{
    Sets `llvm.emit_c_interface` on every public `func.func` with a body, so
    that `convert-func-to-llvm` also emits `_mlir_ciface_<name>`, which takes
    memref descriptors by pointer: the entry point `moe-run` and C callers
    use.
  }];
}

#endif // MOE_DIALECT_MOE_TRANSFORMS_PASSES_TD
