// What constant folding and shape inference say to each other, in a module of its own so that
// the two depend one way: fold-constants.ts asks shape-infer.ts for the shapes of non-constant
// values, and shape-infer.ts asks back through this interface, never through the folder class.
import type { GraphIR } from "../ir/graph.ts";
import type { ConstTensor } from "../ir/tensor.ts";

export type Folded = { ok: true; value: ConstTensor } | { ok: false; reason: string };

/** A view of the graph under fixed input shapes: constants folded, other shapes inferred. */
export interface ValueSource {
  readonly graph: GraphIR;
  readonly opts: { readonly inputShapes?: Map<string, number[]> };
  fold(name: string): Folded;
  /** Concrete shape of any value, or a reason why it is unknown. */
  shape(name: string): number[] | string;
}
