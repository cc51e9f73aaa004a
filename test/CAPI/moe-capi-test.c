/*===- moe-capi-test.c - moe-mlir through its C API -----------------------===*
 *
 * A C program that uses moe-mlir only through the C API (moe-mlir-c/MoE.h and
 * upstream's mlir-c), linked against libMLIRMoECAPI.so alone: registration,
 * the #moe attributes (built, printed, read back, and rejected when invalid),
 * a moe.layer built with the generic operation API, a module parsed from a
 * string, and the lowering through a pass pipeline. capi.test checks what it
 * prints; it exits non-zero when one of its own checks fails.
 *
 *===----------------------------------------------------------------------===*/

#include "moe-mlir-c/MoE.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Support.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stdout, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #cond);         \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static void printToStdout(MlirStringRef str, void *userData) {
  (void)userData;
  fwrite(str.data, 1, str.length, stdout);
}

static void printAttr(const char *label, MlirAttribute attr) {
  fprintf(stdout, "%s: ", label);
  if (mlirAttributeIsNull(attr))
    fprintf(stdout, "<null>");
  else
    mlirAttributePrint(attr, printToStdout, NULL);
  fprintf(stdout, "\n");
}

/* Prints every diagnostic as "diagnostic: <severity>: <loc>: <message>" and
 * counts the errors. */
static MlirLogicalResult handleDiagnostic(MlirDiagnostic diagnostic,
                                          void *userData) {
  int *errors = (int *)userData;
  MlirDiagnosticSeverity severity = mlirDiagnosticGetSeverity(diagnostic);
  fprintf(stdout, "diagnostic: %s: ",
          severity == MlirDiagnosticError     ? "error"
          : severity == MlirDiagnosticWarning ? "warning"
          : severity == MlirDiagnosticNote    ? "note"
                                              : "remark");
  mlirLocationPrint(mlirDiagnosticGetLocation(diagnostic), printToStdout, NULL);
  fprintf(stdout, ": ");
  mlirDiagnosticPrint(diagnostic, printToStdout, NULL);
  fprintf(stdout, "\n");
  if (severity == MlirDiagnosticError)
    ++*errors;
  return mlirLogicalResultSuccess();
}

static MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

static MlirNamedAttribute named(MlirContext ctx, const char *name,
                                MlirAttribute attr) {
  return mlirNamedAttributeGet(mlirIdentifierGet(ctx, str(name)), attr);
}

static MlirWalkResult countMoEOps(MlirOperation op, void *userData) {
  if (mlirOperationIsAMoEOp(op))
    ++*(int *)userData;
  return MlirWalkResultAdvance;
}

static MlirWalkResult countLinalgOps(MlirOperation op, void *userData) {
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if (name.length > 7 && strncmp(name.data, "linalg.", 7) == 0)
    ++*(int *)userData;
  return MlirWalkResultAdvance;
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

static MlirContext createContext(void) {
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirMoERegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  /* mlirOperationCreate needs the dialects of the ops it creates loaded, not
   * just registered (the parser loads what it meets by itself). */
  mlirContextLoadAllAvailableDialects(ctx);
  /* Registering twice is harmless. */
  mlirMoERegisterPasses();
  mlirMoERegisterPasses();
  return ctx;
}

static void testDialectHandle(void) {
  fprintf(stdout, "--- dialect handle\n");
  MlirDialectHandle moe = mlirGetDialectHandle__moe__();
  MlirStringRef ns = mlirDialectHandleGetNamespace(moe);
  fprintf(stdout, "namespace: %.*s\n", (int)ns.length, ns.data);
  MlirContext ctx = mlirContextCreate();
  mlirDialectHandleRegisterDialect(moe, ctx);
  MlirDialect dialect = mlirDialectHandleLoadDialect(moe, ctx);
  EXPECT(!mlirDialectIsNull(dialect));
  fprintf(stdout, "loaded: %d\n",
          mlirContextGetNumLoadedDialects(ctx) >= 2 &&
              !mlirDialectIsNull(mlirContextGetOrLoadDialect(ctx, str("moe"))));
  mlirContextDestroy(ctx);
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

static void testAttributes(MlirContext ctx) {
  fprintf(stdout, "--- attributes\n");
  MlirAttribute mixtral = mlirMoERouterAttrGet(
      ctx, 2, MLIR_MOE_SCORING_SOFTMAX, MLIR_MOE_SCORE_ORDER_TOPK_SOFTMAX, true,
      1.0, 1, 1, MLIR_MOE_GROUP_SCORE_MAX);
  printAttr("mixtral router", mixtral);
  EXPECT(mlirAttributeIsAMoERouter(mixtral));
  EXPECT(!mlirAttributeIsAMoECapacity(mixtral));
  EXPECT(mlirTypeIDEqual(mlirAttributeGetTypeID(mixtral),
                         mlirMoERouterAttrGetTypeID()));
  /* The textual form of the same router is the same attribute. */
  EXPECT(mlirAttributeEqual(
      mixtral, mlirAttributeParseGet(ctx, str("#moe.router<k = 2, order = "
                                              "topk_softmax, renormalize = "
                                              "true>"))));

  MlirAttribute deepseek = mlirMoERouterAttrGet(
      ctx, 4, MLIR_MOE_SCORING_SIGMOID, MLIR_MOE_SCORE_ORDER_SOFTMAX_TOPK, true,
      2.5, 4, 2, MLIR_MOE_GROUP_SCORE_SUM_TOP2);
  printAttr("deepseek router", deepseek);
  fprintf(stdout,
          "deepseek router: k=%lld scoring=%d order=%d renormalize=%d "
          "scale=%g groups=%lld topk_groups=%lld group_score=%d\n",
          (long long)mlirMoERouterAttrGetK(deepseek),
          (int)mlirMoERouterAttrGetScoring(deepseek),
          (int)mlirMoERouterAttrGetOrder(deepseek),
          (int)mlirMoERouterAttrGetRenormalize(deepseek),
          mlirMoERouterAttrGetScale(deepseek),
          (long long)mlirMoERouterAttrGetGroups(deepseek),
          (long long)mlirMoERouterAttrGetTopkGroups(deepseek),
          (int)mlirMoERouterAttrGetGroupScore(deepseek));
  EXPECT(mlirMoERouterAttrGetScoring(deepseek) == MLIR_MOE_SCORING_SIGMOID);
  EXPECT(mlirMoERouterAttrGetGroupScore(deepseek) ==
         MLIR_MOE_GROUP_SCORE_SUM_TOP2);
  MlirLocation unknown = mlirLocationUnknownGet(ctx);
  EXPECT(mlirLogicalResultIsSuccess(
      mlirMoERouterAttrVerifyForExperts(deepseek, unknown, 8)));

  MlirAttribute dropless = mlirMoECapacityAttrGetDropless(ctx);
  MlirAttribute fixed = mlirMoECapacityAttrGetFixed(ctx, 16);
  MlirAttribute factor = mlirMoECapacityAttrGetFactor(ctx, 1.25);
  printAttr("dropless capacity", dropless);
  printAttr("fixed capacity", fixed);
  printAttr("factor capacity", factor);
  EXPECT(mlirAttributeIsAMoECapacity(factor));
  EXPECT(mlirMoECapacityAttrGetKind(dropless) == MLIR_MOE_CAPACITY_DROPLESS);
  EXPECT(mlirMoECapacityAttrGetKind(fixed) == MLIR_MOE_CAPACITY_FIXED);
  EXPECT(mlirMoECapacityAttrGetCapacity(fixed) == 16);
  EXPECT(mlirMoECapacityAttrGetKind(factor) == MLIR_MOE_CAPACITY_FACTOR);
  EXPECT(mlirMoECapacityAttrGetFactorValue(factor) == 1.25);
  /* ceil(1.25 * 8 tokens * k=2 / 8 experts) = 3; dropless has none. */
  fprintf(stdout,
          "capacity for T=8 k=2 E=8: factor %lld, fixed %lld, "
          "dropless %lld\n",
          (long long)mlirMoECapacityAttrCapacityFor(factor, 8, 2, 8),
          (long long)mlirMoECapacityAttrCapacityFor(fixed, 8, 2, 8),
          (long long)mlirMoECapacityAttrCapacityFor(dropless, 8, 2, 8));

  MlirAttribute swiglu =
      mlirMoEActivationAttrGet(ctx, MLIR_MOE_ACTIVATION_SWIGLU);
  MlirAttribute geluTanh =
      mlirMoEActivationAttrGet(ctx, MLIR_MOE_ACTIVATION_GELU_TANH);
  printAttr("swiglu activation", swiglu);
  printAttr("gelu_tanh activation", geluTanh);
  EXPECT(mlirAttributeIsAMoEActivation(swiglu));
  EXPECT(mlirMoEActivationAttrGetValue(geluTanh) ==
         MLIR_MOE_ACTIVATION_GELU_TANH);
  EXPECT(mlirMoEActivationIsGated(MLIR_MOE_ACTIVATION_SWIGLU));
  EXPECT(mlirMoEActivationIsGated(MLIR_MOE_ACTIVATION_GEGLU));
  EXPECT(!mlirMoEActivationIsGated(MLIR_MOE_ACTIVATION_RELU));
  EXPECT(!mlirAttributeIsAMoEActivation(mlirUnitAttrGet(ctx)));
}

/* Invalid parameters give a null attribute and a diagnostic, never a crash
 * or an invalid attribute. */
static void testInvalidAttributes(MlirContext ctx, int *errors) {
  fprintf(stdout, "--- invalid attributes\n");
  int before = *errors;
  MlirAttribute k0 = mlirMoERouterAttrGet(
      ctx, 0, MLIR_MOE_SCORING_SOFTMAX, MLIR_MOE_SCORE_ORDER_SOFTMAX_TOPK,
      false, 1.0, 1, 1, MLIR_MOE_GROUP_SCORE_MAX);
  printAttr("router k = 0", k0);
  EXPECT(mlirAttributeIsNull(k0));

  MlirLocation here = mlirLocationFileLineColGet(ctx, str("capi.c"), 7, 3);
  MlirAttribute sigmoidTopkSoftmax = mlirMoERouterAttrGetChecked(
      here, 2, MLIR_MOE_SCORING_SIGMOID, MLIR_MOE_SCORE_ORDER_TOPK_SOFTMAX,
      false, 1.0, 1, 1, MLIR_MOE_GROUP_SCORE_MAX);
  printAttr("router sigmoid + topk_softmax", sigmoidTopkSoftmax);
  EXPECT(mlirAttributeIsNull(sigmoidTopkSoftmax));

  MlirAttribute badEnum = mlirMoERouterAttrGet(
      ctx, 2, (MlirMoEScoring)7, MLIR_MOE_SCORE_ORDER_SOFTMAX_TOPK, false, 1.0,
      1, 1, MLIR_MOE_GROUP_SCORE_MAX);
  printAttr("router scoring 7", badEnum);
  EXPECT(mlirAttributeIsNull(badEnum));

  MlirAttribute parsed = mlirAttributeParseGet(ctx, str("#moe.router<k = 0>"));
  printAttr("parsed router k = 0", parsed);
  EXPECT(mlirAttributeIsNull(parsed));

  MlirAttribute fixed0 = mlirMoECapacityAttrGetFixed(ctx, 0);
  printAttr("fixed capacity 0", fixed0);
  EXPECT(mlirAttributeIsNull(fixed0));
  MlirAttribute factorNeg = mlirMoECapacityAttrGetFactor(ctx, -1.0);
  printAttr("capacity factor -1", factorNeg);
  EXPECT(mlirAttributeIsNull(factorNeg));
  MlirAttribute factorNan = mlirMoECapacityAttrGetFactor(ctx, NAN);
  EXPECT(mlirAttributeIsNull(factorNan));

  MlirAttribute act = mlirMoEActivationAttrGet(ctx, (MlirMoEActivation)42);
  printAttr("activation 42", act);
  EXPECT(mlirAttributeIsNull(act));

  MlirAttribute router = mlirMoERouterAttrGet(
      ctx, 2, MLIR_MOE_SCORING_SOFTMAX, MLIR_MOE_SCORE_ORDER_SOFTMAX_TOPK,
      false, 1.0, 1, 1, MLIR_MOE_GROUP_SCORE_MAX);
  EXPECT(mlirLogicalResultIsFailure(
      mlirMoERouterAttrVerifyForExperts(router, here, 1)));

  fprintf(stdout, "errors reported: %d\n", *errors - before);
}

/* The routing and capacity variants of the model families: expert choice,
 * Llama-4's input-side weights, probability drops and Switch's pass-through
 * of dropped tokens; out-of-range values and broken rules are diagnosed. */
static void testVariants(MlirContext ctx, int *errors) {
  fprintf(stdout, "--- variants\n");
  int before = *errors;
  MlirLocation here = mlirLocationFileLineColGet(ctx, str("capi.c"), 9, 1);
  MlirAttribute top1 = mlirMoERouterAttrGet(
      ctx, 1, MLIR_MOE_SCORING_SOFTMAX, MLIR_MOE_SCORE_ORDER_SOFTMAX_TOPK,
      false, 1.0, 1, 1, MLIR_MOE_GROUP_SCORE_MAX);
  MlirAttribute llama4 = mlirMoERouterAttrWithSelection(
      top1, here, MLIR_MOE_WEIGHTS_ON_INPUT, MLIR_MOE_CHOICE_TOKEN);
  printAttr("llama4 router", llama4);
  EXPECT(mlirMoERouterAttrGetWeightsOn(llama4) == MLIR_MOE_WEIGHTS_ON_INPUT);
  EXPECT(mlirMoERouterAttrGetChoice(top1) == MLIR_MOE_CHOICE_TOKEN);
  MlirAttribute expertChoice = mlirMoERouterAttrWithSelection(
      top1, here, MLIR_MOE_WEIGHTS_ON_OUTPUT, MLIR_MOE_CHOICE_EXPERT);
  printAttr("expert choice router", expertChoice);
  EXPECT(mlirMoERouterAttrGetChoice(expertChoice) == MLIR_MOE_CHOICE_EXPERT);
  /* The parsed form is the same attribute. */
  EXPECT(mlirAttributeEqual(
      expertChoice,
      mlirAttributeParseGet(ctx, str("#moe.router<k = 1, choice = expert>"))));

  MlirAttribute switchCapacity = mlirMoECapacityAttrWithPolicies(
      mlirMoECapacityAttrGetFixed(ctx, 64), here, MLIR_MOE_DROP_POSITION,
      MLIR_MOE_DROPPED_IDENTITY);
  printAttr("switch capacity", switchCapacity);
  EXPECT(mlirMoECapacityAttrGetDropped(switchCapacity) ==
         MLIR_MOE_DROPPED_IDENTITY);
  MlirAttribute byProbability = mlirMoECapacityAttrWithPolicies(
      mlirMoECapacityAttrGetFactor(ctx, 1.0), here, MLIR_MOE_DROP_PROBABILITY,
      MLIR_MOE_DROPPED_ZERO);
  printAttr("probability capacity", byProbability);
  EXPECT(mlirMoECapacityAttrGetDrop(byProbability) ==
         MLIR_MOE_DROP_PROBABILITY);

  /* Broken rules and out-of-range values: a diagnostic and null. */
  MlirAttribute top2 = mlirMoERouterAttrGet(
      ctx, 2, MLIR_MOE_SCORING_SOFTMAX, MLIR_MOE_SCORE_ORDER_SOFTMAX_TOPK,
      false, 1.0, 1, 1, MLIR_MOE_GROUP_SCORE_MAX);
  EXPECT(mlirAttributeIsNull(mlirMoERouterAttrWithSelection(
      top2, here, MLIR_MOE_WEIGHTS_ON_INPUT, MLIR_MOE_CHOICE_TOKEN)));
  EXPECT(mlirAttributeIsNull(mlirMoERouterAttrWithSelection(
      top1, here, MLIR_MOE_WEIGHTS_ON_INPUT, MLIR_MOE_CHOICE_EXPERT)));
  EXPECT(mlirAttributeIsNull(mlirMoERouterAttrWithSelection(
      top1, here, MLIR_MOE_WEIGHTS_ON_OUTPUT, (MlirMoEChoice)5)));
  EXPECT(mlirAttributeIsNull(mlirMoECapacityAttrWithPolicies(
      mlirMoECapacityAttrGetDropless(ctx), here, MLIR_MOE_DROP_POSITION,
      MLIR_MOE_DROPPED_IDENTITY)));
  EXPECT(mlirAttributeIsNull(mlirMoECapacityAttrWithPolicies(
      mlirMoECapacityAttrGetFixed(ctx, 4), here, (MlirMoEDropPolicy)9,
      MLIR_MOE_DROPPED_ZERO)));
  fprintf(stdout, "errors reported: %d\n", *errors - before);
}

//===----------------------------------------------------------------------===//
// A moe.layer built with the generic operation API
//===----------------------------------------------------------------------===//

static MlirType tensorType(MlirContext ctx, intptr_t rank,
                           const int64_t *shape) {
  return mlirRankedTensorTypeGet(rank, shape, mlirF32TypeGet(ctx),
                                 mlirAttributeGetNull());
}

/* func.func @layer(x, wr, wg, wu, wd) -> y { y = moe.layer ...; return y } */
static MlirModule buildLayerModule(MlirContext ctx, MlirAttribute router) {
  MlirLocation loc = mlirLocationUnknownGet(ctx);
  int64_t dyn = mlirShapedTypeGetDynamicSize();
  const int64_t xShape[] = {dyn, 64}, wrShape[] = {8, 64},
                wuShape[] = {8, 128, 64}, wdShape[] = {8, 64, 128};
  MlirType x = tensorType(ctx, 2, xShape);
  MlirType args[] = {x, tensorType(ctx, 2, wrShape),
                     tensorType(ctx, 3, wuShape), tensorType(ctx, 3, wuShape),
                     tensorType(ctx, 3, wdShape)};
  MlirLocation argLocs[] = {loc, loc, loc, loc, loc};

  MlirModule module = mlirModuleCreateEmpty(loc);
  MlirBlock body = mlirModuleGetBody(module);
  MlirBlock entry = mlirBlockCreate(5, args, argLocs);

  /* Operands, in the order of the op's operand segments: tokens, router
   * weight, (no router bias, no selection bias), gate, (no gate bias), up,
   * (no up bias), down, (no down bias, no shared experts). */
  MlirValue operands[5];
  for (intptr_t i = 0; i < 5; ++i)
    operands[i] = mlirBlockGetArgument(entry, i);
  const int32_t segments[] = {1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0};
  MlirNamedAttribute layerAttrs[] = {
      named(ctx, "router", router),
      named(ctx, "capacity", mlirMoECapacityAttrGetDropless(ctx)),
      named(ctx, "activation",
            mlirMoEActivationAttrGet(ctx, MLIR_MOE_ACTIVATION_SWIGLU)),
      named(ctx, "operandSegmentSizes",
            mlirDenseI32ArrayGet(ctx, 14, segments)),
  };
  MlirOperationState layerState = mlirOperationStateGet(str("moe.layer"), loc);
  mlirOperationStateAddOperands(&layerState, 5, operands);
  mlirOperationStateAddResults(&layerState, 1, &x);
  mlirOperationStateAddAttributes(&layerState, 4, layerAttrs);
  MlirOperation layer = mlirOperationCreate(&layerState);
  mlirBlockAppendOwnedOperation(entry, layer);
  EXPECT(mlirOperationIsAMoELayer(layer));
  EXPECT(mlirOperationIsAMoEOp(layer));

  MlirValue y = mlirOperationGetResult(layer, 0);
  MlirOperationState returnState =
      mlirOperationStateGet(str("func.return"), loc);
  mlirOperationStateAddOperands(&returnState, 1, &y);
  MlirOperation ret = mlirOperationCreate(&returnState);
  mlirBlockAppendOwnedOperation(entry, ret);
  EXPECT(!mlirOperationIsAMoEOp(ret));
  EXPECT(!mlirOperationIsAMoELayer(ret));

  MlirRegion region = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(region, entry);
  MlirType funcType = mlirFunctionTypeGet(ctx, 5, args, 1, &x);
  MlirNamedAttribute funcAttrs[] = {
      named(ctx, "sym_name", mlirStringAttrGet(ctx, str("layer"))),
      named(ctx, "function_type", mlirTypeAttrGet(funcType)),
  };
  MlirOperationState funcState = mlirOperationStateGet(str("func.func"), loc);
  mlirOperationStateAddAttributes(&funcState, 2, funcAttrs);
  mlirOperationStateAddOwnedRegions(&funcState, 1, &region);
  mlirBlockAppendOwnedOperation(body, mlirOperationCreate(&funcState));
  return module;
}

static void testBuildLayer(MlirContext ctx, int *errors) {
  fprintf(stdout, "--- built layer\n");
  MlirAttribute router = mlirMoERouterAttrGet(
      ctx, 2, MLIR_MOE_SCORING_SOFTMAX, MLIR_MOE_SCORE_ORDER_TOPK_SOFTMAX, true,
      1.0, 1, 1, MLIR_MOE_GROUP_SCORE_MAX);
  MlirModule module = buildLayerModule(ctx, router);
  MlirOperation op = mlirModuleGetOperation(module);
  bool valid = mlirOperationVerify(op);
  fprintf(stdout, "built module verifies: %d\n", valid);
  EXPECT(valid);
  mlirOperationPrint(op, printToStdout, NULL);
  fprintf(stdout, "\n");
  mlirModuleDestroy(module);

  /* A router whose k exceeds the 8 experts is a valid attribute but an
   * invalid layer: the verifier says so. */
  fprintf(stdout, "--- built layer, k = 10 of 8 experts\n");
  int before = *errors;
  MlirAttribute k10 = mlirMoERouterAttrGet(
      ctx, 10, MLIR_MOE_SCORING_SOFTMAX, MLIR_MOE_SCORE_ORDER_SOFTMAX_TOPK,
      false, 1.0, 1, 1, MLIR_MOE_GROUP_SCORE_MAX);
  EXPECT(!mlirAttributeIsNull(k10));
  module = buildLayerModule(ctx, k10);
  valid = mlirOperationVerify(mlirModuleGetOperation(module));
  fprintf(stdout, "k = 10 module verifies: %d\n", valid);
  EXPECT(!valid && *errors > before);
  mlirModuleDestroy(module);
}

//===----------------------------------------------------------------------===//
// A parsed module, lowered through a pass pipeline
//===----------------------------------------------------------------------===//

static const char *kLayerModule =
    "func.func @mixtral(%x: tensor<?x64xf32>, %wr: tensor<8x64xf32>,\n"
    "                   %wg: tensor<8x128x64xf32>, %wu: tensor<8x128x64xf32>,\n"
    "                   %wd: tensor<8x64x128xf32>) -> tensor<?x64xf32> {\n"
    "  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {\n"
    "         activation = #moe.activation<swiglu>,\n"
    "         capacity = #moe.capacity<dropless>,\n"
    "         router = #moe.router<k = 2, order = topk_softmax,\n"
    "                              renormalize = true>}\n"
    "       : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x128x64xf32>,\n"
    "          tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> "
    "tensor<?x64xf32>\n"
    "  return %y : tensor<?x64xf32>\n"
    "}\n";

static void testParseAndLower(MlirContext ctx) {
  fprintf(stdout, "--- parsed module\n");
  MlirModule module = mlirModuleCreateParse(ctx, str(kLayerModule));
  EXPECT(!mlirModuleIsNull(module));
  if (mlirModuleIsNull(module))
    return;
  MlirOperation op = mlirModuleGetOperation(module);
  fprintf(stdout, "parsed module verifies: %d\n", mlirOperationVerify(op));
  mlirOperationPrint(op, printToStdout, NULL);
  fprintf(stdout, "\n");

  fprintf(stdout, "--- lowered module\n");
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  MlirLogicalResult parsed = mlirParsePassPipeline(
      opm, str("builtin.module(moe-expand-layer,convert-moe-to-linalg)"),
      printToStdout, NULL);
  EXPECT(mlirLogicalResultIsSuccess(parsed));
  fprintf(stdout, "pipeline: ");
  mlirPrintPassPipeline(opm, printToStdout, NULL);
  fprintf(stdout, "\n");
  MlirLogicalResult ran = mlirPassManagerRunOnOp(pm, op);
  fprintf(stdout, "pipeline ran: %d\n", mlirLogicalResultIsSuccess(ran));
  EXPECT(mlirLogicalResultIsSuccess(ran));
  fprintf(stdout, "lowered module verifies: %d\n", mlirOperationVerify(op));
  int moeOps = 0, linalgOps = 0;
  mlirOperationWalk(op, countMoEOps, &moeOps, MlirWalkPreOrder);
  mlirOperationWalk(op, countLinalgOps, &linalgOps, MlirWalkPreOrder);
  fprintf(stdout, "moe ops: %d, linalg ops: %s\n", moeOps,
          linalgOps > 0 ? "some" : "none");
  EXPECT(moeOps == 0 && linalgOps > 0);
  mlirOperationPrint(op, printToStdout, NULL);
  fprintf(stdout, "\n");
  mlirPassManagerDestroy(pm);

  /* The whole CPU pipeline, registered by mlirMoERegisterPasses, needs no
   * more than mlirMoERegisterAllDialects registered. */
  fprintf(stdout, "--- cpu pipeline\n");
  MlirModule again = mlirModuleCreateParse(ctx, str(kLayerModule));
  MlirOperation againOp = mlirModuleGetOperation(again);
  pm = mlirPassManagerCreate(ctx);
  opm = mlirPassManagerGetAsOpPassManager(pm);
  EXPECT(mlirLogicalResultIsSuccess(mlirParsePassPipeline(
      opm, str("builtin.module(moe-cpu-pipeline)"), printToStdout, NULL)));
  ran = mlirPassManagerRunOnOp(pm, againOp);
  fprintf(stdout, "cpu pipeline ran: %d\n", mlirLogicalResultIsSuccess(ran));
  EXPECT(mlirLogicalResultIsSuccess(ran));
  moeOps = 0;
  mlirOperationWalk(againOp, countMoEOps, &moeOps, MlirWalkPreOrder);
  MlirOperation entry =
      mlirSymbolTableLookup(mlirSymbolTableCreate(againOp), str("mixtral"));
  MlirStringRef entryName = mlirIdentifierStr(mlirOperationGetName(entry));
  fprintf(stdout, "cpu pipeline: moe ops: %d, @mixtral is a %.*s\n", moeOps,
          (int)entryName.length, entryName.data);
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(again);

  /* An unknown pass is an error message, not a crash. */
  fprintf(stdout, "--- unknown pass\n");
  pm = mlirPassManagerCreate(ctx);
  parsed = mlirParsePassPipeline(mlirPassManagerGetAsOpPassManager(pm),
                                 str("builtin.module(moe-no-such-pass)"),
                                 printToStdout, NULL);
  fprintf(stdout, "\nunknown pass parsed: %d\n",
          mlirLogicalResultIsSuccess(parsed));
  EXPECT(mlirLogicalResultIsFailure(parsed));
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
}

int main(void) {
  testDialectHandle();

  MlirContext ctx = createContext();
  int errors = 0;
  mlirContextAttachDiagnosticHandler(ctx, handleDiagnostic, &errors, NULL);

  testAttributes(ctx);
  EXPECT(errors == 0);
  testInvalidAttributes(ctx, &errors);
  testVariants(ctx, &errors);
  testBuildLayer(ctx, &errors);
  testParseAndLower(ctx);

  mlirContextDestroy(ctx);
  fprintf(stdout, "--- done: %d failures\n", failures);
  return failures == 0 ? 0 : 1;
}
