// Size bombs: tiny models whose text path asks the constant folder (or a tensor decoder) for
// a tensor far beyond the cap. Each is a head site, einsum('bchw,bkc->bkhw', x, text), whose
// text operand is computed by the bomb; `node` is the name the refusal must carry.
import Long from "long";
import { DT, type Model } from "../../passes/io/onnx-types.ts";
import { attrInt, attrStr, attrTensor, GraphBuilder, seededNormal } from "../../models/build/yolo-world-sites.ts";
import { toTensorProto } from "../../passes/ir/tensor.ts";

export interface Bomb { name: string; model: Model; node: string }

/** The head around a text value `text` (rank 3, (1, K, C)): one level at 8x8. */
function head(g: GraphBuilder, text: string, name: string, node: string): Bomb {
  const x = g.input("x", [1, 512, 8, 8]);
  const y = g.node("Einsum", [x, text], [attrStr("equation", "bchw,bkc->bkhw")], "Einsum");
  g.output(y, "cls", [1, "K", 8, 8]);
  return { name, model: g.model(name), node };
}

/** The name the last node added got. */
const last = (g: GraphBuilder) => g.nodes[g.nodes.length - 1].name!;
const ones = (g: GraphBuilder, dims: number[]) => g.node("ConstantOfShape", [g.init("dims", [dims.length], dims, DT.INT64)], [attrTensor("value", toTensorProto("", { dtype: DT.FLOAT, dims: [1], data: Float64Array.of(1) }))], "ones");

/** The model: a static text (1, K, 512) Expanded by a shape constant to batch 131073. */
export function expandBomb(k = 1, batch = 131073): Bomb {
  const g = new GraphBuilder(17);
  const txt = g.init("txt_feats", [1, k, 512], seededNormal(1, k * 512));
  const big = g.node("Expand", [txt, g.init("batch_shape", [3], [batch, k, 512], DT.INT64)], [], "text_expand");
  const node = last(g);
  const norm = g.reduce("ReduceL2", big, [-1], 1);
  return head(g, g.node("Div", [big, norm], [], "normalize"), `expand-k${k}-b${batch}`, node);
}

export function constantOfShapeBomb(): Bomb {
  const g = new GraphBuilder(17);
  const t = ones(g, [1, 1e6, 1e6]);
  return head(g, t, "constant-of-shape", last(g));
}

export function rangeBomb(): Bomb {
  const g = new GraphBuilder(17);
  const r = g.node("Range", [g.scalar(0), g.scalar(1e12), g.scalar(1)], [], "range");
  const node = last(g);
  return head(g, g.node("Reshape", [r, g.shape([1, -1, 512])]), "range", node);
}

export function tileBomb(): Bomb {
  const g = new GraphBuilder(17);
  const txt = g.init("txt_feats", [1, 1, 512], seededNormal(2, 512));
  const t = g.node("Tile", [txt, g.shape([1, 1e9, 1])], [], "tile");
  return head(g, t, "tile", last(g));
}

/** 80 copies of a (1, 2^20 / 512 ... ) = 1 Mi-element value: each part is fine, the whole is not. */
export function concatBomb(): Bomb {
  const g = new GraphBuilder(17);
  const txt = g.init("txt_feats", [1, 1, 512], seededNormal(3, 512));
  const part = g.node("Expand", [txt, g.shape([1, 2048, 512])], [], "part");
  const c = g.node("Concat", new Array(80).fill(part), [attrInt("axis", 1)], "concat");
  return head(g, c, "concat", last(g));
}

export function padBomb(): Bomb {
  const g = new GraphBuilder(17);
  const txt = g.init("txt_feats", [1, 1, 512], seededNormal(4, 512));
  const p = g.node("Pad", [txt, g.shape([0, 0, 0, 0, 1e9, 0])], [], "pad");
  return head(g, p, "pad", last(g));
}

/** Gather along the class axis with a (1024, 1024) index: 2^20 rows of 512. */
export function gatherBomb(): Bomb {
  const g = new GraphBuilder(17);
  const txt = g.init("txt_feats", [1, 1, 512], seededNormal(5, 512));
  const idx = g.node("ConstantOfShape", [g.shape([1024, 1024])], [attrTensor("value", toTensorProto("", { dtype: DT.INT64, dims: [1], data: Float64Array.of(0) }))], "zeros");
  const gat = g.node("Gather", [txt, idx], [attrInt("axis", 1)], "gather");
  const node = last(g);
  return head(g, g.node("Reshape", [gat, g.shape([1, -1, 512])]), "gather", node);
}

/** A product whose result is small but whose multiply-adds are not: (B,1,1,k) x (1,B,k,1). */
export function matmulWorkBomb(b = 5792, k = 1024): Bomb {
  const g = new GraphBuilder(17);
  const A = ones(g, [b, 1, 1, k]), B = ones(g, [1, b, k, 1]);
  const mm = g.node("MatMul", [A, B], [], "product");
  const node = last(g);
  return head(g, g.node("Reshape", [mm, g.shape([1, -1, 512])]), "matmul-work", node);
}

/** An initializer whose dims claim 2^40 elements over 2 KB of raw_data. */
export function hugeDimsInitializer(): Bomb {
  const g = new GraphBuilder(17);
  const txt = g.init("txt_feats", [1, 1, 512], seededNormal(6, 512));
  g.initializers[g.initializers.length - 1].dims = [1, 2 ** 31, 512].map((d) => Long.fromNumber(d));
  return head(g, g.node("Identity", [txt], [], "identity"), "dims-2^40", txt);
}

/** int64 dims beyond 2^53 (they do not survive the trip to a JavaScript number). */
export function int64OverflowDims(): Bomb {
  const g = new GraphBuilder(17);
  const txt = g.init("txt_feats", [1, 1, 512], seededNormal(7, 512));
  g.initializers[g.initializers.length - 1].dims = [Long.fromString("9007199254740993"), Long.fromNumber(1), Long.fromNumber(512)];
  return head(g, g.node("Identity", [txt], [], "identity"), "dims-over-2^53", txt);
}

/** An Expand shape constant holding 2^62 (an int64 a float64 cannot hold exactly). */
export function int64OverflowShape(): Bomb {
  const g = new GraphBuilder(17);
  const txt = g.init("txt_feats", [1, 1, 512], seededNormal(8, 512));
  const shape = g.init("shape", [3], [1, 1, 1], DT.INT64);
  new DataView(g.initializers[g.initializers.length - 1].raw_data!.buffer).setBigInt64(0, 2n ** 62n, true);
  const e = g.node("Expand", [txt, shape], [], "expand_2e62");
  return head(g, e, "shape-2^62", last(g));
}

/** Negative dims whose product is positive: (-1, -1, 512) holds 512 values. */
export function negativeDims(): Bomb {
  const g = new GraphBuilder(17);
  const txt = g.init("txt_feats", [1, 1, 512], seededNormal(9, 512));
  g.initializers[g.initializers.length - 1].dims = [-1, -1, 512].map((d) => Long.fromNumber(d));
  return head(g, g.node("Identity", [txt], [], "identity"), "negative-dims", txt);
}

/** A Reshape target of negative dims (-2 x -1 x 256 is 512 elements too). */
export function negativeReshape(): Bomb {
  const g = new GraphBuilder(17);
  const txt = g.init("txt_feats", [1, 1, 512], seededNormal(10, 512));
  const r = g.node("Reshape", [txt, g.shape([-2, -1, 256])], [], "reshape_negative");
  return head(g, r, "negative-reshape", last(g));
}

export const BOMBS: Array<() => Bomb> = [
  () => expandBomb(), () => expandBomb(12), constantOfShapeBomb, rangeBomb, tileBomb, concatBomb, padBomb, gatherBomb,
  () => matmulWorkBomb(5792, 1024), hugeDimsInitializer, int64OverflowDims, int64OverflowShape, negativeDims, negativeReshape,
];

