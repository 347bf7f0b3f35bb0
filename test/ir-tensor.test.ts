// readTensor / toTensorProto: every storage form ONNX allows for the types folding uses,
// and raw_data that is a misaligned view into a file buffer (as protobufjs hands it out).
import { describe, expect, it } from "vitest";
import Long from "long";
import { readTensor, toTensorProto } from "../passes/ir/tensor.ts";
import { decodeModelBytes, encodeModel } from "../passes/io/codec.ts";
import { DT, type Tensor } from "../passes/io/onnx-types.ts";
import { ReparamError } from "../passes/errors.ts";

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

// The same bytes at an odd offset inside a Node Buffer, whose slice() is a view, not a copy.
function misaligned(bytes: Uint8Array): Uint8Array {
  const host = Buffer.alloc(bytes.length + 3);
  host.set(bytes, 1);
  const view = host.subarray(1, 1 + bytes.length);
  expect(view.byteOffset % 2).toBe(1);
  return view;
}

const read = (t: Tensor) => {
  const c = readTensor(t);
  return c && { dtype: c.dtype, dims: c.dims, data: Array.from(c.data) };
};

describe("readTensor", () => {
  const f32 = [1.5, -2, 65504, 2 ** -24];
  const f16Bits = [0x3e00, 0xc000, 0x7bff, 0x0001]; // the same values as fp16
  const i64 = [0n, -1n, 2n ** 40n, -(2n ** 52n)];

  it.each([
    ["float32 raw", { data_type: DT.FLOAT, dims: [4], raw_data: bytesOf(Float32Array.from(f32)) }],
    ["float32 raw, misaligned", { data_type: DT.FLOAT, dims: [4], raw_data: misaligned(bytesOf(Float32Array.from(f32))) }],
    ["float32 float_data", { data_type: DT.FLOAT, dims: [Long.fromNumber(4)], float_data: f32 }],
  ])("%s", (_label, t) => {
    expect(read(t as Tensor)).toEqual({ dtype: DT.FLOAT, dims: [4], data: f32 });
  });

  it.each([
    ["fp16 raw", { data_type: DT.FLOAT16, dims: [4], raw_data: bytesOf(Uint16Array.from(f16Bits)) }],
    ["fp16 raw, misaligned", { data_type: DT.FLOAT16, dims: [4], raw_data: misaligned(bytesOf(Uint16Array.from(f16Bits))) }],
    ["fp16 bits in int32_data", { data_type: DT.FLOAT16, dims: [4], int32_data: f16Bits }],
  ])("%s", (_label, t) => {
    expect(read(t as Tensor)).toEqual({ dtype: DT.FLOAT16, dims: [4], data: f32 });
  });

  it.each([
    ["int64 raw", { data_type: DT.INT64, dims: [2, 2], raw_data: bytesOf(BigInt64Array.from(i64)) }],
    ["int64 raw, misaligned", { data_type: DT.INT64, dims: [2, 2], raw_data: misaligned(bytesOf(BigInt64Array.from(i64))) }],
    ["int64 int64_data (Long)", { data_type: DT.INT64, dims: [2, 2], int64_data: i64.map((v) => Long.fromString(String(v))) }],
  ])("%s", (_label, t) => {
    expect(read(t as Tensor)).toEqual({ dtype: DT.INT64, dims: [2, 2], data: i64.map(Number) });
  });

  it("double, int32 and bf16 raw", () => {
    expect(read({ data_type: DT.DOUBLE, dims: [2], raw_data: misaligned(bytesOf(Float64Array.of(1e300, -0.5))) })!.data).toEqual([1e300, -0.5]);
    expect(read({ data_type: DT.INT32, dims: [2], raw_data: misaligned(bytesOf(Int32Array.of(-7, 2 ** 30))) })!.data).toEqual([-7, 2 ** 30]);
    expect(read({ data_type: DT.BFLOAT16, dims: [2], raw_data: bytesOf(Uint16Array.of(0x3f80, 0xc040)) })!.data).toEqual([1, -3]);
  });

  it("a scalar and an empty tensor", () => {
    expect(read({ data_type: DT.FLOAT, dims: [], float_data: [7] })).toEqual({ dtype: DT.FLOAT, dims: [], data: [7] });
    expect(read({ data_type: DT.FLOAT, dims: [0, 3] })).toEqual({ dtype: DT.FLOAT, dims: [0, 3], data: [] });
  });

  it("raw_data whose length does not match the shape is an error naming the tensor", () => {
    expect(() => readTensor({ name: "bad", data_type: DT.FLOAT, dims: [3], raw_data: new Uint8Array(8) })).toThrow(ReparamError);
    expect(() => readTensor({ name: "bad", data_type: DT.FLOAT, dims: [3], raw_data: new Uint8Array(8) })).toThrow(/'bad'.*8 bytes.*12/);
  });

  it("null for types and forms it does not fold", () => {
    expect(readTensor({ data_type: DT.STRING, dims: [1], string_data: [new Uint8Array([1])] })).toBeNull();
    expect(readTensor({ data_type: DT.FLOAT8E4M3FN, dims: [2], raw_data: new Uint8Array(2) })).toBeNull();
    expect(readTensor({ data_type: DT.FLOAT, dims: [3], float_data: [1, 2] })).toBeNull(); // too few values
  });
});

describe("toTensorProto", () => {
  const values = Float64Array.of(0, -1.25, 3, 1024);

  it.each([
    ["float32", DT.FLOAT], ["float64", DT.DOUBLE], ["fp16", DT.FLOAT16], ["bf16", DT.BFLOAT16], ["int64", DT.INT64], ["int32", DT.INT32],
  ])("%s survives toTensorProto -> encode -> decode -> readTensor", (_label, dtype) => {
    const data = dtype === DT.INT64 || dtype === DT.INT32 ? Float64Array.of(0, -1, 3, 2 ** 30) : values;
    const t = toTensorProto("t", { dtype: DT.FLOAT, dims: [2, 2], data }, dtype);
    expect(t.data_type).toBe(dtype);
    expect(t.dims!.map(String)).toEqual(["2", "2"]);
    const model = decodeModelBytes(encodeModel({ graph: { initializer: [t] } }));
    const back = readTensor(model.graph!.initializer![0])!;
    expect(back.dtype).toBe(dtype);
    expect(back.dims).toEqual([2, 2]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it("narrows to the target type with round-to-nearest-even", () => {
    const t = toTensorProto("h", { dtype: DT.FLOAT, dims: [2], data: Float64Array.of(1 + 2 ** -11, 65520) }, DT.FLOAT16);
    expect(Array.from(new Uint16Array(Uint8Array.from(t.raw_data!).buffer))).toEqual([0x3c00, 0x7c00]);
  });

  it("refuses types it cannot encode", () => {
    expect(() => toTensorProto("s", { dtype: DT.STRING, dims: [1], data: Float64Array.of(0) })).toThrow(/cannot encode/);
  });
});
