//===- QCDialect.td - The qc dialect definition ------------*- tablegen -*-===//

#ifndef QC_DIALECT_TD
#define QC_DIALECT_TD

include "mlir/IR/OpBase.td"

def QC_Dialect : Dialect {
  let name = "qc";
  let summary = "The qc quantization compiler dialect";
  let description = [{
    The `qc` dialect holds the operations that carry quantization intent
    through the compiler: linear layers with constant weights (the unit that
    post-training quantization works on), and later their quantized forms and
    the kernel-level operations that implement them.
  }];
  let cppNamespace = "::qc";
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class QC_Op<string mnemonic, list<Trait> traits = []>
    : Op<QC_Dialect, mnemonic, traits>;

#endif // QC_DIALECT_TD
