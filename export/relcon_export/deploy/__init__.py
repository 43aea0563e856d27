"""From a trained encoder to a blob on a device: folding, quantisation, the integer reference, heads, packing.

fold      BatchNorm folding into the layer list; the float interpreter
quantize  calibration and the int8 layer list; f16 weights
intref    the NumPy integer reference (bit-exact int8 semantics)
heads     probe heads (fit, read back, predict)
builder   BlobBuilder: encoder graph + heads + self-test, packed once; export_encoder / export_quantized
fixtures  golden sets and heads fixtures
parity    int8 / f16 vs PyTorch parity reports
ship      the shipped default model
"""
