/*===- downstream-c.c - The installed C API and runtime, from C -----------===*
 *
 * What a C (or FFI) user of the installed package writes: moe-mlir's C API
 * (MoEMLIR::MLIRMoECAPI, which carries upstream's mlir-c too) to parse a
 * layer and run a pass pipeline on it, and the runtime (MoEMLIR::moe_runtime)
 * to move token rows with a communicator.
 *
 * Usage: downstream-c FILE PIPELINE   (prints the transformed module, then
 * the runtime's result; exits non-zero on any failure)
 *
 *===----------------------------------------------------------------------===*/

#include "moe-mlir-c/MoE.h"
#include "moe-runtime/MoERuntime.h"

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void printToStdout(MlirStringRef str, void *userData) {
  (void)userData;
  fwrite(str.data, 1, str.length, stdout);
}

static char *readFile(const char *path) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return NULL;
  long size = -1;
  if (fseek(file, 0, SEEK_END) == 0)
    size = ftell(file);
  if (size < 0 || fseek(file, 0, SEEK_SET) != 0) {
    fclose(file);
    return NULL;
  }
  char *text = malloc((size_t)size + 1);
  if (text && fread(text, 1, (size_t)size, file) != (size_t)size) {
    free(text);
    text = NULL;
  }
  if (text)
    text[size] = '\0';
  fclose(file);
  return text;
}

static int runPipeline(const char *path, const char *pipeline) {
  char *text = readFile(path);
  if (!text) {
    fprintf(stderr, "downstream-c: cannot read %s\n", path);
    return 1;
  }
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirMoERegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  mlirMoERegisterPasses();

  int status = 1;
  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(text));
  if (mlirModuleIsNull(module)) {
    fprintf(stderr, "downstream-c: %s does not parse\n", path);
  } else {
    MlirPassManager pm = mlirPassManagerCreate(ctx);
    MlirOperation op = mlirModuleGetOperation(module);
    if (mlirLogicalResultIsFailure(mlirParsePassPipeline(
            mlirPassManagerGetAsOpPassManager(pm),
            mlirStringRefCreateFromCString(pipeline), printToStdout, NULL)))
      fprintf(stderr, "downstream-c: bad pipeline %s\n", pipeline);
    else if (mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, op)))
      fprintf(stderr, "downstream-c: the pipeline failed\n");
    else {
      mlirOperationPrint(op, printToStdout, NULL);
      fprintf(stdout, "\n");
      status = 0;
    }
    mlirPassManagerDestroy(pm);
    mlirModuleDestroy(module);
  }
  mlirContextDestroy(ctx);
  free(text);
  return status;
}

/* One rank: the all-to-all hands the rows back in order. */
static int runRuntime(void) {
  moe_rt_comm *comm = NULL;
  moe_rt_status status = moe_rt_comm_create(MOE_RT_COMM_LOCAL, &comm);
  if (status != MOE_RT_OK) {
    fprintf(stderr, "downstream-c: comm: %s\n", moe_rt_status_name(status));
    return 1;
  }
  enum { kRows = 3, kWidth = 4 };
  float send[kRows][kWidth], recv[kRows][kWidth];
  for (int r = 0; r < kRows; ++r)
    for (int c = 0; c < kWidth; ++c) {
      send[r][c] = (float)(r * kWidth + c) + 0.5f;
      recv[r][c] = -1.0f;
    }
  int64_t sendCounts[1] = {kRows}, recvCounts[1] = {0};
  status = moe_rt_exchange_counts(comm, sendCounts, recvCounts);
  if (status == MOE_RT_OK)
    status = moe_rt_all_to_all_rows(comm, send, kRows, sendCounts, recv,
                                    recvCounts[0], recvCounts,
                                    (int64_t)sizeof send[0]);
  int same = status == MOE_RT_OK && recvCounts[0] == kRows;
  for (int r = 0; same && r < kRows; ++r)
    for (int c = 0; c < kWidth; ++c)
      same &= recv[r][c] == send[r][c];
  fprintf(stdout, "runtime: local all-to-all of %lld rows: %s (%s)\n",
          (long long)recvCounts[0], same ? "same rows" : "DIFFERENT",
          moe_rt_status_name(status));
  moe_rt_comm_destroy(comm);
  return same ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FILE PIPELINE\n", argv[0]);
    return 2;
  }
  int failed = runPipeline(argv[1], argv[2]);
  failed |= runRuntime();
  return failed;
}
