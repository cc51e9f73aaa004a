//===- InitAll.h - Register the moe dialect, passes and pipelines -*- C++ -*-//

#ifndef MOE_MLIR_INITALL_H
#define MOE_MLIR_INITALL_H

namespace mlir {
class DialectRegistry;
namespace moe {
/// The moe dialect and the upstream dialects its pipelines produce.
void registerAllDialects(DialectRegistry &registry);
/// moe passes, conversions and named pipelines.
void registerAllPasses();
} // namespace moe
} // namespace mlir

#endif // MOE_MLIR_INITALL_H
