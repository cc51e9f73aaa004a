//===- Passes.td - CPU code generation passes --------------*- tablegen -*-===//
//
// Passes below the moe dialect that generate CPU code: they touch no moe op.
// moe-cpu-pipeline composes them.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_CODEGEN_CPU_PASSES_TD
#define MOE_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Elementwise vector code
//===----------------------------------------------------------------------===//

def MoECPUVectorizeElementwisePass
    : Pass<"moe-cpu-vectorize-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Vector code for the elementwise linalg ops around the "
                "matmuls, on tensors";
  let description = [{
    Tiles every linalg op on tensors whose loops are all parallel (copies,
    the dispatch's row gather, activations, per-row scales; not
    contractions, not fills) and whose innermost loop has a static size that
    `vector-width` divides: by 1 along the outer loops and by
    `vector-width` along the innermost, then vectorizes each tile with
    linalg's vectorizer (`tensor.extract` in a body becomes contiguous
    vector loads where the innermost index is the loop's and the others are
    the same for every lane, else a gather).
    A tile the vectorizer does not take stays a linalg op. On buffers, a
    `linalg.fill` whose innermost dimension is static, contiguous and a
    multiple of `vector-width` becomes loops of vector stores (fills are
    left alone on tensors: tiled there, the zeroed accumulator that the gate
    and up products share would be copied). moe-cpu-pipeline runs the pass
    before bufferization and again after it.

    Lowered to loops, these ops stay scalar (LLVM's loop vectorizer does not
    take the loops `convert-linalg-to-loops` emits). In OLMoE scaled by 2
    (E = 64, F = 512) at T = 1024 on one thread, the code outside the
    matmul kernels took 15% of the layer's cycles, and 10% with this pass
    (perf, docs/benchmarks.md).

    Gathers: an input read at one element per tile (a row index, a row's
    weight) is read before the tile's op, so the vectorizer sees it as the
    same for every lane and reads the row as one contiguous vector; and the
    vector loop is moved innermost first (the combine's slot loop goes
    outward, each output element still summing its slots in order), so that
    a tile's vectors run along the row. Each element gets the same operations in
    vector form (a libm call per lane where there is no vector intrinsic),
    so the results are bitwise those of the scalar loops.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "Lanes of the tiles' vectors (16: AVX-512 f32, 8: AVX2)">
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::ub::UBDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def MoECPUApproximateMathPass
    : Pass<"moe-cpu-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "Polynomial approximations for the f32 math ops marked afn";
  let description = [{
    Replaces every f32 `math.exp`, `math.tanh` and `math.erf` (scalar or
    vector) whose fast-math flags include `afn` ("approximate functions
    allowed") with MLIR's polynomial approximations: arith and `math.fma`
    ops that vectorise. The other math ops are left alone.

    The expert activations mark their exp (the sigmoid of SiLU), tanh and erf
    (GELU) `afn`; the router's softmax does not (its scores decide the
    selection). Without this pass, LLVM lowers a vector `math.exp` to one
    libm call per lane: in Mixtral-8x7B scaled by 4, bf16, at T = 1024,
    `expf` took about 7% of the layer's time. The approximations are
    within a few ulp (exp: relative error under 2^-22; subnormal results
    flush to zero), like the vector exp of PyTorch's and oneDNN's
    kernels. A scalar op and a lane of a vector op get the same arith ops,
    so the results do not depend on how a loop was vectorised.

    Example: `moe-opt --moe-cpu-approximate-math` turns
    `math.exp %x fastmath<afn> : vector<16xf32>` into about 30 vector
    arith ops and no call.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

//===----------------------------------------------------------------------===//
// Matmul kernels
//===----------------------------------------------------------------------===//

def MoECPUMatmulKernelsPass : Pass<"moe-cpu-matmul-kernels"> {
  let summary = "Packed, cache-blocked, multi-threaded vector kernels for "
                "matmuls with [out, in] weights, on buffers";
  let description = [{
    Rewrites every `linalg.matmul` on memrefs that computes
    `C[m, n] += A[m, k] * B[n, k]` (B transposed: the layout of the router
    and expert weights) with an f32 C, f32, bf16 or f16 A and B of the same
    type, a static B and rows contiguous in memory, into:

    - an `scf.parallel` loop (an `scf.for` with `parallel=false`) over
      blocks of `n-block` columns: the work items that threads share;
    - in each block, a loop over blocks of `k-block` values of k that first
      packs the block's slice of B into a buffer in the micro-kernel's panel
      layout, `[columns / nr][k][nr]` with `nr = tile-vectors *
      vector-width` (16x16 register transposes), so that every weight is
      read from memory once per call and the packed slice stays in the
      core's L2 cache;
    - for every `tile-rows` rows of A (then the remaining rows one at a
      time) and every panel of nr columns, an outer-product micro-kernel:
      `tile-rows x tile-vectors` vector accumulators loaded from C, and for
      each k one broadcast of `A[m, k]` per row, `tile-vectors` vector loads
      of the packed panel and `vector.fma`s; the accumulators are stored
      back to C after the k block.

    bf16 and f16 operands are widened to f32 while packing (B) and when
    broadcast (A): the arithmetic is the f32 kernel's. With `bf16-dot`, bf16
    operands instead use AVX512-BF16 dot products (`x86vector.avx512.dot`,
    `vdpbf16ps`: pairs of k per f32 lane): B is packed as interleaved k
    pairs `[columns / nr][k / 2][nr][2]` and A's pairs are broadcast as
    32-bit values. The accumulation stays f32; C is rounded to the layer's
    element type afterwards by whoever reads it.

    Every element of C is one chain of fused multiply-adds (or dot-product
    pairs) over k in increasing order, whatever tile, block or thread
    computes it: a row's result does not depend on the number of rows in the
    batch, on its position in it, or on the number of threads.

    With `pack-weights` (the pass then runs on a module), the weights do
    not change between calls, so they need not be packed on every call: an
    argument `%w : memref<E x n x k>` of a function whose every use is an
    expert's matrix `%w[e]` read as the B of matmuls that get kernels is
    passed already packed instead, as `memref<E x (n / nr) x k x nr x f32>`
    (`memref<E x (n / nr) x (k / 2) x 2nr x bf16>` with dot products or
    AMX), and those kernels read its panels in place. For each such
    argument `i` the pass adds `func.func @<function>_pack_arg<i>(%w,
    %packed)`, which packs a weight with the kernels' own transposes
    (parallel over expert x column-block work items), and records on the
    function

    `moe.packed_weights`, an array with one dictionary per packed argument
    (`argument`, `pack`: the packing function, `shape`: the packed shape,
    `element`: f32 or bf16), for the runners, which call the packing function once when they bind
    the weights. The results are bitwise those of per-call packing.

    A matmul is left to the generic lowering when C is not f32, A and B
    differ in type, B is not static, the innermost dimensions are not
    contiguous, or n is not a multiple of `vector-width` (nor of 8 when
    `vector-width` is 16: such a matmul, e.g. a router with 8 experts, uses
    8-lane vectors).
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes of a vector register (16 for AVX-512, 8 for AVX2)">,
    Option<"tileRows", "tile-rows", "int64_t", /*default=*/"6",
           "Rows of A per micro-kernel (register tile height)">,
    Option<"tileVectors", "tile-vectors", "int64_t", /*default=*/"4",
           "Vectors per row of the register tile: the panel width nr is "
           "tile-vectors * vector-width columns">,
    Option<"kBlock", "k-block", "int64_t", /*default=*/"256",
           "Values of k per cache block (the packed slice of B is "
           "n-block x k-block)">,
    Option<"nBlock", "n-block", "int64_t", /*default=*/"256",
           "Columns per parallel work item (rounded to a multiple of nr)">,
    Option<"parallel", "parallel", "bool", /*default=*/"true",
           "Emit the loop over column blocks as scf.parallel (for "
           "convert-scf-to-openmp) rather than scf.for">,
    Option<"bf16Dot", "bf16-dot", "bool", /*default=*/"false",
           "Use AVX512-BF16 dot products for bf16 operands (the CPU must "
           "have avx512bf16); otherwise bf16 is widened to f32">,
    Option<"amx", "amx", "bool", /*default=*/"false",
           "Use AMX tiles (tdpbf16ps) for bf16 operands where k and n are "
           "multiples of 32 (the CPU must have amx-bf16, and the process "
           "must have asked Linux for AMX state: mlir::moe::requestAMXState); "
           "wins over bf16-dot">,
    Option<"packWeights", "pack-weights", "bool", /*default=*/"false",
           "Take stacked expert weights already packed into the kernels' "
           "panel layout, and add a function per weight that packs it "
           "(run the pass on a module)">
  ];
  let dependentDialects = [
    "::mlir::amx::AMXDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::x86vector::X86VectorDialect"
  ];
}

def MoECPUParallelRowsPass
    : Pass<"moe-cpu-parallel-rows", "::mlir::func::FuncOp"> {
  let summary = "Share the rows of the elementwise code between the matmuls "
                "among threads when there are rows enough";
  let description = [{
    The code around the matmul kernels (the rows' gather, the accumulators'
    fill, the activation, the scale, the combine) is elementwise over rows,
    and lowered to loops it runs on one thread while the others wait for
    the next parallel loop: for a Mixtral-shaped layer at T = 4096 on 2
    threads, a tenth of the time.

    Loops over rows whose iterations are independent carry
    `moe.parallel_rows = N` (N: the rows one iteration covers):
    `convert-moe-to-linalg` marks the gate's loop over token tiles (16 rows
    an iteration), `moe-cpu-vectorize-elementwise` the loop over an
    elementwise op's rows (its outermost dimension, parallel, not the
    vectors' dimension; 1 row an iteration). This pass gives each marked
    `scf.for` (step 1, no results) a second form, chosen at run time: when
    its iterations cover at least `min-rows` rows, an `scf.parallel` over
    the same iterations (an OpenMP worksharing loop after
    `convert-scf-to-openmp`, and `moe-cpu-matmul-kernels` gives a matmul
    inside it a serial kernel); with fewer (decode), the loop as it was, with
    no fork and join. A marked loop inside a parallel region or loop (an
    expert's code when `moe-cpu-parallel-experts` shares the experts among
    threads) stays serial. The pass removes the marks. Each row is the same
    chain of operations in either form: the results are bitwise the same.
  }];
  let options = [
    Option<"minRows", "min-rows", "int64_t", /*default=*/"64",
           "Rows from which a marked loop's rows are shared among threads">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect"
  ];
}

//===----------------------------------------------------------------------===//
// Calling convention
//===----------------------------------------------------------------------===//

def MoECPUParallelExpertsPass
    : Pass<"moe-cpu-parallel-experts", "::mlir::ModuleOp"> {
  let summary = "Share a grouped product's experts among threads when each "
                "thread gets many of them";
  let description = [{
    The expert loops of `moe.grouped_matmul`'s lowering (`scf.for` loops
    marked `moe.expert_loop`, on buffers) run their experts one after the
    other, each expert's matmuls sharing their column blocks among threads.
    For a layer of many small experts that is hundreds of parallel loops per
    call, and the code between them (the rows' gather, the accumulators'
    fill, the epilogue) runs on one thread while the others wait.

    This pass gives each such loop a second form, chosen at run time: when
    there are at least `experts-per-thread` experts for every OpenMP thread
    (`omp_get_max_threads()`) and at least `min-rows` rows per expert on
    average (`offsets[E] - offsets[0]`, from the offsets the loop reads at
    `[e]`), the experts themselves are shared among threads
    (`omp.parallel` + `omp.wsloop` with a dynamic schedule: a thread takes
    the next expert when it is done, so experts of different sizes
    balance), and `moe-cpu-matmul-kernels`, run after it, gives the matmuls
    inside serial loops. Otherwise the loop runs as before. Each expert
    writes only its own rows, and every output element is the same chain
    of operations in either form: the results are bitwise the same.

    `min-rows` is 0 by default (no condition on the rows): measured on
    OLMoE scaled by 2 (64 experts) on 2 threads, sharing the experts was as
    fast or faster at every T, by 10 to 20% at T = 4 to 128, where the
    experts' weights dominate and 192 parallel loops a call cost more than
    an uneven share of a few experts.
  }];
  let options = [
    Option<"minRows", "min-rows", "int64_t", /*default=*/"0",
           "Average rows per expert from which experts are shared among "
           "threads (0: any)">,
    Option<"expertsPerThread", "experts-per-thread", "int64_t",
           /*default=*/"8",
           "Experts per thread from which experts are shared among threads "
           "(fewer balance poorly)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::omp::OpenMPDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def MoEEmitCInterfacePass : Pass<"moe-emit-c-interface", "::mlir::ModuleOp"> {
  let summary = "Give every public function a C interface wrapper";
  let description = [{
    Sets `llvm.emit_c_interface` on every public `func.func` with a body, so
    that `convert-func-to-llvm` also emits `_mlir_ciface_<name>`, which takes
    memref descriptors by pointer: the entry point `moe-run` and C callers
    use.
  }];
}

#endif // MOE_CODEGEN_CPU_PASSES_TD
