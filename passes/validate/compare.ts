// Per-output comparison in the spirit of Polygraphy: error statistics plus the smallest
// atol that would have passed at the given rtol, so a failure says how far off it was.
export interface OutputComparison {
  name: string;
  shape: number[];
  passed: boolean;
  maxAbsDiff: number;
  maxRelDiff: number;
  /**
   * max |a - b| / |b| over the elements where the relative part of the tolerance is the larger
   * (rtol·|b| >= atol, i.e. |b| >= atol / rtol); null when there are none. Near 0 any rounding
   * is a large ratio (maxRelDiff 3.00 on a value of 1e-7): this is the ratio that means something.
   */
  relevantMaxRelDiff: number | null;
  meanAbsDiff: number;
  cosine: number;
  /** Smallest atol for which |a - b| <= atol + rtol * |b| holds everywhere (Infinity when NaN/Inf disagree). */
  minPassingAtol: number;
  nan: { original: number; rewritten: number };
  inf: { original: number; rewritten: number };
  mismatchedNonFinite: number;
  /** The two outputs cannot be compared element by element: their shapes (null: the output is missing). */
  shapeMismatch?: { expected: number[]; actual: number[] | null };
}

/** "shapes differ: [1, 80, 8, 8] in A, [1, 81, 8, 8] in B" (or: missing from B). */
export function shapesDiffer(m: NonNullable<OutputComparison["shapeMismatch"]>, a: string, b: string): string {
  return m.actual ? `shapes differ: [${m.expected.join(", ")}] in ${a}, [${m.actual.join(", ")}] in ${b}` : `missing from ${b}`;
}

export function compareOutput(name: string, shape: number[], expected: ArrayLike<number>, actual: ArrayLike<number>, atol: number, rtol: number): OutputComparison {
  let maxAbs = 0, maxRel = 0, relevantRel: number | null = null, sumAbs = 0, dot = 0, ne = 0, na = 0, minAtol = 0, mismatched = 0;
  const nan = { original: 0, rewritten: 0 }, inf = { original: 0, rewritten: 0 };
  const n = expected.length;
  if (actual.length !== n) {
    return { name, shape, passed: false, maxAbsDiff: Infinity, maxRelDiff: Infinity, relevantMaxRelDiff: null, meanAbsDiff: Infinity, cosine: 0, minPassingAtol: Infinity, nan, inf, mismatchedNonFinite: 0 };
  }
  for (let i = 0; i < n; i++) {
    const b = expected[i], a = actual[i];
    if (Number.isNaN(b)) nan.original++; else if (!Number.isFinite(b)) inf.original++;
    if (Number.isNaN(a)) nan.rewritten++; else if (!Number.isFinite(a)) inf.rewritten++;
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      // Same NaN-ness and same infinity agree; anything else cannot pass at any tolerance.
      if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) mismatched++;
      continue;
    }
    const d = Math.abs(a - b);
    maxAbs = Math.max(maxAbs, d);
    sumAbs += d;
    if (b !== 0) maxRel = Math.max(maxRel, d / Math.abs(b));
    if (b !== 0 && rtol * Math.abs(b) >= atol) relevantRel = Math.max(relevantRel ?? 0, d / Math.abs(b));
    minAtol = Math.max(minAtol, d - rtol * Math.abs(b));
    dot += a * b; ne += b * b; na += a * a;
  }
  if (mismatched) minAtol = Infinity;
  const cosine = ne === 0 && na === 0 ? 1 : dot / Math.sqrt(ne * na || 1);
  return {
    name, shape, passed: minAtol <= atol, maxAbsDiff: maxAbs, maxRelDiff: maxRel, relevantMaxRelDiff: relevantRel, meanAbsDiff: n ? sumAbs / n : 0,
    cosine, minPassingAtol: minAtol, nan, inf, mismatchedNonFinite: mismatched,
  };
}
