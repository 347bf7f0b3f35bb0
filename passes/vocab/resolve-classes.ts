// --classes "person,car,bus": which of the model's K classes, in which order. Strings are
// looked up in the model's `names` metadata, numbers are 0-based indices. Every mistake is
// a usage error naming the entry, since a wrong class would be silently kept otherwise.
import { ReparamError } from "../errors.ts";

export type ClassRef = string | number;

/** Levenshtein distance, two rows (names are short; K is at most a few thousand). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The existing names nearest to `name` (case-insensitive edit distance, then index order). */
export function closestNames(name: string, names: readonly string[], count = 3): string[] {
  const low = name.toLowerCase();
  return names.map((n, i) => ({ n, i, d: editDistance(low, n.toLowerCase()) }))
    .sort((x, y) => x.d - y.d || x.i - y.i).slice(0, count).map((x) => x.n);
}

const show = (r: ClassRef) => (typeof r === "number" ? String(r) : JSON.stringify(r));

/**
 * Original class index of every selected class, in the order given. `names`: the model's
 * names metadata (null when it has none), `k` its class count.
 */
export function resolveClasses(wanted: readonly ClassRef[], names: readonly string[] | null, k: number, source = "--classes"): number[] {
  if (wanted.length === 0) throw new ReparamError(`${source}: no classes selected`);
  const exact = new Map<string, number>(), folded = new Map<string, number | null>();
  if (names) {
    if (names.length !== k && wanted.some((w) => typeof w === "string")) {
      throw new ReparamError(`${source}: the model's names metadata lists ${names.length} names but the model has ${k} classes; select by 0-based index instead`);
    }
    names.forEach((n, i) => {
      if (!exact.has(n)) exact.set(n, i);
      const f = n.toLowerCase();
      // A case-insensitive match is only taken when it is unique.
      folded.set(f, folded.has(f) ? null : i);
    });
  }
  const first = new Map<number, number>();
  return wanted.map((w, at) => {
    let i: number;
    if (typeof w === "number") {
      if (!Number.isInteger(w) || w < 0 || w >= k) throw new ReparamError(`${source}: index ${w} is out of range (the model has ${k} classes, 0 to ${k - 1})`);
      i = w;
    } else {
      const name = w.trim();
      if (name === "") throw new ReparamError(`${source}: entry ${at + 1} is empty`);
      if (!names) throw new ReparamError(`${source}: ${show(name)}: the model has no names metadata to look class names up in; select by 0-based index (0 to ${k - 1})`);
      const hit = exact.get(name) ?? folded.get(name.toLowerCase());
      if (hit === undefined || hit === null) {
        throw new ReparamError(`${source}: no class named ${show(name)} in the model's names; closest: ${closestNames(name, names).map(show).join(", ")}`);
      }
      i = hit;
    }
    const seen = first.get(i);
    if (seen !== undefined) throw new ReparamError(`${source}: class ${names ? show(names[i]) : i} is selected twice (entries ${seen + 1} and ${at + 1})`);
    first.set(i, at);
    return i;
  });
}
