// The dense tensor every reader hands upward (an initializer, a .npy file): dims plus values
// widened to float64, which is exact for every float16/float32 value and every integer a shape
// computation uses. It lives in io/ so that io/ depends on nothing of ours; ir/tensor.ts
// re-exports it with the conversions to and from TensorProto.
export interface ConstTensor { dtype: number; dims: number[]; data: Float64Array }
