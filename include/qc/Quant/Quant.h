//===- Quant.h - Weight quantization numerics -------------------*- C++ -*-===//
//
// Umbrella header of the QCQuant library: plain C++17 numerics (no MLIR)
// for weight quantization. See the individual headers for the conventions.
//
//===----------------------------------------------------------------------===//

#ifndef QC_QUANT_QUANT_H
#define QC_QUANT_QUANT_H

#include "qc/Quant/BCQ.h"
#include "qc/Quant/Codebook.h"
#include "qc/Quant/FloatFormats.h"
#include "qc/Quant/GPTQ.h"
#include "qc/Quant/Packing.h"
#include "qc/Quant/Uniform.h"

#endif // QC_QUANT_QUANT_H
