// The decoded ONNX messages as protobufjs hands them out (keepCase, int64 as Long).
// Only the fields this project reads or writes are typed; every other field, known
// or unknown, still rides along on the same objects and is re-encoded untouched.
import type Long from "long";

export type Int64 = Long | number;

export interface StringStringEntry { key?: string; value?: string }

export interface TensorShapeDim { dim_value?: Int64 | null; dim_param?: string | null; denotation?: string }
export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim?: TensorShapeDim[] } | null } | null;
  [k: string]: unknown;
}
export interface ValueInfo { name?: string; type?: TypeProto | null; doc_string?: string; [k: string]: unknown }

export interface Tensor {
  dims?: Int64[];
  data_type?: number;
  name?: string;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: Int64[];
  uint64_data?: Int64[];
  double_data?: number[];
  string_data?: Uint8Array[];
  external_data?: StringStringEntry[];
  data_location?: number;
  doc_string?: string;
  [k: string]: unknown;
}

export interface Attribute {
  name?: string;
  type?: number;
  f?: number; i?: Int64; s?: Uint8Array; t?: Tensor | null; g?: Graph | null;
  floats?: number[]; ints?: Int64[]; strings?: Uint8Array[]; tensors?: Tensor[]; graphs?: Graph[];
  ref_attr_name?: string;
  [k: string]: unknown;
}

export interface Node {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  overload?: string;
  attribute?: Attribute[];
  doc_string?: string;
  [k: string]: unknown;
}

export interface Graph {
  node?: Node[];
  name?: string;
  initializer?: Tensor[];
  sparse_initializer?: unknown[];
  input?: ValueInfo[];
  output?: ValueInfo[];
  value_info?: ValueInfo[];
  [k: string]: unknown;
}

export interface OperatorSetId { domain?: string; version?: Int64 }

export interface Model {
  ir_version?: Int64;
  opset_import?: OperatorSetId[];
  producer_name?: string;
  graph?: Graph | null;
  metadata_props?: StringStringEntry[];
  functions?: unknown[];
  [k: string]: unknown;
}

/** TensorProto.DataType values. */
export const DT = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
  FLOAT8E4M3FN: 17, FLOAT8E4M3FNUZ: 18, FLOAT8E5M2: 19, FLOAT8E5M2FNUZ: 20, UINT4: 21, INT4: 22,
  FLOAT4E2M1: 23,
} as const;

/** AttributeProto.AttributeType values. */
export const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;
