// Room ir/: the graph as SSA values (GraphIR), constant tensors, Einsum equations, graph inputs.
// May import io/ and ../errors.ts.
//
// A thin SSA view over a decoded GraphProto. The NodeProto / TensorProto objects stay
// the source of truth (so everything this view does not model is kept verbatim); the
// view adds producer / uses indexes and editing that keeps them consistent.
import type { Graph, Node, Tensor, ValueInfo } from "../io/onnx-types.ts";
import { AT } from "../io/onnx-types.ts";
import { readTensor, toTensorProto, type ConstTensor } from "./tensor.ts";
import { ReparamError } from "../errors.ts";

export class GraphIR {
  private producers = new Map<string, Node>();
  private users = new Map<string, Node[]>();
  private initializers = new Map<string, Tensor>();
  private names = new Set<string>();
  // Handed out by uniqueName() but maybe not in the graph yet: they must outlive reindex().
  private reserved = new Set<string>();
  private edited = false;

  constructor(readonly proto: Graph, readonly baseDir: string | null = null) {
    proto.node ??= [];
    proto.initializer ??= [];
    this.reindex();
  }

  get nodes(): readonly Node[] { return this.proto.node!; }
  get inputs(): readonly ValueInfo[] { return this.proto.input ?? []; }
  get outputs(): readonly ValueInfo[] { return this.proto.output ?? []; }
  get wasEdited(): boolean { return this.edited; }

  reindex(): void {
    this.producers.clear(); this.users.clear(); this.initializers.clear(); this.names = new Set(this.reserved);
    for (const t of this.proto.initializer!) { this.initializers.set(t.name ?? "", t); this.names.add(t.name ?? ""); }
    for (const v of [...this.inputs, ...this.outputs, ...(this.proto.value_info ?? [])]) this.names.add(v.name ?? "");
    // ONNX forbids a subgraph value from reusing an outer name, so uniqueName must avoid those too.
    for (const n of this.nodes) for (const a of n.attribute ?? []) for (const g of [a.g, ...(a.graphs ?? [])]) if (g) collectNames(g, this.names);
    for (const n of this.nodes) {
      if (n.name) this.names.add(n.name);
      for (const o of n.output ?? []) if (o) { this.producers.set(o, n); this.names.add(o); }
      for (const i of nodeReads(n)) {
        if (!this.users.has(i)) this.users.set(i, []);
        const list = this.users.get(i)!;
        if (list[list.length - 1] !== n) list.push(n);
      }
    }
  }

  producer(value: string): Node | undefined { return this.producers.get(value); }
  uses(value: string): readonly Node[] { return this.users.get(value) ?? []; }
  initializer(value: string): Tensor | undefined { return this.initializers.get(value); }
  isGraphOutput(value: string): boolean { return this.outputs.some((o) => o.name === value); }
  isGraphInput(value: string): boolean { return this.inputs.some((i) => i.name === value) && !this.initializers.has(value); }
  /** An initializer that is also a graph input: only a default, a caller may feed another value. */
  isOverridable(value: string): boolean { return this.initializers.has(value) && this.inputs.some((i) => i.name === value); }

  /** An initializer or a Constant node's value, as a typed tensor; null otherwise. */
  constant(value: string): ConstTensor | null {
    const init = this.initializers.get(value);
    if (init) return readTensor(init, this.baseDir, `initializer '${value}'`);
    const p = this.producers.get(value);
    if (p && p.op_type === "Constant" && !p.domain) return constantNodeValue(p, this.baseDir);
    return null;
  }

  uniqueName(hint: string): string {
    let name = hint, i = 1;
    while (this.names.has(name)) name = `${hint}_${i++}`;
    this.names.add(name);
    this.reserved.add(name);
    return name;
  }

  addInitializer(hint: string, value: ConstTensor, dtype = value.dtype): string {
    const name = this.uniqueName(hint);
    const t = toTensorProto(name, value, dtype);
    this.proto.initializer!.push(t);
    this.initializers.set(name, t);
    this.edited = true;
    return name;
  }

  /** Inserts nodes before `anchor` (or at the end); topological order is restored on finish(). */
  insertNodes(nodes: Node[], anchor?: Node): void {
    const list = this.proto.node!;
    const at = anchor ? list.indexOf(anchor) : -1;
    list.splice(at < 0 ? list.length : at, 0, ...nodes);
    this.edited = true;
    // Indexed in place (a full reindex per edit was a fifth of the pass at K = 1203).
    for (const n of nodes) {
      if (n.name) this.names.add(n.name);
      for (const o of n.output ?? []) if (o) { this.producers.set(o, n); this.names.add(o); }
      for (const i of nodeReads(n)) {
        const users = this.users.get(i);
        if (!users) this.users.set(i, [n]);
        else if (!users.includes(n)) users.push(n);
      }
      for (const a of n.attribute ?? []) for (const g of [a.g, ...(a.graphs ?? [])]) if (g) collectNames(g, this.names);
    }
  }

  removeNodes(nodes: Iterable<Node>): void {
    const drop = new Set(nodes);
    this.proto.node = this.proto.node!.filter((n) => !drop.has(n));
    this.edited = true;
    for (const n of drop) {
      for (const o of n.output ?? []) if (o && this.producers.get(o) === n) this.producers.delete(o);
      for (const i of nodeReads(n)) {
        const users = this.users.get(i)?.filter((u) => u !== n);
        if (users?.length) this.users.set(i, users); else this.users.delete(i);
      }
    }
  }

  /** Rewires every reader of `from` to `to`. A graph output keeps its name: callers make the new producer write it. */
  replaceUses(from: string, to: string): void {
    if (this.isGraphOutput(from)) throw new Error(`refusing to rename graph output '${from}'`);
    for (const n of this.uses(from)) renameReads(n, from, to);
    this.edited = true;
    this.reindex();
  }

  /** Points input `index` of `node` at another value. */
  setInput(node: Node, index: number, value: string): void {
    node.input![index] = value;
    this.edited = true;
    this.reindex();
  }

  /** Replaces the value of an initializer or a Constant node, keeping its name. */
  setConstant(name: string, value: ConstTensor, dtype = value.dtype): void {
    const inits = this.proto.initializer!;
    const i = inits.findIndex((t) => t.name === name);
    if (i >= 0) inits[i] = toTensorProto(name, value, dtype);
    else {
      const p = this.producers.get(name);
      const a = p && p.op_type === "Constant" && !p.domain ? (p.attribute ?? []).find((x) => x.name === "value") : undefined;
      if (!a?.t) throw new Error(`'${name}' is neither an initializer nor a Constant node with a tensor value`);
      a.t = toTensorProto(a.t.name ?? "", value, dtype);
    }
    this.edited = true;
    this.reindex();
  }

  /** Turns a graph input into an initializer of the same name holding `value`. */
  bindInput(name: string, value: ConstTensor): void {
    this.proto.input = (this.proto.input ?? []).filter((i) => i.name !== name);
    // An overridable initializer of that name gives way to the bound value.
    this.proto.initializer = this.proto.initializer!.filter((t) => t.name !== name);
    this.proto.initializer.push(toTensorProto(name, value));
    this.edited = true;
    this.reindex();
  }

  /** Drops nodes and initializers nothing reads; graph inputs and outputs are kept. */
  dce(): { nodes: number; initializers: number } {
    // Liveness follows producers, not list order: between insertNodes() and toposort()
    // a node may sit after the nodes that read it, and a reverse sweep would drop it.
    const producers = new Map<string, Node>();
    for (const n of this.nodes) for (const o of n.output ?? []) if (o) producers.set(o, n);
    const live = new Set(this.outputs.map((o) => o.name ?? ""));
    const work = [...live];
    const keep = new Set<Node>();
    while (work.length) {
      const p = producers.get(work.pop()!);
      if (!p || keep.has(p)) continue;
      keep.add(p);
      for (const i of nodeReads(p)) if (!live.has(i)) { live.add(i); work.push(i); }
    }
    const kept = this.nodes.filter((n) => keep.has(n));
    const removedNodes = this.nodes.length - kept.length;
    const inits = this.proto.initializer!;
    const keptInits = inits.filter((t) => live.has(t.name ?? "") || this.inputs.some((i) => i.name === t.name));
    const removedInits = inits.length - keptInits.length;
    if (removedNodes || removedInits) {
      this.proto.node = kept;
      this.proto.initializer = keptInits;
      const defined = new Set([...live, ...this.proto.node.flatMap((n) => n.output ?? [])]);
      if (this.proto.value_info) this.proto.value_info = this.proto.value_info.filter((v) => defined.has(v.name ?? ""));
      this.edited = true;
      this.reindex();
    }
    return { nodes: removedNodes, initializers: removedInits };
  }

  /**
   * Stable topological sort: of all valid orders, the one that always emits the
   * earliest-listed ready node, so nodes move only as far as their dependencies force
   * (Kahn's algorithm with a min-heap on list position; O(n log n) even for long chains
   * inserted in reverse).
   */
  toposort(): void {
    const list = this.nodes;
    const index = new Map(list.map((n, i) => [n, i]));
    const waiting = new Map<Node, number>();
    const dependents = new Map<Node, Node[]>();
    for (const n of list) {
      const deps = new Set(nodeReads(n).map((v) => this.producers.get(v)).filter((p): p is Node => p !== undefined && index.has(p)));
      waiting.set(n, deps.size);
      for (const d of deps) {
        if (!dependents.has(d)) dependents.set(d, []);
        dependents.get(d)!.push(n);
      }
    }
    const ready = new MinHeap();
    for (const n of list) if (waiting.get(n) === 0) ready.push(index.get(n)!);
    const out: Node[] = [];
    while (ready.size) {
      const n = list[ready.pop()];
      out.push(n);
      for (const d of dependents.get(n) ?? []) {
        const left = waiting.get(d)! - 1;
        waiting.set(d, left);
        if (left === 0) ready.push(index.get(d)!);
      }
    }
    if (out.length !== list.length) throw new ReparamError("the graph has a cycle: its nodes cannot be put in topological order");
    this.proto.node = out;
  }

  /** Call after a pass edited the graph: DCE and topological order. */
  finish(): void {
    if (!this.edited) return;
    this.reindex(); // passes may have rewired node inputs / outputs in place
    this.dce();
    this.toposort();
    this.reindex();
  }
}

export function attr(n: Node, name: string) { return (n.attribute ?? []).find((a) => a.name === name); }
/** A string attribute (equation, auto_pad) as text; "" when absent. */
export const attrString = (n: Node, name: string): string => new TextDecoder().decode(attr(n, name)?.s ?? new Uint8Array());

export function constantNodeValue(n: Node, baseDir: string | null): ConstTensor | null {
  const a = (n.attribute ?? [])[0];
  if (!a) return null;
  const num = (v: unknown) => Number(v);
  switch (a.name) {
    case "value": return a.t ? readTensor(a.t, baseDir, `Constant '${n.name || n.output?.[0] || ""}'`) : null;
    case "value_float": return { dtype: 1, dims: [], data: Float64Array.of(a.f ?? 0) };
    case "value_floats": return { dtype: 1, dims: [a.floats?.length ?? 0], data: Float64Array.from(a.floats ?? []) };
    case "value_int": return { dtype: 7, dims: [], data: Float64Array.of(num(a.i ?? 0)) };
    case "value_ints": return { dtype: 7, dims: [a.ints?.length ?? 0], data: Float64Array.from((a.ints ?? []).map(num)) };
    default: return null; // sparse_value, strings: not foldable here
  }
}

/** Inputs a node reads, including outer-scope values read inside its subgraphs. */
export function nodeReads(n: Node): string[] {
  const reads = (n.input ?? []).filter((i) => i);
  for (const a of n.attribute ?? []) {
    if (a.type === AT.GRAPH && a.g) reads.push(...outerReads(a.g));
    if (a.type === AT.GRAPHS) for (const g of a.graphs ?? []) reads.push(...outerReads(g));
  }
  return reads;
}

function outerReads(g: Graph): string[] {
  const defined = new Set([...(g.input ?? []).map((i) => i.name), ...(g.initializer ?? []).map((t) => t.name)]);
  for (const n of g.node ?? []) for (const o of n.output ?? []) defined.add(o);
  const out = new Set<string>();
  for (const n of g.node ?? []) for (const i of nodeReads(n)) if (!defined.has(i)) out.add(i);
  for (const o of g.output ?? []) if (o.name && !defined.has(o.name)) out.add(o.name);
  return [...out];
}

function renameReads(n: Node, from: string, to: string): void {
  n.input = (n.input ?? []).map((i) => (i === from ? to : i));
  for (const a of n.attribute ?? []) {
    for (const g of [a.g, ...(a.graphs ?? [])]) if (g) renameInSubgraph(g, from, to);
  }
}

function renameInSubgraph(g: Graph, from: string, to: string): void {
  if ((g.input ?? []).some((i) => i.name === from) || (g.node ?? []).some((n) => n.output?.includes(from))) return; // shadowed
  for (const n of g.node ?? []) renameReads(n, from, to);
  for (const o of g.output ?? []) if (o.name === from) o.name = to;
}

class MinHeap {
  private a: number[] = [];
  get size(): number { return this.a.length; }
  push(v: number): void {
    const a = this.a;
    let i = a.push(v) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= v) break;
      a[i] = a[p]; i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.a, top = a[0], last = a.pop()!;
    if (a.length) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= a.length) break;
        if (c + 1 < a.length && a[c + 1] < a[c]) c++;
        if (a[c] >= last) break;
        a[i] = a[c]; i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

function collectNames(g: Graph, into: Set<string>): void {
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.value_info ?? [])]) if (v.name) into.add(v.name);
  for (const t of g.initializer ?? []) if (t.name) into.add(t.name);
  for (const n of g.node ?? []) {
    if (n.name) into.add(n.name);
    for (const o of n.output ?? []) if (o) into.add(o);
    for (const a of n.attribute ?? []) for (const sg of [a.g, ...(a.graphs ?? [])]) if (sg) collectNames(sg, into);
  }
}
