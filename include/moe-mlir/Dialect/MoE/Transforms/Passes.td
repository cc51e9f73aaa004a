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
    5. `moe.combine` of the expert outputs with the gate weights;
    6. with shared experts, a second `moe.experts` of one expert whose
       segment is every token, added to the combined output (scaled by the
       sigmoid of the shared sigmoid gate's logit when there is one).

    When the router applies the gate weights to the expert inputs
    (`weights_on = input`), the dispatch scales the rows and the combine
    sums unweighted. A capacity with `dropped = identity` hands the tokens
    to the combine, which passes dropped assignments through.

    The layer's dropped count, when it has one, is the dispatch's.

    Example: `moe-opt --moe-expand-layer layer.mlir`
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

//===----------------------------------------------------------------------===//
// Expert parallelism
//===----------------------------------------------------------------------===//

def MoEExpertParallelPass
    : Pass<"moe-expert-parallel", "::mlir::ModuleOp"> {
  let summary = "Shard the routed experts over R ranks, with moe.all_to_all "
                "exchanges of the tokens' rows";
  let description = [{
    Rewrites every routed `moe.experts` (the one fed by a `moe.dispatch`,
    as `moe-expand-layer` builds it) so that each of the R ranks runs only
    its E/R consecutive experts on the rows every rank routed to them. On
    each rank, on its own tokens:

    1. the router, `moe.route` and `moe.dispatch` stay as they are (the
       router is replicated); the dispatch groups the rows by expert, so by
       owner, and the rows for rank j are those between offsets
       `j * E/R` and `(j + 1) * E/R`;
    2. `moe.all_to_all` sends each owner its rows and, as rows of one i32,
       each row's expert among the owner's;
    3. the owner groups what it received by expert (`moe.dispatch`, k = 1,
       dropless), runs `moe.experts` with its E/R experts' weights and puts
       the outputs back in the received order (`moe.combine` with weight
       1, exact);
    4. `moe.all_to_all` returns the outputs, in the order the first
       dispatch made them, to the layer's `moe.combine`, which sums each
       token's k outputs in slot order as the single-rank layer does.

    Shared experts (a `moe.experts` not fed by a dispatch) stay on each
    rank's tokens. The routed experts' weights and biases must be arguments
    of the function: their leading dimension becomes E/R (each rank is
    given its own experts), and the function gets
    `moe.expert_parallel = {ranks = R}`. After a failed exchange (see
    `convert-moe-to-runtime`) the rows that did not arrive read as zeros.

    A fixed capacity is global: the first dispatch keeps every assignment,
    each row's slot j (and under the probability policy its gate weight)
    travels with it, and the owner puts what it received in the global
    priority order (a stable dispatch by slot) before applying the capacity,
    so that it keeps what the single-rank layer keeps. A kept flag per row
    comes back with the outputs: the layer's combine sees the dropped
    assignments' rows as -1, and the dropped count is this rank's dropped
    assignments.

    Located errors: R that does not divide E; a capacity factor (it would
    need every rank's token count); router statistics (their counts and
    losses are over all ranks' tokens); weights that are not function
    arguments used only there; an output read by another op than
    `moe.combine`; a function that is called.

    With `ranks = 1` (the default) the pass changes nothing.

    Example: `moe-opt --moe-expand-layer --moe-expert-parallel=ranks=4`
  }];
  let options = [
    Option<"ranks", "ranks", "int64_t", /*default=*/"1",
           "R: the ranks the experts are spread over">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

//===----------------------------------------------------------------------===//
// Level-2 kernels
//===----------------------------------------------------------------------===//

def MoEFuseGatingPass : Pass<"moe-fuse-gating"> {
  let summary = "Fuse the router matmul and moe.route into moe.gate";
  let description = [{
    Replaces every `moe.route` whose logits are the router matmul of
    `moe-expand-layer` by one `moe.gate`: the logits must be a
    `linalg.matmul` with the weight transposed through its indexing maps
    (`z[t, e] = sum_d x[t, d] * Wr[e, d]`) into a zero-filled f32 tensor,
    optionally followed by the `linalg.generic` that adds a router bias
    `[E]` to each row. The route's selection bias and router attribute move
    to the gate.

    Nothing is fused when the logits (or the matmul's result under a bias)
    have another user: router statistics read the whole `[T, E]` logits,
    which the gate's lowering never materialises.

    The gate's results are bitwise those of the matmul and route it
    replaces: its lowering computes the same f32 products in the same order
    and routes each token with the same code.

    Example: `moe-opt --moe-expand-layer --moe-fuse-gating layer.mlir`
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def MoEExpertsToGroupedMatmulPass : Pass<"moe-experts-to-grouped-matmul"> {
  let summary = "Rewrite moe.experts into moe.grouped_matmul products with "
                "fused epilogues";
  let description = [{
    Replaces every `moe.experts` by its products as `moe.grouped_matmul`
    ops over the same offsets: the up (and gate) projection giving the
    hidden state `[R, F]`, then the down projection giving `[R, D]`; each
    expert bias becomes the product's `bias`.

    - `fuse-activation`: the activation runs in the first product's
      epilogue. For a gated activation, gate and up are concatenated along
      N into one `[E, 2F, D]` weight (gate first) and run as one product;
      the biases likewise (a zero half stands in for a missing one). The
      `tensor.concat` of the weights is an op on the weights alone: constant
      folding or a weight-packing step can hoist it out of the layer, and
      until then the lowering reads its operands in place (no copy at run
      time). Off: one product per projection, without epilogue, and the
      activation as a `linalg.generic` on the `[R, F]` results.
    - `fuse-gather`: when the experts' input is the `dispatched` result of
      a `moe.dispatch` without `scale`, the first product reads the
      dispatch's tokens through its `sources` result
      (`gather(%sources)`) instead of the materialised `[R, D]` buffer.
    - `fuse-scale`: when the experts' output feeds only a `moe.combine`
      (without `identity`) of the same dispatch's rows, on f32 data, the
      down projection's epilogue multiplies each row by its assignment's
      gate weight (a per-row `[R]` scale gathered from the combine's
      weights through the routing plan) and the combine sums with weights
      of one (exact: `1.0 * x == x`). bf16 and f16 layers keep the weights
      in the combine, because the expert output rows are rounded to the
      element type before they are weighted (docs/Semantics.md).

    Example: `moe-opt --moe-experts-to-grouped-matmul="fuse-scale=false" layer.mlir`
  }];
  let options = [
    Option<"fuseActivation", "fuse-activation", "bool", /*default=*/"true",
           "Run the activation in the first product's epilogue, gate and up "
           "as one [E, 2F, D] product">,
    Option<"fuseGather", "fuse-gather", "bool", /*default=*/"true",
           "Read the first product's rows from the tokens through the "
           "dispatch's sources instead of the dispatched buffer">,
    Option<"fuseScale", "fuse-scale", "bool", /*default=*/"true",
           "Apply the combine's gate weights in the down projection's "
           "epilogue (f32 layers; the combine then sums unweighted)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

def MoECostPass : Pass<"moe-cost", "::mlir::ModuleOp"> {
  let summary = "Report the parameters, FLOPs, memory and traffic of every "
                "moe.layer";
  let description = [{
    An analysis: the IR is left unchanged. For every `moe.layer`, in module
    order, writes one report (text, or one JSON document for the module with
    `format=json`) to stdout or to the file named by `output`. It reads only
    the layer's static shapes and attributes: `D` model width, `F` expert
    hidden width, `E` experts, `k` experts per token, `P` projections per
    expert (3 for the gated `swiglu` and `geglu`: gate, up, down; 2
    otherwise: up, down) and `b` bytes per element of the layer's element
    type. Counts and byte sizes are exact integers; derived rates are printed
    with a fixed number of decimals. The formulas, with a worked example and
    the Mixtral-8x7B cross-check, are in `docs/CostModel.md`.

    Parameters:
    - router: `E * D` weights, plus `E` for the router bias and `E` for the
      selection bias when the layer has them (both are learned `[E]`
      vectors, e.g. DeepSeek-V3's score correction bias);
    - one expert: `P * D * F` (each projection `D * F`);
    - total: router + `E` experts; active (what one token uses): router +
      `k` experts.

    FLOPs per token, counting a multiply-add as 2 FLOPs and leaving out the
    elementwise work (scores, top-k, activation, combine):
    - router matmul: `2 * E * D`;
    - routed experts: `k * P * 2 * D * F`;
    - total: router + experts;
    - dense equivalents: one expert's `P * 2 * D * F` (a dense FFN of width
      `F`), and `2 * active` (a dense FFN with as many weights as the active
      parameters; its width `active / (P * D)` is reported too).

    Weight memory: total and active weights at f32 (4 bytes), bf16 and f16
    (2 bytes) and at the layer's own element type. Router and expert weights
    take the element size; the router and selection biases stay f32 (4
    bytes) in every case, as the op requires.

    Activation memory per token, in the element type: the token in (`D`),
    its `k` dispatched rows (`k * D`), the experts' hidden activations
    (`k * F`, after the activation and gating), the experts' output rows
    (`k * D`) and the token out (`D`); plus the routing state in f32/i32
    (`E` logits, `k` weights, `k` expert ids, `k` row indices:
    `4 * (E + 3 * k)` bytes).

    All-to-All bytes per token, expert parallelism over `R = ep-ranks`
    ranks, each owning `E / R` experts (the estimate assumes the experts
    are spread evenly; it uses `(R - 1) / R` even when `R` does not divide
    `E`): a token sends each of its `k` rows
    of `D` elements to the rank owning the expert (dispatch) and receives
    the expert's output row back (combine). Under uniform routing an
    expert is on another rank with probability `(R - 1) / R`, so the
    expected traffic is `k * D * b * (R - 1) / R` bytes each way and
    `2 * k * D * b * (R - 1) / R` in all; rows bound for the same rank are
    not merged. Also reported: the all-remote bound `2 * k * D * b` and the
    expected bytes for `tokens` tokens.

    Between nodes, with `ranks-per-node = G` (N = R / G nodes, E / N
    experts each): a token picks M nodes (`node-limit`, DeepSeek-V3's
    node-limited routing; all N without it) and its k experts uniformly
    among theirs; a chosen node is used unless all k experts fall
    elsewhere, with probability `C(E (M - 1) / N, k) / C(E M / N, k)`. The
    token crosses once to each used node other than its own (which a chosen
    node is with probability 1 / N) and is forwarded within the node, as
    DeepEP does; each node's outputs come back summed, once: the expected
    inter-node bytes are `remote nodes * D * b` each way.

    Memory-bound floor: the time to read, once, the weights that a batch of
    `T = tokens` tokens needs, at `B = bandwidth-gbs` GB/s (10^9 bytes/s).
    The batch touches at most `min(E, T * k)` distinct experts (the worst
    case, every assignment to a new expert, which is what the floor
    assumes); the floor is (router weights and biases + `min(E, T * k)`
    experts' weights, at the element type) bytes / `B`, in microseconds.
    The expected number of distinct experts under uniform routing,
    `E * (1 - (1 - k / E)^T)`, and its floor are reported next to it.
    Compute, caches, activations and the All-to-All are ignored.

    Example:

    ```sh
    moe-opt --moe-cost="format=json ep-ranks=16 tokens=64" -o /dev/null layer.mlir
    ```
  }];
  let options = [
    Option<"format", "format", "::mlir::moe::CostFormat",
           /*default=*/"::mlir::moe::CostFormat::text",
           "Report format: `text` (default) or `json` (one document per "
           "module with a `layers` array); another value is rejected when "
           "the options are parsed", [{::llvm::cl::values(
             clEnumValN(::mlir::moe::CostFormat::text, "text",
                        "a table per layer"),
             clEnumValN(::mlir::moe::CostFormat::json, "json",
                        "one JSON document"))}]>,
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "File to write the report to; `-` (default) is stdout">,
    Option<"epRanks", "ep-ranks", "int64_t", /*default=*/"8",
           "Expert-parallel degree R of the All-to-All estimate (>= 1)">,
    Option<"bandwidthGBs", "bandwidth-gbs", "double", /*default=*/"16.0",
           "Memory bandwidth B in GB/s (10^9 bytes/s) of the weight-read "
           "floor (> 0)">,
    Option<"ranksPerNode", "ranks-per-node", "int64_t", /*default=*/"0",
           "G: ranks per node of the inter-node estimate (0: none; must "
           "divide ep-ranks)">,
    Option<"nodeLimit", "node-limit", "int64_t", /*default=*/"0",
           "M: each token's experts on at most M nodes (DeepSeek-V3's "
           "node-limited routing; 0: no limit; needs ranks-per-node)">,
    Option<"tokens", "tokens", "int64_t", /*default=*/"1",
           "Batch size T of the weight-read floor and of the All-to-All "
           "bytes per batch (>= 1)">
  ];
}

#endif // MOE_DIALECT_MOE_TRANSFORMS_PASSES_TD
