// What a vocabulary change did (a retarget, a bound text input with a fixed K, or a selection
// of the model's own classes): the proofs and the report read it.
import type { ConstTensor } from "../ir/tensor.ts";
import type { Retarget } from "./retarget.ts";

export interface Vocabulary extends Retarget {
  /** Where the text lived: a constant of the model, or a graph input with a fixed K; or a selection of the model's own classes. */
  kind: "constant" | "input" | "selection";
  source: string;
  /** K rows the original model can hold (its own text, or the first K new rows for an input): the proofs' base. */
  base: ConstTensor;
  value: ConstTensor;
  /** A selection: the original class of each new one (the padded proof gives the original these, the first repeated to K). */
  selected?: number[];
}
