//===- MoEDialect.td - The moe dialect ---------------------*- tablegen -*-===//

#ifndef MOE_DIALECT_MOE_IR_MOEDIALECT_TD
#define MOE_DIALECT_MOE_IR_MOEDIALECT_TD

include "mlir/IR/OpBase.td"

def MoE_Dialect : Dialect {
  let name = "moe";
  let cppNamespace = "::mlir::moe";
  let summary = "Mixture-of-Experts layers and their parts";
  let description = [{
    The `moe` dialect describes a Mixture-of-Experts layer at two levels.

    Level 0 is the whole layer, `moe.layer`: the op another compiler creates
    when it embeds an MoE block. Level 1 splits it into its parts, on tensors:
    `moe.route` (top-k gating), `moe.dispatch` (tokens to an expert-major
    buffer, with capacity and drops), `moe.experts` (every expert's FFN over
    its segment of that buffer) and `moe.combine` (the gate-weighted sum of a
    token's expert outputs).

    The semantics every lowering and the reference implement are in
    `docs/Semantics.md`. Weights use PyTorch's Linear layout `[out, in]`:
    router `[E, D]`, gate and up `[E, F, D]`, down `[E, D, F]`. The token
    count may be dynamic; D, F and E are static.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

class MoE_Op<string mnemonic, list<Trait> traits = []>
    : Op<MoE_Dialect, mnemonic, traits>;

#endif // MOE_DIALECT_MOE_IR_MOEDIALECT_TD
