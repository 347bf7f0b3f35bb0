// Replacement graphs for a neck site, all exact and all keeping batch/height/width
// dynamic (reshape targets use 0 = "copy this dim" and -1, never baked-in sizes):
//   conv:     Conv(X, W[M*K, c], group=M) -> Reshape(-1, K, 0, 0) -> ReduceMax(1) -> Reshape(-1, M, 0, 0)
//   per-head: M x [Slice -> Conv(W_m[K, c]) -> ReduceMax(1)] -> Concat   (upstream's layout, plus the max)
//   matmul:   Transpose(x5, 01342) -> MatMul(., W[M, 1, c, K]) -> ReduceMax(-1)
// Which is fastest is measured by `npm run bench` (bench/neck-forms.ts); "conv" is the default.
import type { Node } from "../io/onnx-types.ts";
import { DT } from "../io/onnx-types.ts";
import type { GraphIR } from "../ir/graph.ts";
import type { ConstTensor } from "../ir/tensor.ts";
import Long from "long";

export type NeckLayout = "conv" | "per-head" | "matmul";

export interface NeckSpec {
  layout: NeckLayout;
  x4: string; x5: string; out: string;
  /** Guide as [K, M, c]. */
  guide: ConstTensor;
  factor: number;
  dtype: number;
  name: string;
  replaces: Node[];
  opset: number;
}

const L = (v: number) => Long.fromNumber(v);
const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v.map(L) });
const int = (name: string, v: number) => ({ name, type: 2, i: L(v) });

export function emitNeck(g: GraphIR, s: NeckSpec): Node[] {
  const [K, M, c] = s.guide.dims;
  const gd = s.guide.data;
  const at = (n: number, m: number, j: number) => gd[(n * M + m) * c + j] * s.factor;
  const v = (suffix: string) => g.uniqueName(`${s.name}/reparam_${suffix}`);
  const i64 = (suffix: string, data: number[]) => g.addInitializer(`${s.name}/reparam_${suffix}`, { dtype: DT.INT64, dims: [data.length], data: Float64Array.from(data) });
  const node = (op_type: string, input: string[], output: string[], attribute: Node["attribute"] = []): Node => ({ name: v(op_type.toLowerCase()), op_type, input, output, attribute });
  // ReduceMax took its axes as an attribute before opset 18 and as an input since.
  const reduceMax = (x: string, axis: number, keep: number, out: string): Node =>
    s.opset >= 18
      ? node("ReduceMax", [x, i64("axes", [axis])], [out], [int("keepdims", keep)])
      : node("ReduceMax", [x], [out], [ints("axes", [axis]), int("keepdims", keep)]);

  const nodes: Node[] = [];
  if (s.layout === "conv") {
    const w = new Float64Array(M * K * c);
    for (let m = 0; m < M; m++) for (let n = 0; n < K; n++) for (let j = 0; j < c; j++) w[(m * K + n) * c + j] = at(n, m, j);
    const wName = g.addInitializer(`${s.name}/reparam_weight`, { dtype: s.dtype, dims: [M * K, c, 1, 1], data: w });
    const y = v("conv_out"), y4 = v("per_head"), r = v("max");
    nodes.push(
      node("Conv", [s.x4, wName], [y], [ints("kernel_shape", [1, 1]), int("group", M)]),
      node("Reshape", [y, i64("shape_heads", [-1, K, 0, 0])], [y4]),
      reduceMax(y4, 1, 1, r),
      node("Reshape", [r, i64("shape_out", [-1, M, 0, 0])], [s.out]),
    );
  } else if (s.layout === "per-head") {
    const parts: string[] = [];
    for (let m = 0; m < M; m++) {
      const w = new Float64Array(K * c);
      for (let n = 0; n < K; n++) for (let j = 0; j < c; j++) w[n * c + j] = at(n, m, j);
      const wName = g.addInitializer(`${s.name}/reparam_weight_h${m}`, { dtype: s.dtype, dims: [K, c, 1, 1], data: w });
      const xs = v(`slice_h${m}`), y = v(`conv_h${m}`), r = v(`max_h${m}`);
      nodes.push(
        // Slice took starts/ends/axes as attributes before opset 10.
        s.opset >= 10
          ? node("Slice", [s.x4, i64(`start_h${m}`, [m * c]), i64(`end_h${m}`, [(m + 1) * c]), i64(`axis_h${m}`, [1])], [xs])
          : node("Slice", [s.x4], [xs], [ints("starts", [m * c]), ints("ends", [(m + 1) * c]), ints("axes", [1])]),
        node("Conv", [xs, wName], [y], [ints("kernel_shape", [1, 1])]),
        reduceMax(y, 1, 1, r),
      );
      parts.push(r);
    }
    nodes.push(node("Concat", parts, [s.out], [int("axis", 1)]));
  } else {
    const w = new Float64Array(M * c * K);
    for (let m = 0; m < M; m++) for (let j = 0; j < c; j++) for (let n = 0; n < K; n++) w[(m * c + j) * K + n] = at(n, m, j);
    const wName = g.addInitializer(`${s.name}/reparam_weight`, { dtype: s.dtype, dims: [M, 1, c, K], data: w });
    const t = v("nhwc"), y = v("scores");
    nodes.push(
      node("Transpose", [s.x5], [t], [ints("perm", [0, 1, 3, 4, 2])]),
      node("MatMul", [t, wName], [y]),
      reduceMax(y, -1, 0, s.out),
    );
  }
  g.insertNodes(nodes, s.replaces[0]);
  g.removeNodes(s.replaces);
  return nodes;
}
