// What the page names its downloads, from the input's name and the vocabulary, as a user of
// Ultralytics would name them by hand: yolo_world.onnx -> yolo_world.20cls.onnx when the
// classes changed (new names, a subset), yolo_world.rep.onnx when only the sites were rewritten.
const stem = (input: string) => input.replace(/\.onnx$/i, "") || "model";

/** @param classes the new class count when the vocabulary changed, else null */
export function outputName(input: string, classes: number | null): string {
  return `${stem(input)}.${classes === null ? "rep" : `${classes}cls`}.onnx`;
}

/** The report beside the model: yolo_world.20cls.onnx -> yolo_world.20cls.report.json. */
export const reportName = (output: string) => `${output.replace(/\.onnx$/i, "")}.report.json`;
