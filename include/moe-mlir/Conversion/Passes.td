//===- Passes.td - Conversions out of the moe dialect ------*- tablegen -*-===//

#ifndef MOE_CONVERSION_PASSES_TD
#define MOE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// MoEToLinalg
//===----------------------------------------------------------------------===//

def ConvertMoEToLinalgPass : Pass<"convert-moe-to-linalg"> {
  let summary = "Lower the moe dialect's level-1 and level-2 ops to linalg, "
                "tensor, scf, arith and math";
  let description = [{
    The portable lowering: every `moe.route`, `moe.dispatch`, `moe.experts`,
    `moe.combine`, `moe.grouped_matmul` and `moe.gate` becomes upstream ops
    on tensors (`linalg`, `tensor`, `scf`, `arith`, `math`), with no runtime
    calls, so that any MLIR-based compiler can take the result (a
    `moe.all_to_all` of an expert-parallel layer is left for
    `convert-moe-to-runtime`). Run `moe-expand-layer`
    first: a remaining `moe.layer` makes the pass fail with a diagnostic at
    the op.

    - `moe.route`: one `scf.for` over tokens; per token, scalar passes over
      the experts (max, softmax sum, group scores, k selection passes), so
      that no `[T, E]` temporary beyond the logits is needed.
    - `moe.gate`: one `scf.for` over tiles of 16 tokens (the last holds the
      remainder); each computes its `[n, E]` logits with a zero-filled
      `linalg.matmul` (router weight transposed, f32) and the bias add,
      then routes its n rows as `moe.route` does into static `[16, k]`
      tensors, inserted at the tile's rows of the results: no `[T, E]`
      logits, and bitwise the results of the unfused matmul and route.
    - `moe.dispatch`: counting and placement loops (`scf.for`) that build the
      routing plan, then a `linalg.generic` gather of the token rows.
    - `moe.experts`: an `scf.for` over experts; each takes its segment of
      rows with `tensor.extract_slice` and runs `linalg.matmul`s (weights
      transposed through indexing maps, f32 accumulation) and a
      `linalg.generic` activation.
    - `moe.combine`: one `linalg.generic` per token and feature with a
      reduction over k, in j order.
    - `moe.grouped_matmul`: an `scf.for` over experts; each segment of rows
      (a `tensor.extract_slice`, or with a gather a `linalg.generic` that
      reads the token rows through the indices) runs one `linalg.matmul`
      (B transposed, f32 accumulation from zeros or the bias row) per part
      of its weight (the operands of a `tensor.concat` along N are read in
      place), then one `linalg.generic` epilogue (activation, per-row scale,
      rounding).

    Example: `moe-opt --moe-expand-layer --convert-moe-to-linalg layer.mlir`
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

//===----------------------------------------------------------------------===//
// MoEToRuntime
//===----------------------------------------------------------------------===//

def ConvertMoEToRuntimePass
    : Pass<"convert-moe-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower moe.all_to_all to calls of the runtime's layer "
                "communicator";
  let description = [{
    Each `moe.all_to_all` (on tensors) becomes two calls of the runtime's C
    ABI (`moe-runtime/MoERuntime.h`): `moe_rt_layer_exchange_counts`, which
    fills a fresh `[R]` buffer with the counts every rank sends here, a sum
    of those counts that sizes the received rows' buffer, and
    `moe_rt_layer_all_to_all`, which checks the counts on every rank before
    moving rows. The tensors meet the buffers through
    `bufferization.to_buffer` (read-only; rows at any offset, contiguous
    within a row) and `bufferization.to_tensor` (`restrict`), so the pass
    runs before One-Shot Bufferize, and the calls take addresses as `i64`,
    which any target's C ABI passes as it passes a pointer.

    The calls return nothing: a failed exchange leaves a sticky error that
    the caller takes with `moe_rt_layer_take_error()` after the layer, and
    every exchange after it receives zero rows (see docs/Runtime.md). The
    ops on other dialects are left as they are, so the pass composes with
    `convert-moe-to-linalg` in either order.

    With `gpu-rows`, the rows are where GPU kernels put them (the layers of
    `moe-gpu-pipeline`): the calls are `moe_rt_layer_gpu_exchange_counts`
    and `moe_rt_layer_gpu_all_to_all`, with the same arguments, on the
    runtime's GPU layer communicator (NCCL by default; the counts stay
    host-readable memory).

    Example: `moe-opt --moe-expert-parallel=ranks=2 --convert-moe-to-runtime`
  }];
  let options = [
    Option<"gpuRows", "gpu-rows", "bool", /*default=*/"false",
           "The rows are GPU memory: call the runtime's GPU layer "
           "communicator (moe_rt_layer_gpu_*)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // MOE_CONVERSION_PASSES_TD
