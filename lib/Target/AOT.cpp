//===- AOT.cpp - ahead-of-time compilation to a qc artifact ---------------===//

#include "qc/Target/AOT.h"

#include "ArtifactWriter.h"
#include "QC/IR/QCOps.h"
#include "qc/Pipelines/Pipelines.h"
#include "qc/Transforms/Passes.h"
#include "qc/Support/AtomicFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Linker/Linker.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;
using namespace qc;
using namespace qc::detail;

namespace {

std::string manifestDType(Type elt, DictionaryAttr attrs) {
  if (attrs)
    if (auto d = attrs.getAs<StringAttr>(kDTypeAttrName))
      return d.str();
  if (elt.isF32())
    return "f32";
  if (elt.isF64())
    return "f64";
  if (elt.isF16())
    return "f16";
  if (elt.isBF16())
    return "bf16";
  if (elt.isInteger(1))
    return "bool";
  if (auto it = dyn_cast<IntegerType>(elt))
    return "i" + std::to_string(it.getWidth());
  return "";
}

/// The outputs that are a key-value cache input updated in place: a cache
/// result of qc.cached_attention whose cache operand is an argument of the
/// entry read by nothing else.
void findStates(func::FuncOp func, ArtifactLayout &layout) {
  auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  llvm::SmallDenseSet<unsigned> taken;
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto op = v.getDefiningOp<CachedAttentionOp>();
    if (!op || v == op.getResult())
      continue;
    Value cache =
        v == op.getKeyCacheOut() ? op.getKeyCache() : op.getValueCache();
    auto arg = dyn_cast<BlockArgument>(cache);
    if (!arg || arg.getOwner() != &func.getBody().front() ||
        !arg.hasOneUse() || !taken.insert(arg.getArgNumber()).second)
      continue;
    layout.states.push_back({arg.getArgNumber(), unsigned(i)});
  }
}

/// Describes the entry's arguments and results before lowering erases the
/// tensor types.
LogicalResult describeInterface(func::FuncOp func, ArtifactLayout &layout) {
  auto describe = [&](Type type, DictionaryAttr attrs, StringRef kind,
                      unsigned i, ArtifactTensor &t) -> LogicalResult {
    auto rt = dyn_cast<RankedTensorType>(type);
    if (!rt || !rt.hasStaticShape())
      return func.emitError() << kind << " " << i
                              << " must be a statically shaped tensor, found "
                              << type;
    t.name = kind.str() + "_" + std::to_string(i);
    if (attrs)
      if (auto n = attrs.getAs<StringAttr>("qc.name"))
        t.name = n.str();
    t.dtype = manifestDType(rt.getElementType(), attrs);
    if (manifestDTypeSize(t.dtype) == 0)
      return func.emitError() << kind << " '" << t.name
                              << "' has unsupported element type "
                              << rt.getElementType();
    t.shape.assign(rt.getShape().begin(), rt.getShape().end());
    return success();
  };
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    ArtifactTensor t;
    if (failed(describe(func.getArgument(i).getType(), func.getArgAttrDict(i),
                        "input", i, t)))
      return failure();
    layout.inputs.push_back(std::move(t));
  }
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    ArtifactTensor t;
    if (failed(describe(func.getResultTypes()[i], func.getResultAttrDict(i),
                        "output", i, t)))
      return failure();
    layout.outputs.push_back(std::move(t));
  }
  findStates(func, layout);
  return success();
}

/// The exported name of an entry's symbol: `base` for the default entry,
/// `base_<entry>` for the others.
std::string entrySymbol(StringRef base, const ArtifactLayout &layout) {
  return layout.entry.empty() ? base.str()
                              : (base + "_" + layout.entry).str();
}

/// Adds `qc_entry(void **args)` and the embedded manifest to the module
/// (`qc_entry_<name>`, `qc_manifest_<name>` for an entry other than the
/// default); `layouts` are all the artifact's entries, `layout` one of them.
LogicalResult addEntryAndManifest(llvm::Module &mod, StringRef entry,
                                  ArrayRef<ArtifactLayout> layouts,
                                  const ArtifactLayout &layout, Location loc) {
  llvm::LLVMContext &ctx = mod.getContext();
  llvm::Function *ciface = mod.getFunction(("_mlir_ciface_" + entry).str());
  if (!ciface)
    return emitError(loc) << "the lowered module has no C interface for '"
                          << entry << "'";
  size_t expected = layout.inputs.size() + layout.weights.size() +
                    layout.outputs.size() - layout.states.size();
  if (ciface->arg_size() != expected)
    return emitError(loc) << "internal error: the entry takes "
                          << ciface->arg_size() << " arguments, expected "
                          << expected;
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr},
                                       /*isVarArg=*/false);
  auto *fn = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                                    entrySymbol("qc_entry", layout), mod);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  SmallVector<llvm::Value *> args;
  for (unsigned i = 0; i < ciface->arg_size(); ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptr, fn->getArg(0), i);
    args.push_back(b.CreateLoad(ptr, slot));
  }
  b.CreateCall(ciface, args);
  b.CreateRetVoid();

  bool isDefault = &layout == &layouts.front();
  std::string text =
      manifestText(layout, isDefault ? layouts.drop_front()
                                     : ArrayRef<ArtifactLayout>());
  auto *init = llvm::ConstantDataArray::getString(ctx, text, true);
  new llvm::GlobalVariable(mod, init->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, init,
                           entrySymbol("qc_manifest", layout));
  return success();
}

/// Gives every definition but the entry's exports internal linkage, so
/// that entries compiled apart link into one module without clashes
/// (llvm::Linker renames local symbols that collide).
void internalize(llvm::Module &mod, const ArtifactLayout &layout) {
  std::string entry = entrySymbol("qc_entry", layout);
  std::string manifest = entrySymbol("qc_manifest", layout);
  for (llvm::GlobalValue &g : mod.global_values()) {
    if (g.isDeclaration() || g.hasAppendingLinkage() ||
        g.getName().starts_with("llvm.") || g.getName() == entry ||
        g.getName() == manifest)
      continue;
    g.setLinkage(llvm::GlobalValue::InternalLinkage);
    if (auto *object = dyn_cast<llvm::GlobalObject>(&g))
      object->setComdat(nullptr);
  }
}

FailureOr<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const AOTOptions &options, Location loc) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) {
    emitError(loc) << "no LLVM target for " << triple.str() << ": " << error;
    return failure();
  }
  if (std::string bad = checkTargetOptions(options.cpu, options.features);
      !bad.empty()) {
    emitError(loc) << bad;
    return failure();
  }
  std::string cpu = options.cpu;
  llvm::SubtargetFeatures features;
  if (cpu == "host") {
    cpu = llvm::sys::getHostCPUName().str();
    for (auto &f : llvm::sys::getHostCPUFeatures())
      features.AddFeature(f.first(), f.second);
  }
  if (!options.features.empty())
    features.addFeaturesVector(
        llvm::SubtargetFeatures(options.features).getFeatures());
  llvm::TargetOptions to;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features.getString(), to, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm) {
    emitError(loc) << "cannot create an LLVM target machine for CPU '" << cpu
                   << "'";
    return failure();
  }
  return tm;
}

/// The entry function is one long block of calls to the kernels, each after
/// stores that fill its argument structs (qc-parallel-calls), and its C
/// wrapper one long block of loads. SelectionDAG's store merging compares
/// every store with every other hanging off the same chain: 8 of a 2-block
/// model's 15 s of compile time. Such glue has nothing for instruction
/// selection's optimizations to improve (it runs once per inference), so it
/// is selected without them: long single-block functions without float
/// vector code get optnone (after the IR optimizations have run on them).
void selectGlueQuickly(llvm::Module &module) {
  constexpr size_t kLong = 256;
  for (llvm::Function &f : module) {
    if (f.isDeclaration() || f.size() != 1 || f.front().size() < kLong)
      continue;
    // (The SLP vectorizer packs the descriptors' integer stores into
    // integer vectors; float vectors mean compute.)
    auto isFloatVector = [](llvm::Type *t) {
      return t->isVectorTy() && t->isFPOrFPVectorTy();
    };
    bool compute = llvm::any_of(f.front(), [&](llvm::Instruction &i) {
      return isFloatVector(i.getType()) ||
             llvm::any_of(i.operands(), [&](llvm::Value *v) {
               return isFloatVector(v->getType());
             });
    });
    if (compute)
      continue;
    f.addFnAttr(llvm::Attribute::NoInline);
    f.addFnAttr(llvm::Attribute::OptimizeNone);
  }
}

} // namespace

namespace {
/// The kernel stage (qc-kernels), then the weights it outlined into the
/// entry's trailing arguments go into `layout` (their offsets come later,
/// once every entry's are known).
LogicalResult runKernelStage(ModuleOp module, func::FuncOp func,
                             const AOTOptions &options, ArtifactLayout &layout,
                             TimingScope &timing) {
  PassManager pm(module.getContext());
  pm.enableTiming(timing);
  KernelsOptions kernels;
  kernels.reference = options.kernels == "reference";
  kernels.target = options.kernelTarget;
  kernels.uniformLut = options.uniformLut;
  kernels.packWeights = options.packWeights;
  kernels.entry = options.entry;
  buildKernelsPipeline(pm, kernels);
  if (failed(pm.run(module)))
    return failure();
  for (unsigned i = layout.inputs.size(); i < func.getNumArguments(); ++i) {
    auto attr =
        func.getArgAttrOfType<DenseResourceElementsAttr>(i, "qc.weight");
    if (!attr)
      return func.emitError() << "argument " << i
                              << " is neither an input nor a weight";
    AsmResourceBlob *blob = attr.getRawHandle().getBlob();
    if (!blob)
      return func.emitError() << "weight '" << attr.getRawHandle().getKey()
                              << "' has no data";
    ArtifactTensor t;
    t.name = attr.getRawHandle().getKey().str();
    t.dtype = manifestDType(attr.getType().getElementType(), {});
    t.shape.assign(attr.getType().getShape().begin(),
                   attr.getType().getShape().end());
    t.data = blob->getData();
    int64_t expected =
        attr.getType().getNumElements() * manifestDTypeSize(t.dtype);
    if (static_cast<int64_t>(t.data.size()) != expected)
      return func.emitError() << "weight '" << t.name << "' holds "
                              << t.data.size() << " bytes, its type needs "
                              << expected;
    layout.weights.push_back(std::move(t));
  }
  layoutWeights(layout);
  return success();
}

/// Lowers the module to the LLVM dialect, translates it and optimizes it
/// for `tm`, with the wrapper and the embedded manifest of the entry
/// `layout` (one of `layouts`); only those two stay exported.
FailureOr<std::unique_ptr<llvm::Module>>
lowerToLLVMIR(ModuleOp module, func::FuncOp func, const AOTOptions &options,
              ArrayRef<ArtifactLayout> layouts, const ArtifactLayout &layout,
              llvm::TargetMachine &tm, llvm::LLVMContext &llvmContext,
              TimingScope &root) {
  MLIRContext *ctx = module.getContext();
  Location loc = module.getLoc();
  // Interface facts are recorded in the layout; LLVM has no use for them.
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    func.setArgAttrs(i, ArrayRef<NamedAttribute>{});
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    func.setResultAttrs(i, ArrayRef<NamedAttribute>{});
  // States are updated in place: qc-drop-state-results checks that
  // bufferization did so and removes them from the results.
  SmallVector<int64_t> statePairs;
  for (const ArtifactState &st : layout.states)
    statePairs.append({int64_t(st.output), int64_t(st.input)});
  if (!statePairs.empty())
    func->setAttr(kStateResultsAttrName,
                  DenseI64ArrayAttr::get(ctx, statePairs));
  func->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  TimingScope lowerStage = root.nest("lowering (qc-lower-to-llvm)");
  PassManager lower(ctx);
  lower.enableTiming(lowerStage);
  LowerToLLVMOptions lowerOptions;
  lowerOptions.vectorize = options.vectorize;
  buildLowerToLLVMPipeline(lower, lowerOptions);
  if (failed(lower.run(module)))
    return emitError(loc) << "lowering to LLVM failed";
  lowerStage.stop();

  registerBuiltinDialectTranslation(*ctx);
  registerLLVMDialectTranslation(*ctx);
  TimingScope translating = root.nest("LLVM IR translation");
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "qc_model");
  translating.stop();
  if (!llvmModule)
    return emitError(loc) << "translation to LLVM IR failed";
  llvmModule->setDataLayout(tm.createDataLayout());
  llvmModule->setTargetTriple(tm.getTargetTriple());
  if (failed(addEntryAndManifest(*llvmModule, options.entry, layouts, layout,
                                 loc)))
    return failure();
  TimingScope optimizing = root.nest("LLVM optimization");
  auto optimize =
      makeOptimizingTransformer(options.optLevel, /*sizeLevel=*/0, &tm);
  if (llvm::Error err = optimize(llvmModule.get()))
    return emitError(loc) << "LLVM optimization failed: "
                          << llvm::toString(std::move(err));
  optimizing.stop();
  internalize(*llvmModule, layout);
  selectGlueQuickly(*llvmModule);
  return llvmModule;
}

/// Writes the object file of `llvmModule` to `objPath`, then links it into
/// the shared object `soPath`.
LogicalResult emitSharedObject(llvm::Module &llvmModule,
                               llvm::TargetMachine &tm,
                               const AOTOptions &options, StringRef objPath,
                               StringRef soPath, Location loc) {
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objPath, ec);
    if (ec)
      return emitError(loc) << "cannot write '" << objPath
                            << "': " << ec.message();
    llvm::legacy::PassManager codegen;
    if (tm.addPassesToEmitFile(codegen, os, nullptr,
                               llvm::CodeGenFileType::ObjectFile))
      return emitError(loc) << "the target cannot emit object files";
    codegen.run(llvmModule);
  }
  llvm::ErrorOr<std::string> linker =
      llvm::sys::findProgramByName(options.linker);
  if (!linker)
    return emitError(loc) << "cannot find the linker driver '"
                          << options.linker << "' on PATH";
  std::string linkError;
  // Undefined symbols are allowed: libqcrt provides memrefCopy at load time.
  SmallVector<StringRef> args = {*linker, "-shared", "-o", soPath, objPath,
                                 "-lm"};
  int rc = llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, {}, 0, 0,
                                     &linkError);
  if (rc != 0)
    return emitError(loc) << "linking the shared object failed (" << *linker
                          << " exited with " << rc << ")"
                          << (linkError.empty() ? "" : ": ") << linkError;
  return success();
}

/// Compiles every entry's module to one optimized LLVM module: the default
/// entry's, with the others' linked in. Fills `layouts` (one per entry) and
/// the weights payload they share.
FailureOr<std::unique_ptr<llvm::Module>>
compileEntries(ArrayRef<ArtifactEntry> entries, const AOTOptions &options,
               llvm::TargetMachine &tm, llvm::LLVMContext &llvmContext,
               std::vector<ArtifactLayout> &layouts, WeightsPayload &payload,
               TimingScope &root) {
  SmallVector<func::FuncOp> funcs;
  layouts.resize(entries.size());
  for (auto [entry, layout] : llvm::zip(entries, layouts)) {
    ModuleOp module = entry.module;
    funcs.push_back(module.lookupSymbol<func::FuncOp>(options.entry));
    layout.entry = entry.name;
    layout.planes = entry.planes;
    if (failed(describeInterface(funcs.back(), layout)))
      return failure();
  }
  // Quantized codes take their packed layout, then weights leave the code:
  // they become arguments filled from model.qcw.
  TimingScope kernelStage = root.nest("kernel stage (qc-kernels)");
  for (auto [entry, func, layout] : llvm::zip(entries, funcs, layouts))
    if (failed(runKernelStage(entry.module, func, options, layout,
                              kernelStage)))
      return failure();
  kernelStage.stop();
  payload = layoutWeights(layouts);

  std::unique_ptr<llvm::Module> linked;
  for (auto [entry, func, layout] : llvm::zip(entries, funcs, layouts)) {
    FailureOr<std::unique_ptr<llvm::Module>> mod = lowerToLLVMIR(
        entry.module, func, options, layouts, layout, tm, llvmContext, root);
    if (failed(mod))
      return failure();
    if (!linked)
      linked = std::move(*mod);
    else if (llvm::Linker::linkModules(*linked, std::move(*mod)))
      return emitError(func.getLoc())
             << "internal error: linking entry '" << entry.name << "' failed";
  }
  if (!options.dumpLLVMIR.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream os(options.dumpLLVMIR, ec);
    if (!ec)
      linked->print(os, nullptr);
  }
  return linked;
}

/// Compiles `entries` into the existing folder options.outputDir: every
/// file is written under a temporary name and renamed at the end.
LogicalResult writeArtifact(ArrayRef<ArtifactEntry> entries,
                            const AOTOptions &options) {
  ModuleOp first = entries.front().module;
  Location loc = first.getLoc();
  if (options.kernels != "generated" && options.kernels != "reference")
    return emitError(loc) << "unknown kernel choice '" << options.kernels
                          << "' (expected generated or reference)";
  // --timing: the MLIR passes and the LLVM phases, printed as a tree on
  // stderr when `timing` goes out of scope.
  DefaultTimingManager timing;
  timing.setEnabled(options.timePasses);
  timing.setDisplayMode(DefaultTimingManager::DisplayMode::Tree);
  TimingScope root = timing.getRootScope();

  FailureOr<std::unique_ptr<llvm::TargetMachine>> tm =
      createTargetMachine(options, loc);
  if (failed(tm))
    return failure();
  llvm::LLVMContext llvmContext;
  std::vector<ArtifactLayout> layouts;
  WeightsPayload payload;
  FailureOr<std::unique_ptr<llvm::Module>> llvmModule = compileEntries(
      entries, options, **tm, llvmContext, layouts, payload, root);
  if (failed(llvmModule))
    return failure();

  StagedFiles temps(options.outputDir);
  std::string stageError;
  std::string objPath = temps.create("model.o", stageError);
  std::string soPath = temps.create("model.so", stageError);
  std::string qcwPath = temps.create("model.qcw", stageError);
  std::string jsonPath = temps.create("manifest.json", stageError);
  std::vector<std::pair<std::string, std::string>> extras;
  for (const auto &[name, text] : options.extraFiles)
    extras.push_back({temps.create(name, stageError), name});
  if (!stageError.empty())
    return emitError(loc) << stageError;
  TimingScope generating = root.nest("LLVM code generation and linking");
  if (failed(emitSharedObject(**llvmModule, **tm, options, objPath, soPath,
                              loc)))
    return failure();
  generating.stop();

  TimingScope writing = root.nest("writing the weights and manifest");
  if (llvm::Error err = writeWeightsFile(payload, qcwPath))
    return emitError(loc) << llvm::toString(std::move(err));
  auto writeText = [&](const std::string &path, StringRef text) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (!ec)
      os << text;
    os.close();
    if (!ec && !os.has_error())
      return true;
    emitError(loc) << "cannot write '" << path
                   << "': " << (ec ? ec : os.error()).message();
    return false;
  };
  if (!writeText(jsonPath, manifestJSON(layouts)))
    return failure();
  for (size_t i = 0; i < extras.size(); ++i)
    if (!writeText(extras[i].first, options.extraFiles[i].second))
      return failure();
  // The shared object goes last: it names the weights' checksum, so a
  // reader never pairs a new model.so with an old model.qcw unnoticed.
  for (const auto &[temp, name] : extras)
    if (!temps.commit(temp, name, stageError))
      return emitError(loc) << stageError;
  if (!temps.commit(qcwPath, "model.qcw", stageError) ||
      !temps.commit(jsonPath, "manifest.json", stageError) ||
      !temps.commit(soPath, "model.so", stageError))
    return emitError(loc) << stageError;
  return success();
}
} // namespace

std::string qc::checkTargetOptions(StringRef cpu, StringRef features) {
  llvm::InitializeNativeTarget();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return "no LLVM target for " + triple.str() + ": " + error;
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!sti)
    return "no subtarget information for " + triple.str();
  if (cpu != "host" && !sti->isCPUStringValid(cpu))
    return ("--cpu: '" + cpu + "' is not a CPU of " + triple.str() +
            " (see llc -mcpu=help)")
        .str();
  llvm::SubtargetFeatures list(features);
  for (const std::string &f : list.getFeatures()) {
    StringRef name = StringRef(f).drop_front(f[0] == '+' || f[0] == '-');
    bool known = llvm::any_of(
        sti->getAllProcessorFeatures(),
        [&](const llvm::SubtargetFeatureKV &kv) { return name == kv.Key; });
    if (!known)
      return ("--features: '" + name + "' is not a feature of " +
              triple.str() + " (see llc -mattr=help)")
          .str();
  }
  return "";
}

LogicalResult qc::compileToArtifact(ModuleOp module,
                                    const AOTOptions &options) {
  return compileToArtifact(ArrayRef<ArtifactEntry>{{"", module}}, options);
}

LogicalResult qc::compileToArtifact(ArrayRef<ArtifactEntry> entries,
                                    const AOTOptions &options) {
  ModuleOp first = entries.front().module;
  Location loc = first.getLoc();
  llvm::StringSet<> names;
  for (const ArtifactEntry &entry : entries) {
    ModuleOp module = entry.module;
    Location at = module.getLoc();
    if (!module.lookupSymbol<func::FuncOp>(options.entry))
      return emitError(at) << "no entry function named '" << options.entry
                           << "'";
    bool isDefault = &entry == &entries.front();
    if (isDefault != entry.name.empty())
      return emitError(at) << "internal error: only the first entry is the "
                              "default one (no name)";
    if (!isDefault &&
        (!llvm::all_of(entry.name,
                       [](char c) { return llvm::isAlnum(c) || c == '_'; }) ||
         !names.insert(entry.name).second))
      return emitError(at) << "entry name '" << entry.name
                           << "' is repeated or not [A-Za-z0-9_]+";
  }
  bool existed = llvm::sys::fs::exists(options.outputDir);
  if (std::error_code ec =
          llvm::sys::fs::create_directories(options.outputDir))
    return emitError(loc) << "cannot create the output folder '"
                          << options.outputDir << "': " << ec.message();
  if (succeeded(writeArtifact(entries, options)))
    return success();
  // A failed compile leaves nothing behind: its temporary files are gone,
  // and so is the folder if this call made it (remove() takes only an
  // empty folder, so nothing of the user's is lost).
  if (!existed)
    llvm::sys::fs::remove(options.outputDir);
  return failure();
}
