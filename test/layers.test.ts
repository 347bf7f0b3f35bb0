// The house's direction: every import in passes/, cli/ and web/src/ goes down the layer order
// (or stays in its own room). Type-only imports count: a type import both ways is still a circle
// a reader has to untangle. The checker is also run on a planted back import, so this test is
// known to fail when the direction rots.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "..");

// Lowest first. Rooms on one line are peers: they may not import each other.
const LAYERS: string[][] = [
  ["passes/errors.ts", "passes/progress.ts"],
  ["passes/io", "passes/runtime"],
  ["passes/ir"],
  ["passes/fold"],
  ["passes/rules", "passes/vocab", "passes/text-encoder"],
  ["passes/pipeline"],
  ["passes/validate"],
  ["passes/job"],
  ["passes/index.ts"],
  ["cli", "web/src"],
];

function roomOf(file: string): string | null {
  for (const layer of LAYERS) for (const room of layer) if (file === room || file.startsWith(room + "/")) return room;
  return null;
}
const rankOf = (room: string) => LAYERS.findIndex((l) => l.includes(room));

interface Edge { from: string; to: string }

function walk(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []);
}

/** Every relative import and re-export (static or dynamic, type-only included). */
function importsOf(file: string): Edge[] {
  const src = readFileSync(join(REPO, file), "utf8");
  const edges: Edge[] = [];
  const re = /(?:^|[;\s])(?:import|export)\s[^;]*?from\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;
  for (let m; (m = re.exec(src)); ) edges.push({ from: file, to: normalize(join(dirname(file), m[1] ?? m[2])) });
  return edges;
}

/** One line per import that goes against the order. */
export function violations(edges: Edge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const a = roomOf(from), b = roomOf(to);
    if (!a) { out.push(`${from}: not in any room of the layer order`); continue; }
    if (!b) { out.push(`${from} -> ${to}: imports a file outside the layers`); continue; }
    if (a === b) continue;
    if (rankOf(b) >= rankOf(a)) out.push(`${from} -> ${to}: ${a} may not import ${b} (${rankOf(b) === rankOf(a) ? "peers" : "a higher layer"})`);
  }
  return out;
}

/** Each import circle once, as the path that closes it. */
function cycles(edges: Edge[]): string[] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, "open" | "done">(), found: string[] = [], path: string[] = [];
  const visit = (f: string) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") { found.push([...path.slice(path.indexOf(f)), f].join(" -> ")); return; }
    state.set(f, "open"); path.push(f);
    for (const t of next.get(f) ?? []) visit(t);
    path.pop(); state.set(f, "done");
  };
  for (const f of next.keys()) visit(f);
  return found;
}

const FILES = ["passes", "cli", "web/src"].flatMap(walk).map((f) => relative(".", f));
const EDGES = FILES.flatMap(importsOf);

describe("layers", () => {
  it("finds the imports it checks", () => {
    expect(FILES.length).toBeGreaterThan(50);
    expect(EDGES.length).toBeGreaterThan(200);
    expect(EDGES).toContainEqual({ from: "passes/job/reparam-job.ts", to: "passes/pipeline/reparam-model.ts" });
  });

  it("every import goes down the layer order", () => {
    expect(violations(EDGES)).toEqual([]);
  });

  it("catches a planted back import, a peer import and a type-only circle", () => {
    const planted = [
      { from: "passes/io/codec.ts", to: "passes/ir/graph.ts" },
      { from: "passes/rules/site.ts", to: "passes/vocab/retarget.ts" },
      { from: "passes/validate/validate.ts", to: "passes/job/timing.ts" },
    ];
    expect(violations([...EDGES, ...planted])).toHaveLength(3);
  });

  it("no file imports itself through others (no circle, even inside a room)", () => {
    expect(cycles(EDGES)).toEqual([]);
    expect(cycles([...EDGES, { from: "passes/fold/shape-infer.ts", to: "passes/fold/fold-constants.ts" }])).not.toEqual([]);
  });

  it("passes/ shows rooms, the public API and the shared types only", () => {
    const loose = readdirSync(join(REPO, "passes"), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
    expect(loose).toEqual(["errors.ts", "index.ts", "progress.ts"]);
    for (const e of readdirSync(join(REPO, "passes"), { withFileTypes: true })) {
      if (e.isDirectory()) expect(roomOf(`passes/${e.name}`), `passes/${e.name} is a room of the layer order`).not.toBeNull();
    }
  });

  it("fold/: shape inference does not import the folder (one way)", () => {
    const fold = EDGES.filter((e) => e.from.startsWith("passes/fold/") && e.to.startsWith("passes/fold/"));
    const has = (a: string, b: string) => fold.some((e) => e.from === `passes/fold/${a}` && e.to === `passes/fold/${b}`);
    expect(has("fold-constants.ts", "shape-infer.ts")).toBe(true);
    expect(has("shape-infer.ts", "fold-constants.ts")).toBe(false);
  });
});
