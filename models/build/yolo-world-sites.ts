// In-memory ONNX models of YOLO-World's text-contraction sites, op for op as
// torch.onnx.export (TorchScript, torch 1.13 / 2.x) writes them (models/gen/EXPORTERS.md):
//   neck: the 4 max-sigmoid blocks of v2-S at 640x640, each with its own graph input x_i
//         (1, M*32, H, W) and output (1, M, H, W) = max_n <x5[m], guide[n, m]> / sqrt(32)
//   head: the 3 BNContrastiveHead levels, x_i (1, 512, H, W) -> (1, K, H, W) logits
// in the einsum form (use_einsum=True) or the matmul form (use_einsum=False). The text
// (1, K, 512) is an initializer; weights are seeded-random. Plain objects shaped like the
// decoded protos (passes/io/onnx-types.ts), ready for encodeModel / reparamModel.
import Long from "long";
import { DT, type Attribute, type Model, type Node, type Tensor, type ValueInfo } from "../../passes/io/onnx-types.ts";
import { toTensorProto } from "../../passes/ir/tensor.ts";

export type SiteForm = "einsum" | "matmul";

export interface NeckBlock { name: string; h: number; w: number; heads: number }

/** YOLO-World v2-S at 640x640: the 4 neck max-sigmoid blocks (c = 32 per head). */
export const V2S_NECK_BLOCKS: readonly NeckBlock[] = [
  { name: "td1", h: 40, w: 40, heads: 4 },
  { name: "td2", h: 80, w: 80, heads: 2 },
  { name: "bu1", h: 40, w: 40, heads: 4 },
  { name: "bu2", h: 20, w: 20, heads: 8 },
];

export interface HeadLevel { name: string; h: number; w: number }
export const V2S_HEAD_LEVELS: readonly HeadLevel[] = [
  { name: "p3", h: 80, w: 80 },
  { name: "p4", h: 40, w: 40 },
  { name: "p5", h: 20, w: 20 },
];

export const TEXT_DIM = 512;
export const NECK_HEAD_CHANNELS = 32;
export const HEAD_CHANNELS = 512;

// ---------------------------------------------------------------------------------------
// Small graph-building kit.

/** Deterministic N(0,1)-ish values (mulberry32 + Box-Muller). */
export function seededNormal(seed: number, n: number, std = 1): Float64Array {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = std * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

const L = (v: number) => Long.fromNumber(v);
export const attrInts = (name: string, v: number[]): Attribute => ({ name, type: 7, ints: v.map(L) });
export const attrInt = (name: string, v: number): Attribute => ({ name, type: 2, i: L(v) });
export const attrFloat = (name: string, v: number): Attribute => ({ name, type: 1, f: v });
export const attrStr = (name: string, v: string): Attribute => ({ name, type: 3, s: new TextEncoder().encode(v) });
export const attrTensor = (name: string, t: Tensor): Attribute => ({ name, type: 4, t });

/** A float32 tensor value type; a string dim is symbolic (dim_param). */
export function valueInfo(name: string, dims: Array<number | string>, elem: number = DT.FLOAT): ValueInfo {
  return {
    name,
    type: { tensor_type: { elem_type: elem, shape: { dim: dims.map((d) => (typeof d === "string" ? { dim_param: d } : { dim_value: L(d) })) } } },
  };
}

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private n = 0;
  constructor(readonly opset = 17) {}

  fresh(hint: string): string { return `${hint}_${this.n++}`; }

  node(op: string, inputs: string[], attrs: Attribute[] = [], hint = op): string {
    const out = this.fresh(`/${hint}_output`);
    this.nodes.push({ name: this.fresh(`/${hint}`), op_type: op, input: inputs, output: [out], attribute: attrs });
    return out;
  }

  init(hint: string, dims: number[], data: ArrayLike<number>, dtype: number = DT.FLOAT): string {
    const name = this.fresh(hint);
    this.initializers.push(toTensorProto(name, { dtype, dims, data: Float64Array.from(data) }, dtype));
    return name;
  }

  /** A `Constant` node (TorchScript writes reshape targets and scalars this way). */
  constant(dims: number[], data: number[], dtype: number = DT.INT64): string {
    return this.node("Constant", [], [attrTensor("value", toTensorProto("", { dtype, dims, data: Float64Array.from(data) }, dtype))]);
  }
  shape(v: number[]): string { return this.constant([v.length], v); }
  scalar(v: number): string { return this.constant([], [v], DT.FLOAT); }

  input(name: string, dims: Array<number | string>): string { this.inputs.push(valueInfo(name, dims)); return name; }
  output(value: string, name: string, dims: Array<number | string>): string {
    // The producing node writes the graph output directly, as exporters do (no Identity).
    const producer = this.nodes.find((n) => n.output![0] === value);
    if (!producer || this.nodes.some((n) => n.input!.includes(value))) throw new Error(`output(): ${value} is not a fresh, unused value`);
    producer.output = [name];
    this.outputs.push(valueInfo(name, dims));
    return name;
  }

  /** ReduceMax / ReduceL2 / ...: axes attribute before opset 18, an input since. */
  reduce(op: string, x: string, axes: number[], keepdims: number): string {
    const reducesByInput = op === "ReduceSum" ? this.opset >= 13 : this.opset >= 18;
    return reducesByInput
      ? this.node(op, [x, this.shape(axes)], [attrInt("keepdims", keepdims)])
      : this.node(op, [x], [attrInts("axes", axes), attrInt("keepdims", keepdims)]);
  }

  model(name: string): Model {
    return {
      ir_version: L(8), producer_name: "onnx-reparam/models/build", opset_import: [{ domain: "", version: L(this.opset) }],
      graph: { name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
  }
}

// ---------------------------------------------------------------------------------------
// Neck.

export interface NeckOptions {
  k: number;
  form: SiteForm;
  blocks?: readonly NeckBlock[];
  opset?: number;
  seed?: number;
  /** Text embedding [K*512] (default: seeded random). */
  text?: Float64Array;
}

/** Block input / output names: x_<block> -> attn_<block>. */
export const neckInputName = (b: NeckBlock) => `x_${b.name}`;
export const neckOutputName = (b: NeckBlock) => `attn_${b.name}`;

/** The seeded weights buildNeckModel uses: text [K*512], per block guide_fc W^T [512*E] and bias [E]. */
export function neckWeights(o: NeckOptions): { text: Float64Array; fc: Array<{ wT: Float64Array; bias: Float64Array }> } {
  const blocks = o.blocks ?? V2S_NECK_BLOCKS;
  const seed = o.seed ?? 1, C = TEXT_DIM;
  return {
    text: o.text ?? seededNormal(seed, o.k * C),
    fc: blocks.map((b, bi) => {
      const E = b.heads * NECK_HEAD_CHANNELS;
      return { wT: seededNormal(seed * 100 + bi * 2 + 1, C * E, 1 / Math.sqrt(C)), bias: seededNormal(seed * 100 + bi * 2 + 2, E, 0.1) };
    }),
  };
}

/** guide[n, m, j] = (txt @ W^T + b)[n, m*c + j] per block, as [K, M, c] flat (float64). */
export function neckGuides(o: NeckOptions): Float64Array[] {
  const blocks = o.blocks ?? V2S_NECK_BLOCKS;
  const { text, fc } = neckWeights(o);
  const K = o.k, C = TEXT_DIM;
  return blocks.map((b, bi) => {
    const E = b.heads * NECK_HEAD_CHANNELS, out = new Float64Array(K * E);
    for (let n = 0; n < K; n++) for (let e = 0; e < E; e++) {
      let s = fc[bi].bias[e];
      for (let i = 0; i < C; i++) s += text[n * C + i] * fc[bi].wT[i * E + e];
      out[n * E + e] = s;
    }
    return out;
  });
}

export function buildNeckModel(o: NeckOptions): Model {
  const blocks = o.blocks ?? V2S_NECK_BLOCKS;
  const K = o.k, C = TEXT_DIM, c = NECK_HEAD_CHANNELS;
  const weights = neckWeights(o);
  const g = new GraphBuilder(o.opset ?? 17);
  const txt = g.init("txt_feats", [1, K, C], weights.text);
  blocks.forEach((b, bi) => {
    const M = b.heads, E = M * c, H = b.h, W = b.w;
    const x = g.input(neckInputName(b), [1, E, H, W]);
    // guide_fc: MatMul(txt, W^T) -> Add(bias FIRST, .) -> Reshape(1, -1, M, c)
    const wT = g.init(`${b.name}.guide_fc.weight_T`, [C, E], weights.fc[bi].wT);
    const bias = g.init(`${b.name}.guide_fc.bias`, [E], weights.fc[bi].bias);
    const mm = g.node("MatMul", [txt, wT], [], `${b.name}/guide_fc/MatMul`);
    const add = g.node("Add", [bias, mm], [], `${b.name}/guide_fc/Add`);
    const guide = g.node("Reshape", [add, g.shape([1, -1, M, c])], [], `${b.name}/Reshape_guide`);
    const x5 = g.node("Reshape", [x, g.shape([1, M, c, H, W])], [], `${b.name}/Reshape_embed`);
    let scores: string;
    if (o.form === "einsum") {
      scores = g.node("Einsum", [x5, guide], [attrStr("equation", "bmchw,bnmc->bmhwn")], `${b.name}/Einsum`);
    } else {
      const t = g.node("Transpose", [x5], [attrInts("perm", [0, 1, 3, 4, 2])], `${b.name}/Transpose`);
      const r = g.node("Reshape", [t, g.shape([1, M, -1, c])], [], `${b.name}/Reshape_1`);
      const gt = g.node("Transpose", [guide], [attrInts("perm", [0, 2, 3, 1])], `${b.name}/Transpose_1`);
      const s = g.node("MatMul", [r, gt], [], `${b.name}/MatMul`);
      scores = g.node("Reshape", [s, g.shape([1, M, H, W, K])], [], `${b.name}/Reshape_2`);
    }
    const mx = g.reduce("ReduceMax", scores, [-1], 0);
    const div = g.node("Div", [mx, g.scalar(Math.fround(Math.sqrt(c)))], [], `${b.name}/Div`);
    g.output(div, neckOutputName(b), [1, M, H, W]);
  });
  return g.model(`yolo-world-neck-${o.form}-k${K}`);
}

// ---------------------------------------------------------------------------------------
// Head.

export interface HeadOptions {
  k: number;
  form: SiteForm;
  levels?: readonly HeadLevel[];
  opset?: number;
  seed?: number;
  text?: Float64Array;
  /** Channels into the cls branch's last 1x1 Conv (to 512), which the rewrite merges; v2-S: 128. Absent: x is the 512-channel embedding itself. */
  embedIn?: number;
}

export const headInputName = (l: HeadLevel) => `x_${l.name}`;
export const headOutputName = (l: HeadLevel) => `cls_${l.name}`;

export function buildHeadModel(o: HeadOptions): Model {
  const levels = o.levels ?? V2S_HEAD_LEVELS;
  const seed = o.seed ?? 1;
  const K = o.k, C = HEAD_CHANNELS;
  const g = new GraphBuilder(o.opset ?? 17);
  const txt = g.init("txt_feats", [1, K, C], o.text ?? seededNormal(seed, K * C));
  // F.normalize(txt, dim=-1): computed once, shared by the 3 levels (TorchScript CSE).
  const norm = g.reduce("ReduceL2", txt, [-1], 1);
  const clip = g.node("Clip", [norm, g.scalar(1e-12), ""], [], "Clip");
  const exp = g.node("Expand", [clip, g.init("expand_shape", [3], [1, K, C], DT.INT64)], [], "Expand");
  const tn = g.node("Div", [txt, exp], [], "Div_normalize");
  let tnT: string | null = null;
  levels.forEach((l, li) => {
    const input = g.input(headInputName(l), [1, o.embedIn ?? C, l.h, l.w]);
    const x = o.embedIn
      ? g.node("Conv", [input, g.init(`${l.name}.embed.weight`, [C, o.embedIn, 1, 1], seededNormal(seed * 10 + li, C * o.embedIn, 1 / Math.sqrt(o.embedIn))),
        g.init(`${l.name}.embed.bias`, [C], seededNormal(seed * 20 + li, C, 0.1))], [attrInts("kernel_shape", [1, 1])], `${l.name}/embed/Conv`)
      : input;
    let y: string;
    if (o.form === "einsum") {
      y = g.node("Einsum", [x, tn], [attrStr("equation", "bchw,bkc->bkhw")], `${l.name}/Einsum`);
    } else {
      const t = g.node("Transpose", [x], [attrInts("perm", [0, 2, 3, 1])], `${l.name}/Transpose`);
      const r = g.node("Reshape", [t, g.shape([1, -1, C])], [], `${l.name}/Reshape`);
      tnT ??= g.node("Transpose", [tn], [attrInts("perm", [0, 2, 1])], "Transpose_text");
      const mm = g.node("MatMul", [r, tnT], [], `${l.name}/MatMul`);
      const r2 = g.node("Reshape", [mm, g.shape([1, l.h, l.w, K])], [], `${l.name}/Reshape_1`);
      y = g.node("Transpose", [r2], [attrInts("perm", [0, 3, 1, 2])], `${l.name}/Transpose_1`);
    }
    const logitScale = g.init(`${l.name}.logit_scale`, [], [Math.log(1 / 0.07) + 0.05 * li]);
    const s = g.node("Mul", [y, g.node("Exp", [logitScale], [], `${l.name}/Exp`)], [], `${l.name}/Mul`);
    const a = g.node("Add", [s, g.init(`${l.name}.bias`, [1], [-Math.log(99) + 0.1 * li])], [], `${l.name}/Add`);
    g.output(a, headOutputName(l), [1, K, l.h, l.w]);
  });
  return g.model(`yolo-world-head-${o.form}-k${K}`);
}
