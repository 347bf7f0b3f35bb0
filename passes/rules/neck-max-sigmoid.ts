import type { Rule } from "./site.ts";

// Placeholder until the neck rule lands: finds nothing.
export const neckMaxSigmoid: Rule = { kind: "neck", run: () => [] };
