"""qc.models: ONNX graphs of the zoo's models, built with numpy + onnx.

    qc.models.minilm    all-MiniLM-L6-v2 from its safetensors (FP32)
    qc.models.smollm2   SmolLM2-135M-Instruct from its GGUF (FP32 decoder)
    qc.models.resnet    ResNet-18/34/50 with random weights (speed only)
    qc.models.mobilenet MobileNetV2 with random weights (speed only)

Each module's main(argv) is `qc-zoo build NAME ...`; minilm and smollm2
also hold an independent float64 numpy reference of their model (--check).
"""
