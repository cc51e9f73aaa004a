//===- GPUSharedBuffers.cpp - Host buffers that GPU kernels can reach -----===//
//
// memref.alloc -> gpu.alloc host_shared and memref.dealloc -> gpu.dealloc in
// the functions that launch kernels, so that the buffers the host loops and
// the kernels share are device-accessible.
//
// A deallocation is emitted in its asynchronous form on a stream of its own,
// waited for at once:
//
//   %s = gpu.wait async
//   %d = gpu.dealloc async [%s] %buffer
//   gpu.wait [%d]
//
// because gpu-to-llvm lowers only that form of gpu.dealloc (a synchronous one
// would stay in the LLVM dialect behind unrealized casts, and the module
// could not be translated). The launches before it are synchronous, so the
// buffer is free to go.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEGPUSHAREDBUFFERSPASS
#include "moe-mlir/Codegen/GPU/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {
struct MoEGPUSharedBuffersPass
    : public moe::impl::MoEGPUSharedBuffersPassBase<MoEGPUSharedBuffersPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      bool launchesKernels =
          func.walk([](gpu::LaunchFuncOp) { return WalkResult::interrupt(); })
              .wasInterrupted();
      if (!launchesKernels)
        continue;
      SmallVector<memref::AllocOp> allocs;
      SmallVector<memref::DeallocOp> deallocs;
      func.walk([&](Operation *op) {
        if (auto alloc = dyn_cast<memref::AllocOp>(op))
          allocs.push_back(alloc);
        else if (auto dealloc = dyn_cast<memref::DeallocOp>(op))
          deallocs.push_back(dealloc);
      });
      // gpu.alloc takes no symbol operands: such a buffer cannot move, and
      // the pass fails before it rewrites anything in the function.
      for (memref::AllocOp alloc : allocs)
        if (!alloc.getSymbolOperands().empty()) {
          alloc.emitOpError("has symbol operands, which gpu.alloc cannot "
                            "take; it stays a host allocation");
          return signalPassFailure();
        }
      for (memref::AllocOp alloc : allocs) {
        rewriter.setInsertionPoint(alloc);
        auto shared = gpu::AllocOp::create(
            rewriter, alloc.getLoc(), alloc.getType(),
            /*asyncToken=*/Type(), /*asyncDependencies=*/ValueRange(),
            alloc.getDynamicSizes(), /*symbolOperands=*/ValueRange(),
            /*hostShared=*/true);
        rewriter.replaceOp(alloc, shared.getMemref());
      }
      Type token = gpu::AsyncTokenType::get(&getContext());
      for (memref::DeallocOp dealloc : deallocs) {
        rewriter.setInsertionPoint(dealloc);
        Location loc = dealloc.getLoc();
        auto stream = gpu::WaitOp::create(rewriter, loc, token, ValueRange());
        auto freed = gpu::DeallocOp::create(rewriter, loc, token,
                                            ValueRange{stream.getAsyncToken()},
                                            dealloc.getMemref());
        gpu::WaitOp::create(rewriter, loc, Type(),
                            ValueRange{freed.getAsyncToken()});
        rewriter.eraseOp(dealloc);
      }
    }
  }
};
} // namespace
