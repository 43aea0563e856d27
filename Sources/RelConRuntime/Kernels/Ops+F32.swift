// The fp32 operators other than CONV1D and LINEAR, on channels-last [L][C] f32 values (every layer of f32/f16
// blobs, the f32 tail of int8 blobs), one file per operator: Affine+F32, Add+F32, Relu+F32 (`ElementwiseF32`),
// MaxPool+F32, Mean+F32 (`PoolF32`). CONV1D: Conv1D+F32 (through the kernel table); LINEAR: Linear+F32.

/// Elementwise fp32 operators: AFFINE (op 2), ADD (op 4), RELU (op 7).
enum ElementwiseF32 {}

/// Pooling over time, fp32: MAXPOOL (op 3), MEAN (op 5).
enum PoolF32 {}
