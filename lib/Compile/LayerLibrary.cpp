//===- LayerLibrary.cpp - A layer compiled ahead of time ------------------===//

#include "moe-mlir/Compile/LayerLibrary.h"

#include "moe-mlir/Codegen/CPU/Passes.h"
#include "moe-mlir/Pipelines/Pipelines.h"
#include "moe-mlir/Runner/LayerEntry.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

using namespace mlir;
using llvm::createStringError;

namespace moe::compile {

namespace {
/// The pipeline for `options`, its text for the description. For a named
/// CPU, the kernels' choices that default to the host's features (vector
/// width, bf16 dot products, AMX tiles) follow that CPU's as LLVM knows
/// them, unless the options set them.
llvm::Expected<std::string> buildPipeline(PassManager &pm,
                                          const LibraryOptions &options,
                                          const llvm::TargetMachine &machine,
                                          int64_t &ranks) {
  std::string error;
  llvm::raw_string_ostream errorStream(error);
  if (options.target == "cpu") {
    mlir::moe::CPUPipelineOptions cpu;
    if (failed(cpu.parseFromString(options.pipelineOptions, errorStream)))
      return createStringError("--pipeline: " + error);
    // The library's interface wraps the C interface.
    cpu.emitCInterface = true;
    if (options.cpu != "native") {
      const llvm::MCSubtargetInfo *info = machine.getMCSubtargetInfo();
      auto has = [&](const char *feature) {
        return info->checkFeatures(std::string("+") + feature);
      };
      bool amx = has("amx-tile") && has("amx-bf16");
      if (!cpu.vectorWidth.hasValue())
        cpu.vectorWidth = has("avx512f") ? 16 : 8;
      if (cpu.amx == mlir::moe::AMXTiles::Auto)
        cpu.amx = amx ? mlir::moe::AMXTiles::On : mlir::moe::AMXTiles::Off;
      if (cpu.bf16Dot == mlir::moe::BF16Dot::Auto)
        cpu.bf16Dot = has("avx512f") && has("avx512bf16") && !amx
                          ? mlir::moe::BF16Dot::On
                          : mlir::moe::BF16Dot::Off;
    }
    mlir::moe::buildCPUPipeline(pm, cpu);
    ranks = cpu.ranks;
    std::string text;
    llvm::raw_string_ostream os(text);
    cpu.print(os);
    return "moe-cpu-pipeline" + text;
  }
  if (options.target == "gpu") {
    mlir::moe::GPUPipelineOptions gpu;
    if (failed(gpu.parseFromString(options.pipelineOptions, errorStream)))
      return createStringError("--pipeline: " + error);
    gpu.chip = options.chip;
    gpu.features = options.gpuFeatures;
    // The chip's cubin and its PTX, which a newer driver can JIT.
    gpu.format = mlir::moe::GPUBinaryFormat::fatbin;
    pm.addPass(mlir::moe::createMoEEmitCInterfacePass());
    mlir::moe::buildGPUPipeline(pm, gpu);
    ranks = gpu.ranks;
    std::string text;
    llvm::raw_string_ostream os(text);
    gpu.print(os);
    return "moe-gpu-pipeline" + text;
  }
  return createStringError("--target=" + options.target +
                           " is not a target (cpu, gpu)");
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const LibraryOptions &options) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return createStringError("no LLVM target for " + triple.str() + ": " +
                             error);
  std::string cpu = options.cpu, features;
  if (cpu != "native") {
    // LLVM warns about an unknown CPU and goes on with a generic one.
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        target->createMCSubtargetInfo(triple, cpu, ""));
    if (!info || !info->isCPUStringValid(cpu))
      return createStringError("LLVM does not know the CPU '" + cpu +
                               "' (llc -mcpu=help lists the names)");
  } else {
    cpu = llvm::sys::getHostCPUName().str();
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features += (features.empty() ? "" : ",") +
                  std::string(feature.second ? "+" : "-") +
                  feature.first().str();
  }
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return createStringError("LLVM cannot generate code for the CPU '" + cpu +
                             "'");
  return machine;
}

bool callsFunctionWithPrefix(const llvm::Module &module,
                             llvm::StringRef prefix) {
  for (const llvm::Function &function : module)
    if (function.getName().starts_with(prefix) && !function.use_empty())
      return true;
  return false;
}

/// The library's C ABI around `_mlir_ciface_<function>`; see LayerLibrary.h.
llvm::Error addLibraryInterface(llvm::Module &module,
                                const run::LayerDescription &layer) {
  const std::string &function = layer.function;
  std::string description = run::printDescription(layer);
  llvm::LLVMContext &context = module.getContext();
  llvm::IRBuilder<> builder(context);
  auto *ptr = builder.getPtrTy();
  auto *i32 = builder.getInt32Ty();
  auto *i64 = builder.getInt64Ty();
  auto *voidTy = builder.getVoidTy();
  auto define = [&](llvm::StringRef name, llvm::FunctionType *type) {
    llvm::Function *fn = llvm::Function::Create(
        type, llvm::GlobalValue::ExternalLinkage, name, module);
    builder.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", fn));
    return fn;
  };

  // The runtime keeps the first failure of an exchange or a GPU call until
  // it is taken (later calls of the kind do nothing meanwhile): the layer's
  // status is what the runtime families the layer calls recorded.
  llvm::SmallVector<llvm::StringRef> statusTakers;
  if (callsFunctionWithPrefix(module, "moe_rt_layer_"))
    statusTakers.push_back("moe_rt_layer_take_error");
  if (callsFunctionWithPrefix(module, "mgpu") ||
      callsFunctionWithPrefix(module, "moe_rt_gpu_"))
    statusTakers.push_back("moe_rt_gpu_take_error");

  // name(args): args[i] points to parameter i of _mlir_ciface_<typedName>,
  // as ExecutionEngine's packed form. With `status`, it returns a failure
  // the runtime recorded during the call (0: none; below, which one).
  auto definePacked = [&](llvm::StringRef name, const std::string &typedName,
                          bool status) -> llvm::Error {
    llvm::Function *typed = module.getFunction("_mlir_ciface_" + typedName);
    if (!typed)
      return createStringError("the lowered module has no _mlir_ciface_" +
                               typedName);
    llvm::Function *packed = define(
        name, llvm::FunctionType::get(status ? i32 : voidTy, {ptr}, false));
    llvm::SmallVector<llvm::Value *> params;
    for (auto [i, param] : llvm::enumerate(typed->args())) {
      llvm::Value *slot = builder.CreateConstGEP1_64(ptr, packed->getArg(0), i);
      llvm::Value *pointer = builder.CreateLoad(ptr, slot);
      params.push_back(builder.CreateLoad(param.getType(), pointer));
    }
    builder.CreateCall(typed, params);
    if (!status) {
      builder.CreateRetVoid();
      return llvm::Error::success();
    }
    // Every taker runs (each clears its own record); the last one that
    // failed wins, as moe_rt_last_error() then holds its message (a failed
    // GPU call, taken last, is the likelier cause of a failed exchange).
    llvm::Value *result = builder.getInt32(0);
    for (llvm::StringRef taker : statusTakers) {
      llvm::Value *taken = builder.CreateCall(module.getOrInsertFunction(
          taker, llvm::FunctionType::get(i32, {}, false)));
      llvm::Value *failed = builder.CreateICmpNE(taken, builder.getInt32(0));
      result = builder.CreateSelect(failed, taken, result);
    }
    builder.CreateRet(result);
    return llvm::Error::success();
  };
  // moe_layer_call(args): the results' pointer first.
  if (llvm::Error error =
          definePacked("moe_layer_call", function, /*status=*/true))
    return error;
  // moe_layer_pack_arg<i>(args): the weight, then its packed buffer.
  for (const run::PackedWeight &weight : layer.packedWeights)
    if (llvm::Error error =
            definePacked("moe_layer_pack_arg" + std::to_string(weight.argument),
                         weight.function, /*status=*/false))
      return error;

  // moe_layer_abi_version(): what the runner checks before any call.
  define("moe_layer_abi_version", llvm::FunctionType::get(i32, {}, false));
  builder.CreateRet(builder.getInt32(run::kLayerLibraryABIVersion));

  // moe_layer_description(): the text, NUL-terminated.
  define("moe_layer_description", llvm::FunctionType::get(ptr, {}, false));
  builder.CreateRet(
      builder.CreateGlobalString(description, "moe_layer_description_text"));

  // The thread count of a parallel layer is OpenMP's.
  bool usesOpenMP = callsFunctionWithPrefix(module, "__kmpc_");
  llvm::Function *setThreads = define(
      "moe_layer_set_threads", llvm::FunctionType::get(voidTy, {i32}, false));
  if (usesOpenMP)
    builder.CreateCall(module.getOrInsertFunction(
                           "omp_set_num_threads",
                           llvm::FunctionType::get(voidTy, {i32}, false)),
                       {setThreads->getArg(0)});
  builder.CreateRetVoid();
  define("moe_layer_max_threads", llvm::FunctionType::get(i32, {}, false));
  builder.CreateRet(usesOpenMP
                        ? static_cast<llvm::Value *>(
                              builder.CreateCall(module.getOrInsertFunction(
                                  "omp_get_max_threads",
                                  llvm::FunctionType::get(i32, {}, false))))
                        : builder.getInt32(1));

  // AMX tiles need the process's permission (arch_prctl
  // ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA), asked for when the library
  // is loaded, as the JIT asks for its own process.
  if (callsFunctionWithPrefix(module, "llvm.x86.tileloadd") ||
      callsFunctionWithPrefix(module, "llvm.x86.tdpbf16ps")) {
    llvm::Function *request = llvm::Function::Create(
        llvm::FunctionType::get(voidTy, {}, false),
        llvm::GlobalValue::InternalLinkage, "moe_layer_request_amx", module);
    builder.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", request));
    constexpr int64_t kArchPrctl = 158, kRequestPermission = 0x1023,
                      kTileData = 18;
    builder.CreateCall(
        module.getOrInsertFunction("syscall",
                                   llvm::FunctionType::get(i64, {i64}, true)),
        {builder.getInt64(kArchPrctl), builder.getInt64(kRequestPermission),
         builder.getInt64(kTileData)});
    builder.CreateRetVoid();
    llvm::appendToGlobalCtors(module, request, /*Priority=*/0);
  }
  return llvm::Error::success();
}

llvm::Error emitObject(llvm::Module &module, llvm::TargetMachine &machine,
                       llvm::StringRef path) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return createStringError("cannot write '" + path + "': " + ec.message());
  llvm::legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, os, nullptr,
                                  llvm::CodeGenFileType::ObjectFile))
    return createStringError("LLVM cannot emit an object file for " +
                             machine.getTargetTriple().str());
  passes.run(module);
  os.close();
  if (os.has_error())
    return createStringError("cannot write '" + path +
                             "': " + os.error().message());
  return llvm::Error::success();
}

/// Copies `from` into `folder` under its own name (links resolved).
llvm::Expected<std::string> copyInto(llvm::StringRef from,
                                     llvm::StringRef folder) {
  llvm::SmallString<256> real;
  if (std::error_code ec = llvm::sys::fs::real_path(from, real))
    return createStringError("cannot find '" + from + "': " + ec.message());
  llvm::SmallString<256> to(folder);
  llvm::sys::path::append(to, llvm::sys::path::filename(real));
  llvm::SmallString<256> realTo;
  if (!llvm::sys::fs::real_path(to, realTo) && realTo == real)
    return std::string(to);
  if (std::error_code ec = llvm::sys::fs::copy_file(real, to))
    return createStringError("cannot copy '" + real + "' to '" + to +
                             "': " + ec.message());
  return std::string(to);
}
} // namespace

llvm::Expected<LibraryResult>
compileLayerLibrary(ModuleOp module, const LibraryOptions &options,
                    const std::string &outputPath) {
  FailureOr<run::EntryPoint> entry = run::findEntryPoint(module, options.entry);
  if (failed(entry))
    return createStringError("no layer to compile");
  FailureOr<run::LayerDescription> description = run::describeLayer(*entry);
  if (failed(description))
    return createStringError("the cost model cannot count the layer");
  std::string function = description->function;
  description->target = options.target;
  if (options.target == "gpu")
    description->chip = options.chip;

  auto machine = createTargetMachine(options);
  if (!machine)
    return machine.takeError();
  PassManager pm(module.getContext());
  llvm::Expected<std::string> pipeline =
      buildPipeline(pm, options, **machine, description->ranks);
  if (!pipeline)
    return pipeline.takeError();
  description->pipeline = *pipeline;
  if (failed(pm.run(module)))
    return createStringError(*pipeline + " failed");
  if (Operation *lowered = module.lookupSymbol(function)) {
    FailureOr<std::vector<run::PackedWeight>> packed =
        run::packedWeightsOf(lowered);
    if (failed(packed))
      return createStringError(*pipeline + " failed");
    description->packedWeights = std::move(*packed);
  }

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, function);
  if (!llvmModule)
    return createStringError("the lowered module does not translate to LLVM "
                             "IR");
  llvmModule->setDataLayout((*machine)->createDataLayout());
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  if (llvm::Error error = makeOptimizingTransformer(
          /*optLevel=*/3, /*sizeLevel=*/0, machine->get())(llvmModule.get()))
    return std::move(error);
  if (llvm::Error error = addLibraryInterface(*llvmModule, *description))
    return std::move(error);

  LibraryResult result;
  result.description = *description;
  for (const llvm::Function &fn : *llvmModule)
    result.functions += !fn.isDeclaration();
  bool usesOpenMP = callsFunctionWithPrefix(*llvmModule, "__kmpc_");

  llvm::SmallString<128> object;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("moe-layer", "o", object))
    return createStringError("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removeObject(object);
  if (llvm::Error error = emitObject(*llvmModule, **machine, object))
    return std::move(error);

  // The runtime libraries next to the library, which finds them through
  // its rpath: the folder then runs on a machine without our build.
  llvm::SmallString<256> folder(outputPath);
  llvm::sys::path::remove_filename(folder);
  if (folder.empty())
    folder = ".";
  if (std::error_code ec = llvm::sys::fs::create_directories(folder))
    return createStringError("cannot create '" + folder + "': " + ec.message());
  std::string runtimeDir = options.runtimeDir.empty() ? MOE_PORTABLE_RUNTIME_DIR
                                                      : options.runtimeDir;
  llvm::SmallString<256> runtime(runtimeDir);
  llvm::sys::path::append(runtime, "libmoe_runtime.so");
  std::vector<std::string> libraries;
  auto copiedRuntime = copyInto(runtime, folder);
  if (!copiedRuntime)
    return copiedRuntime.takeError();
  libraries.push_back(*copiedRuntime);
  if (usesOpenMP) {
    auto copiedOpenMP = copyInto(MOE_LIBOMP_PATH, folder);
    if (!copiedOpenMP)
      return copiedOpenMP.takeError();
    libraries.push_back(*copiedOpenMP);
  }

  std::string linker = options.linker;
  if (linker.empty()) {
    linker = MOE_LLVM_TOOLS_DIR "/clang";
    if (!llvm::sys::fs::can_execute(linker)) {
      auto cc = llvm::sys::findProgramByName("cc");
      if (!cc)
        return createStringError(
            "no C compiler to link with (clang in " MOE_LLVM_TOOLS_DIR
            " or cc on PATH)");
      linker = *cc;
    }
  }
  // --as-needed: a library the layer does not call is not a dependency.
  std::vector<std::string> arguments = {linker,
                                        "-shared",
                                        std::string(object),
                                        "-o",
                                        outputPath,
                                        "-Wl,--as-needed",
                                        "-Wl,--no-undefined",
                                        "-Wl,-rpath,$ORIGIN"};
  arguments.insert(arguments.end(), libraries.begin(), libraries.end());
  arguments.push_back("-lm");
  std::vector<llvm::StringRef> argumentRefs(arguments.begin(), arguments.end());
  std::string linkError;
  int status = llvm::sys::ExecuteAndWait(linker, argumentRefs, std::nullopt, {},
                                         0, 0, &linkError);
  if (status != 0)
    return createStringError("linking " + outputPath + " with " + linker +
                             " failed" +
                             (linkError.empty() ? "" : ": " + linkError));
  result.files.push_back(outputPath);
  result.files.insert(result.files.end(), libraries.begin(), libraries.end());
  return result;
}

} // namespace moe::compile
