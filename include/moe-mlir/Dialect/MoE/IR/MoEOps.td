//===- MoEOps.td - Operations of the moe dialect -----------*- tablegen -*-===//

#ifndef MOE_DIALECT_MOE_IR_MOEOPS_TD
#define MOE_DIALECT_MOE_IR_MOEOPS_TD

include "moe-mlir/Dialect/MoE/IR/MoEDialect.td"
include "moe-mlir/Dialect/MoE/IR/MoEAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def MoE_FloatTensor : RankedTensorOf<[F32, BF16, F16]>;
def MoE_F32Tensor : RankedTensorOf<[F32]>;
def MoE_I32Tensor : RankedTensorOf<[I32]>;
def MoE_Count : 0DTensorOf<[I64]>;
def MoE_I64Vector : 1DTensorOf<[I64]>;
def MoE_F32Scalar : 0DTensorOf<[F32]>;

//===----------------------------------------------------------------------===//
// Level 0: the whole layer
//===----------------------------------------------------------------------===//

def MoE_LayerOp : MoE_Op<"layer", [Pure, AttrSizedOperandSegments]> {
  let summary = "a whole Mixture-of-Experts layer";
  let description = [{
    Routes each of the T tokens `[T, D]` to k of the E experts, runs each
    expert's FFN on the tokens it received and returns the gate-weighted sum
    `[T, D]`. This is the op a framework or another compiler creates; the
    `moe-expand-layer` pass splits it into `moe.route`, `moe.dispatch`,
    `moe.experts` and `moe.combine`.

    Operands: the tokens; the router weight `[E, D]` with an optional router
    bias `[E]` (part of the logits) and an optional selection bias `[E]`
    (changes which experts win, never the weights); the expert weights: gate
    `[E, F, D]` (gated activations only), up `[E, F, D]`, down `[E, D, F]`,
    each with an optional bias (`gate_bias`, `up_bias` `[E, F]`,
    `down_bias` `[E, D]`: GPT-OSS).

    Optional shared experts, which every token goes through, unweighted, and
    whose output is added to the routed one (DeepSeek, Qwen2-MoE, Llama-4):
    one FFN `shared_gate` `[S, D]` (gated activations only), `shared_up`
    `[S, D]`, `shared_down` `[D, S]` with the routed experts' activation
    (several shared experts of width F are one of width S = n * F). An
    optional `shared_sigmoid_gate` `[1, D]` scales the shared output of
    token x by `sigmoid(x . w)` (Qwen2-MoE).

    Tokens and weights share one element type (f32, bf16 or f16); router
    and selection biases are f32, expert biases have the weights' type.

    When the capacity policy can drop assignments the layer must also return
    the number of dropped assignments (`tensor<i64>`), so that no token is
    lost silently. A dropless layer may return it too (always zero).

    Training-time statistics are three more optional results, all or none,
    after the dropped count: the router's assignments per expert
    (`tensor<Exi64>`, before capacity), the load-balancing loss
    `E * sum_e (count_e / T) * mean_t(softmax(logits_t)_e)` (Switch
    Transformer, generalised to top-k as in Hugging Face) and the router
    z-loss `mean_t(logsumexp(logits_t)^2)` (ST-MoE), each a `tensor<f32>`;
    both losses are 0 when T = 0.

    Example (Mixtral-style):

    ```mlir
    %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
           activation = #moe.activation<swiglu>,
           capacity = #moe.capacity<dropless>,
           router = #moe.router<k = 2, order = topk_softmax, renormalize = true>}
         : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x128x64xf32>,
            tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins
    MoE_FloatTensor:$tokens,
    MoE_FloatTensor:$router_weight,
    Optional<MoE_F32Tensor>:$router_bias,
    Optional<MoE_F32Tensor>:$selection_bias,
    Optional<MoE_FloatTensor>:$gate_weight,
    Optional<MoE_FloatTensor>:$gate_bias,
    MoE_FloatTensor:$up_weight,
    Optional<MoE_FloatTensor>:$up_bias,
    MoE_FloatTensor:$down_weight,
    Optional<MoE_FloatTensor>:$down_bias,
    Optional<MoE_FloatTensor>:$shared_gate,
    Optional<MoE_FloatTensor>:$shared_up,
    Optional<MoE_FloatTensor>:$shared_down,
    Optional<MoE_FloatTensor>:$shared_sigmoid_gate,
    MoE_RouterAttr:$router,
    MoE_CapacityAttr:$capacity,
    MoE_ActivationAttr:$activation
  );
  // After the output: [dropped count] [expert counts, aux loss, z-loss],
  // told apart by position and type (the verifier checks the pattern); the
  // accessors below name them.
  let results = (outs MoE_FloatTensor:$output,
                      Variadic<AnyRankedTensor>:$extra_results);
  let assemblyFormat = [{
    $tokens `router` `(` $router_weight `)`
      (`bias` `(` $router_bias^ `)`)?
      (`selection_bias` `(` $selection_bias^ `)`)?
      (`gate` `(` $gate_weight^ `)`)? (`gate_bias` `(` $gate_bias^ `)`)?
      `up` `(` $up_weight `)` (`up_bias` `(` $up_bias^ `)`)?
      `down` `(` $down_weight `)` (`down_bias` `(` $down_bias^ `)`)?
      (`shared_gate` `(` $shared_gate^ `)`)?
      (`shared_up` `(` $shared_up^ `)`)?
      (`shared_down` `(` $shared_down^ `)`)?
      (`shared_sigmoid_gate` `(` $shared_sigmoid_gate^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool hasSharedExperts() { return static_cast<bool>(getSharedUp()); }
    /// The dropped count, or null.
    ::mlir::Value getDropped();
    /// The statistics results, or null when the layer has none.
    ::mlir::Value getExpertCounts();
    ::mlir::Value getAuxLoss();
    ::mlir::Value getZLoss();
    bool hasStatistics() { return static_cast<bool>(getExpertCounts()); }
    int64_t getNumExperts() {
      return getRouterWeight().getType().getDimSize(0);
    }
    int64_t getHiddenSize() { return getUpWeight().getType().getDimSize(1); }
    int64_t getModelSize() { return getTokens().getType().getDimSize(1); }
  }];
}

//===----------------------------------------------------------------------===//
// Level 1: the parts
//===----------------------------------------------------------------------===//

def MoE_RouteOp : MoE_Op<"route", [Pure]> {
  let summary = "top-k gating: router logits to gate weights and expert ids";
  let description = [{
    For each token, turns its logits `[T, E]` (f32, router bias included)
    into k expert ids `[T, k]` (i32, best first) and k gate weights `[T, k]`
    (f32), as the router attribute says. An optional selection bias `[E]`
    is added to the scores for the selection only.

    Example:

    ```mlir
    %w, %ids = moe.route %logits {router = #moe.router<k = 2>}
        : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
    ```
  }];
  let arguments = (ins MoE_F32Tensor:$logits,
                       Optional<MoE_F32Tensor>:$selection_bias,
                       MoE_RouterAttr:$router);
  let results = (outs MoE_F32Tensor:$weights, MoE_I32Tensor:$expert_ids);
  let assemblyFormat = [{
    $logits (`selection_bias` `(` $selection_bias^ `)`)? attr-dict `:`
      functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MoE_DispatchOp : MoE_Op<"dispatch", [Pure, AttrSizedOperandSegments]> {
  let summary = "tokens to an expert-major buffer, with capacity and drops";
  let description = [{
    Groups the tokens' assignments `[T, k]` by expert into a contiguous
    buffer of `R = T * k` rows: expert 0's rows first, each expert's rows in
    token order. Returns the buffer `[R, D]`, the segment offsets `[E + 1]`
    (`offsets[E]` is the number of kept rows; the rows after it are zero
    padding), the row of each assignment `[T, k]` (-1 where dropped), the
    source token of each row `[R]` (-1 for padding) and the number of
    dropped assignments.

    Under a capacity, an expert keeps its first C assignments in priority
    order (all first choices in token order, then all second choices...);
    the others are dropped and counted. An expert id outside `[0, E)` is
    dropped and counted too.

    Under the `probability` drop policy, `priority(%w)` (`[T, k]`, f32, the
    gate weights) ranks each expert's assignments: it keeps the C with the
    largest weights, equal weights in the `position` order.

    With `scale(%w)` (`[T, k]`, f32), the row of assignment (t, j) is
    `w[t, j] * tokens[t]` (rounded to the tokens' type): the gate weight
    applied to the expert's input, as Llama-4 does.

    Example:

    ```mlir
    %buf, %offsets, %rows, %src, %dropped = moe.dispatch %x, %ids {
        capacity = #moe.capacity<factor = 1.25>, num_experts = 8 : i64}
      : (tensor<?x64xf32>, tensor<?x1xi32>) -> (tensor<?x64xf32>,
         tensor<9xi32>, tensor<?x1xi32>, tensor<?xi32>, tensor<i64>)
    ```
  }];
  let arguments = (ins MoE_FloatTensor:$tokens, MoE_I32Tensor:$expert_ids,
                       Optional<MoE_F32Tensor>:$priority,
                       Optional<MoE_F32Tensor>:$scale,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_experts,
                       MoE_CapacityAttr:$capacity);
  let results = (outs MoE_FloatTensor:$dispatched, MoE_I32Tensor:$offsets,
                      MoE_I32Tensor:$rows, MoE_I32Tensor:$sources,
                      MoE_Count:$dropped);
  let assemblyFormat = [{
    $tokens `,` $expert_ids (`priority` `(` $priority^ `)`)?
      (`scale` `(` $scale^ `)`)? attr-dict `:`
      functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MoE_ExpertsOp : MoE_Op<"experts", [Pure, AttrSizedOperandSegments]> {
  let summary = "every expert's FFN over its segment of a dispatched buffer";
  let description = [{
    For each expert e, applies its FFN to the rows
    `offsets[e] <= r < offsets[e + 1]` of the dispatched buffer `[R, D]`:
    `down(act(x gate^T + gate_bias, x up^T + up_bias)) + down_bias` for
    gated activations, `down(act(x up^T + up_bias)) + down_bias` otherwise
    (each bias optional: `[E, F]`, `[E, F]`, `[E, D]`). Rows past
    `offsets[E]` give zeros. Accumulation is in f32.

    Example:

    ```mlir
    %out = moe.experts %buf, %offsets gate(%wg) up(%wu) down(%wd) {
        activation = #moe.activation<swiglu>}
      : (tensor<?x64xf32>, tensor<9xi32>, tensor<8x128x64xf32>,
         tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins MoE_FloatTensor:$input, MoE_I32Tensor:$offsets,
                       Optional<MoE_FloatTensor>:$gate_weight,
                       Optional<MoE_FloatTensor>:$gate_bias,
                       MoE_FloatTensor:$up_weight,
                       Optional<MoE_FloatTensor>:$up_bias,
                       MoE_FloatTensor:$down_weight,
                       Optional<MoE_FloatTensor>:$down_bias,
                       MoE_ActivationAttr:$activation);
  let results = (outs MoE_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $offsets (`gate` `(` $gate_weight^ `)`)?
      (`gate_bias` `(` $gate_bias^ `)`)? `up` `(` $up_weight `)`
      (`up_bias` `(` $up_bias^ `)`)? `down` `(` $down_weight `)`
      (`down_bias` `(` $down_bias^ `)`)? attr-dict `:`
      functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MoE_CombineOp : MoE_Op<"combine", [Pure]> {
  let summary = "gate-weighted sum of each token's expert outputs";
  let description = [{
    `y[t] = sum over j with rows[t, j] >= 0 of weights[t, j] *
    expert_out[rows[t, j]]`, summed in j order with f32 accumulation. A
    dropped assignment (row -1) contributes zero, or, with
    `identity(%tokens)`, `weights[t, j] * tokens[t]` (the token passed
    through: Hugging Face's Switch Transformers). A per-token reduction,
    never an atomic scatter-add: deterministic and batch-invariant.

    Example:

    ```mlir
    %y = moe.combine %out, %rows, %w
      : (tensor<?x64xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins MoE_FloatTensor:$expert_output, MoE_I32Tensor:$rows,
                       MoE_F32Tensor:$weights,
                       Optional<MoE_FloatTensor>:$identity);
  let results = (outs MoE_FloatTensor:$output);
  let assemblyFormat = [{
    $expert_output `,` $rows `,` $weights (`identity` `(` $identity^ `)`)?
      attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MoE_RouterStatisticsOp : MoE_Op<"router_statistics", [Pure]> {
  let summary = "training-time statistics of a routing: counts and losses";
  let description = [{
    From the router logits `[T, E]` (f32) and the chosen expert ids
    `[T, k]`: the assignments per expert `[E]` (ids outside `[0, E)` are
    not counted), the load-balancing loss
    `E * sum_e (count_e / T) * mean_t(softmax(logits_t)_e)` and the z-loss
    `mean_t(logsumexp(logits_t)^2)`. Both losses are 0 when T = 0; a NaN or
    +inf logit makes them NaN.

    Example:

    ```mlir
    %counts, %aux, %z = moe.router_statistics %logits, %ids
      : (tensor<?x8xf32>, tensor<?x2xi32>)
        -> (tensor<8xi64>, tensor<f32>, tensor<f32>)
    ```
  }];
  let arguments = (ins MoE_F32Tensor:$logits, MoE_I32Tensor:$expert_ids);
  let results = (outs MoE_I64Vector:$expert_counts, MoE_F32Scalar:$aux_loss,
                      MoE_F32Scalar:$z_loss);
  let assemblyFormat = [{
    $logits `,` $expert_ids attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Expert parallelism: rows between ranks
//===----------------------------------------------------------------------===//

/// What an exchange between ranks touches: the communicator's ranks. An
/// exchange must run where the program puts it and exactly once, even when
/// its results are unused (the other ranks take part in it too).
def MoE_CommunicatorResource
    : Resource<"::mlir::moe::CommunicatorResource">;

def MoE_AllToAllOp : MoE_Op<"all_to_all", [
    MemoryEffects<[MemRead<MoE_CommunicatorResource>,
                   MemWrite<MoE_CommunicatorResource>]>]> {
  let summary = "rows exchanged between the R ranks of an expert-parallel "
                "layer: counts first, then rows";
  let description = [{
    A collective of the R ranks of the communicator the program runs on
    (R is the static size of the counts). `rows` holds the rows this rank
    sends, grouped by destination: the first `send_counts[0]` rows go to
    rank 0, the next `send_counts[1]` to rank 1, and so on. The ranks first
    exchange their counts (`received_counts[i]` is what rank i sends here),
    then the rows: `received` holds rank 0's rows for this rank first, then
    rank 1's, each in the order its sender had them. A row is `rows[i, ...]`:
    any element type, static trailing dimensions (a 1-D `rows` exchanges
    scalars, e.g. expert ids).

    Every rank executes the same exchanges in the same order. Counts that do
    not add up to the rows, or that disagree between ranks, fail on every
    rank with the same error before any row moves (the runtime's checked
    all-to-all); the layer returns that error instead of hanging. With one
    rank the exchange is the identity, and folds away.

    Example:

    ```mlir
    %recv, %recv_counts = moe.all_to_all %rows, %send_counts
      : (tensor<?x64xf32>, tensor<4xi64>) -> (tensor<?x64xf32>, tensor<4xi64>)
    ```
  }];
  let arguments = (ins AnyRankedTensor:$rows, MoE_I64Vector:$send_counts);
  let results = (outs AnyRankedTensor:$received,
                      MoE_I64Vector:$received_counts);
  let assemblyFormat = [{
    $rows `,` $send_counts attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// R: the ranks taking part.
    int64_t getNumRanks() {
      return ::llvm::cast<::mlir::RankedTensorType>(
                 getSendCounts().getType()).getDimSize(0);
    }
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Level 2: kernels
//===----------------------------------------------------------------------===//

def MoE_GroupedMatmulOp : MoE_Op<"grouped_matmul",
                                 [Pure, AttrSizedOperandSegments]> {
  let summary = "rows grouped by expert times each expert's matrix, with an "
                "optional fused epilogue and gather";
  let description = [{
    The grouped GEMM of a Mixture-of-Experts layer. The rows of the input
    are grouped by expert: the segment `offsets[e] <= r < offsets[e + 1]`
    (offsets `[E + 1]`, i32, as `moe.dispatch` returns them) is multiplied
    by expert e's matrix of the stacked weight `[E, N, K]`, which has
    PyTorch's Linear layout `[out, in]`:

    `acc[r, n] = bias[e, n] + sum_k A[r, k] * W[e, n, k]`

    accumulated in f32 (the optional `bias(%b)` `[E, N]` is the
    accumulator's initial value). Rows past `offsets[E]` give zeros.

    Optional parts, all fused into the product's epilogue or loads:

    - `gather(%rows_to_tokens)` (`[R]`, i32): the input is the token
      matrix `[T, K]` and row r reads `A[rows_to_tokens[r]]`, or zeros
      where the index is -1 (padding). This is `moe.dispatch`'s `sources`
      result: the product reads the tokens through the routing plan instead
      of a materialised `[R, K]` copy. Without it the input is `[R, K]`.
    - `activation` (a `#moe.activation`): for a gated activation (`swiglu`,
      `geglu`, `clamped_swiglu`) the weight stacks gate and up as
      `[E, 2F, K]`: columns `[0, F)` are the gate projection g, columns
      `[F, 2F)` the up projection u, and the result `[R, F]` is
      `act(g, u)`; gate and up run as one product. An ungated activation
      (`gelu`, `gelu_tanh`, `relu`, `silu`) applies elementwise to the
      `[R, N]` product.
    - `scale(%s)` (`[R]`, f32): each result row is multiplied by `s[r]`
      after the activation (the gate weight, applied in the down
      projection's epilogue instead of in `moe.combine`).

    The epilogue computes in f32; the result has the input's element type
    (f32, bf16 or f16), rounded once at the end, or f32 (the unrounded
    accumulator, for an epilogue that runs after the product). The weight
    and the bias have the input's element type.

    Example (the two products of a SwiGLU expert FFN, the first reading the
    tokens through the dispatch plan, the second scaling by the gate
    weights):

    ```mlir
    %h = moe.grouped_matmul %x, %w_gate_up, %offsets gather(%sources) {
           activation = #moe.activation<swiglu>}
       : (tensor<?x64xf32>, tensor<8x256x64xf32>, tensor<9xi32>,
          tensor<?xi32>) -> tensor<?x128xf32>
    %y = moe.grouped_matmul %h, %w_down, %offsets scale(%row_weights)
       : (tensor<?x128xf32>, tensor<8x64x128xf32>, tensor<9xi32>,
          tensor<?xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins MoE_FloatTensor:$input, MoE_FloatTensor:$weight,
                       MoE_I32Tensor:$offsets,
                       Optional<MoE_I32Tensor>:$gather,
                       Optional<MoE_FloatTensor>:$bias,
                       Optional<MoE_F32Tensor>:$scale,
                       OptionalAttr<MoE_ActivationAttr>:$activation);
  let results = (outs MoE_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight `,` $offsets (`gather` `(` $gather^ `)`)?
      (`bias` `(` $bias^ `)`)? (`scale` `(` $scale^ `)`)? attr-dict `:`
      functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumExperts() { return getWeight().getType().getDimSize(0); }
    /// N: the weight's output columns (2F for a gated activation).
    int64_t getNumColumns() { return getWeight().getType().getDimSize(1); }
    /// Whether the epilogue applies a gated activation over gate/up halves.
    bool hasGatedActivation() {
      auto act = getActivation();
      return act && isGated(*act);
    }
  }];
}

def MoE_GateOp : MoE_Op<"gate", [Pure, AttrSizedOperandSegments]> {
  let summary = "fused gating: router matmul, scores, selection, top-k and "
                "weights in one op";
  let description = [{
    The router of a layer in one op: for each token, the logits
    `z = x Wr^T + router_bias` (accumulated in f32 from tokens `[T, D]` and
    the router weight `[E, D]` in PyTorch's `[out, in]` layout, both f32,
    bf16 or f16; the optional router bias `[E]` is f32), then exactly what
    `moe.route` does with them: scores, the optional selection bias `[E]`
    (f32, for the selection only), group-limited selection, top-k, the
    softmax over the picks, renormalisation and scaling, as the router
    attribute says (docs/Semantics.md). Results: the gate weights `[T, k]`
    (f32) and the expert ids `[T, k]` (i32, best first).

    `moe-fuse-gating` creates it from the router matmul that feeds a
    `moe.route`; `convert-moe-to-linalg` lowers it to one loop over tiles of
    tokens that never holds more than one tile's `[tile, E]` logits. Its
    results are bitwise those of the unfused matmul and route.

    Example (DeepSeek-V3-style, sigmoid scores with a selection bias and
    group-limited selection):

    ```mlir
    %w, %ids = moe.gate %x router(%wr) selection_bias(%sb) {
        router = #moe.router<k = 2, scoring = sigmoid, renormalize = true,
                             groups = 4, topk_groups = 2>}
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8xf32>)
        -> (tensor<?x2xf32>, tensor<?x2xi32>)
    ```
  }];
  let arguments = (ins MoE_FloatTensor:$tokens,
                       MoE_FloatTensor:$router_weight,
                       Optional<MoE_F32Tensor>:$router_bias,
                       Optional<MoE_F32Tensor>:$selection_bias,
                       MoE_RouterAttr:$router);
  let results = (outs MoE_F32Tensor:$weights, MoE_I32Tensor:$expert_ids);
  let assemblyFormat = [{
    $tokens `router` `(` $router_weight `)`
      (`bias` `(` $router_bias^ `)`)?
      (`selection_bias` `(` $selection_bias^ `)`)? attr-dict `:`
      functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumExperts() {
      return getRouterWeight().getType().getDimSize(0);
    }
  }];
}

#endif // MOE_DIALECT_MOE_IR_MOEOPS_TD
