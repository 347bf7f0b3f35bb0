// The ONNX schema the codec speaks: onnx-ml.proto from ONNX 1.23 (proto2), parsed at
// start-up by protobufjs 8. Reflection, not generated code, so that updating the
// schema is a file copy (and `node scripts/gen-proto-text.mjs`, which turns it into a module:
// the browser has no fs); keepCase so field names match the spec (raw_data, not rawData).
import protobuf from "protobufjs";
import Long from "long";
import { ONNX_PROTO_TEXT } from "./onnx-proto-text.ts";

protobuf.util.Long = Long;
protobuf.configure();

export const root = protobuf.parse(ONNX_PROTO_TEXT, { keepCase: true }).root;

export const ModelProto = root.lookupType("onnx.ModelProto");
export const TensorProto = root.lookupType("onnx.TensorProto");
export { protobuf, Long };
