// Einsum equations as letter lists, so rules can match a contraction by what it
// computes rather than by the exact string an exporter chose.
export interface Equation { inputs: string[][]; output: string[] }

export function parseEquation(eq: string): Equation | string {
  const s = eq.replace(/\s+/g, "");
  if (s.includes("...")) return "equation uses an ellipsis";
  const [lhs, rhs] = s.split("->");
  const inputs = lhs.split(",").map((t) => [...t]);
  if (inputs.some((t) => t.some((c) => !/[a-zA-Z]/.test(c)))) return `cannot parse equation '${eq}'`;
  let output: string[];
  if (rhs === undefined) {
    // Implicit mode: letters that occur once, in alphabetical order.
    const counts = new Map<string, number>();
    for (const t of inputs) for (const c of t) counts.set(c, (counts.get(c) ?? 0) + 1);
    output = [...counts].filter(([, n]) => n === 1).map(([c]) => c).sort();
  } else output = [...rhs];
  if ([...inputs, output].some((t) => new Set(t).size !== t.length)) return "equation repeats a letter within one operand (a diagonal)";
  return { inputs, output };
}
