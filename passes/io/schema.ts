// The ONNX schema the codec speaks: onnx-ml.proto from ONNX 1.23 (proto2), parsed at
// start-up by protobufjs 8. Reflection, not generated code, so that updating the
// schema is a file copy; keepCase so field names match the spec (raw_data, not rawData).
import { readFileSync } from "node:fs";
import protobuf from "protobufjs";
import Long from "long";

protobuf.util.Long = Long;
protobuf.configure();

const protoText = readFileSync(new URL("./onnx.proto", import.meta.url), "utf8");
export const root = protobuf.parse(protoText, { keepCase: true }).root;

export const ModelProto = root.lookupType("onnx.ModelProto");
export const TensorProto = root.lookupType("onnx.TensorProto");
export { protobuf, Long };
