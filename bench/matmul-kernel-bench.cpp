//===- matmul-kernel-bench.cpp - moe-cpu-pipeline's matmul vs OpenBLAS ----===//
//
// One expert projection as moe-cpu-pipeline compiles it: C[M, N] += A[M, K]
// * B[N, K]^T with B a static [out, in] weight, A and B f32 or bf16, C f32.
// Compiles it with moe-cpu-pipeline, JIT-runs it and OpenBLAS's cblas_sgemm
// on the same f32 data in the same process, with the same thread count, and
// prints one line per implementation with the median time and GFLOP/s:
//
//   matmul-kernel-bench M N K [f32|bf16] [threads] [runs] [bf16-dot=auto]
//
// It also checks the result against OpenBLAS (relative error; bf16 operands
// are rounded before either computes) and that row M-1 computed alone is
// bitwise the row computed in the batch (exit status 1 otherwise).
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/InitAll.h"
#include "moe-mlir/Pipelines/Pipelines.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

extern "C" void omp_set_num_threads(int);
extern "C" void openblas_set_num_threads(int);
extern "C" char *openblas_get_corename(void);

namespace {

/// A memref descriptor of rank 2: allocated, aligned, offset, sizes, strides.
struct Descriptor2D {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
};

Descriptor2D describe(void *data, int64_t rows, int64_t cols) {
  return {data, data, 0, {rows, cols}, {cols, 1}};
}

uint16_t toBF16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  bits += 0x7fff + ((bits >> 16) & 1); // round to nearest even
  return uint16_t(bits >> 16);
}

float fromBF16(uint16_t value) {
  uint32_t bits = uint32_t(value) << 16;
  float result;
  std::memcpy(&result, &bits, 4);
  return result;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s M N K [f32|bf16] [threads] [runs] "
                 "[auto|on|off]\n",
                 argv[0]);
    return 2;
  }
  int64_t M = std::atoll(argv[1]), N = std::atoll(argv[2]),
          K = std::atoll(argv[3]);
  std::string type = argc > 4 ? argv[4] : "f32";
  int threads = argc > 5 ? std::atoi(argv[5]) : 1;
  int runs = argc > 6 ? std::atoi(argv[6]) : 5;
  std::string dot = argc > 7 ? argv[7] : "auto";
  if (M < 1 || N < 1 || K < 1 || threads < 1 || runs < 1 ||
      (type != "f32" && type != "bf16")) {
    std::fprintf(stderr, "matmul-kernel-bench: bad arguments\n");
    return 2;
  }
  bool bf16 = type == "bf16";
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);

  // The projection, on memrefs: destination-passing, C += A B^T.
  std::string t = bf16 ? "bf16" : "f32";
  std::string aType = "memref<?x" + std::to_string(K) + "x" + t + ">";
  std::string bType =
      "memref<" + std::to_string(N) + "x" + std::to_string(K) + "x" + t + ">";
  std::string cType = "memref<?x" + std::to_string(N) + "xf32>";
  std::string source =
      "func.func @mm(%a: " + aType + ", %b: " + bType + ", %c: " + cType +
      ") {\n"
      "  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,\n"
      "      affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, "
      "n)>]\n"
      "      ins(%a, %b : " +
      aType + ", " + bType + ") outs(%c : " + cType +
      ")\n"
      "  return\n}\n";

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::moe::registerAllDialects(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::MLIRContext context(registry);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  if (!module)
    return 2;
  mlir::PassManager pm(&context);
  mlir::moe::CPUPipelineOptions options;
  options.bf16Dot = dot == "on"    ? mlir::moe::BF16Dot::On
                    : dot == "off" ? mlir::moe::BF16Dot::Off
                                   : mlir::moe::BF16Dot::Auto;
  mlir::moe::buildCPUPipeline(pm, options);
  if (mlir::failed(pm.run(*module)))
    return 2;
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto machine = llvm::cantFail(
      llvm::cantFail(llvm::orc::JITTargetMachineBuilder::detectHost())
          .createTargetMachine());
  mlir::ExecutionEngineOptions engineOptions;
  engineOptions.transformer =
      mlir::makeOptimizingTransformer(3, 0, machine.get());
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = mlir::ExecutionEngine::create(*module, engineOptions);
  if (!engine) {
    llvm::errs() << llvm::toString(engine.takeError()) << "\n";
    return 2;
  }

  // Data: uniform in [-1, 1); bf16 rounded once, OpenBLAS gets the same
  // values as f32.
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> a(M * K), b(N * K);
  for (float &x : a)
    x = uniform(rng);
  for (float &x : b)
    x = uniform(rng);
  std::vector<uint16_t> a16, b16;
  if (bf16) {
    for (float &x : a)
      a16.push_back(toBF16(x)), x = fromBF16(a16.back());
    for (float &x : b)
      b16.push_back(toBF16(x)), x = fromBF16(b16.back());
  }
  void *aData = bf16 ? (void *)a16.data() : (void *)a.data();
  void *bData = bf16 ? (void *)b16.data() : (void *)b.data();
  std::vector<float> c(M * N, 0.0f), cBlas(M * N, 0.0f), cRow(N, 0.0f);

  auto call = [&](void *aPtr, int64_t rows, float *cPtr) {
    Descriptor2D da = describe(aPtr, rows, K), db = describe(bData, N, K),
                 dc = describe(cPtr, rows, N);
    Descriptor2D *pa = &da, *pb = &db, *pc = &dc;
    llvm::SmallVector<void *> args = {&pa, &pb, &pc};
    llvm::cantFail((*engine)->invokePacked("_mlir_ciface_mm", args));
  };
  auto blas = [&](float *cPtr) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(M), int(N), int(K),
                1.0f, a.data(), int(K), b.data(), int(K), 1.0f, cPtr, int(N));
  };

  // Checks: against OpenBLAS, and the last row alone, bitwise.
  call(aData, M, c.data());
  blas(cBlas.data());
  char *lastRow =
      bf16 ? (char *)aData + (M - 1) * K * 2 : (char *)aData + (M - 1) * K * 4;
  call(lastRow, 1, cRow.data());
  double maxErr = 0, maxRef = 0;
  for (int64_t i = 0; i < M * N; ++i) {
    maxErr = std::max(maxErr, double(std::fabs(c[i] - cBlas[i])));
    maxRef = std::max(maxRef, double(std::fabs(cBlas[i])));
  }
  bool rowSame =
      std::memcmp(cRow.data(), c.data() + (M - 1) * N, N * sizeof(float)) == 0;
  double rel = maxErr / std::max(maxRef, 1e-30);
  bool ok = rowSame && rel < (bf16 ? 1e-3 : 1e-5);

  std::vector<double> ours, theirs;
  for (int i = 0; i < runs + 1; ++i) {
    auto start = std::chrono::steady_clock::now();
    call(aData, M, c.data());
    auto mid = std::chrono::steady_clock::now();
    blas(cBlas.data());
    auto end = std::chrono::steady_clock::now();
    if (i == 0)
      continue; // warm-up
    ours.push_back(std::chrono::duration<double>(mid - start).count());
    theirs.push_back(std::chrono::duration<double>(end - mid).count());
  }
  double flops = 2.0 * M * N * K;
  double tOurs = median(ours), tBlas = median(theirs);
  std::printf("moe-mlir %s M=%lld N=%lld K=%lld threads=%d: median %.3f ms, "
              "%.1f GFLOP/s; rel err %.1e, row alone bitwise %s: %s\n",
              type.c_str(), (long long)M, (long long)N, (long long)K, threads,
              tOurs * 1e3, flops / tOurs * 1e-9, rel,
              rowSame ? "same" : "DIFFERENT", ok ? "PASS" : "FAIL");
  std::printf("openblas sgemm (%s) M=%lld N=%lld K=%lld threads=%d: median "
              "%.3f ms, %.1f GFLOP/s\n",
              openblas_get_corename(), (long long)M, (long long)N, (long long)K,
              threads, tBlas * 1e3, flops / tBlas * 1e-9);
  return ok ? 0 : 1;
}
