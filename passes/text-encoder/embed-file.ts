// The `embed` command as a library call: names in, OUT.npy and OUT.names.txt out.
// Every path is checked before the model runs, and both files go through a temporary
// file and a rename, so a failed run leaves nothing behind.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { writeNpy } from "../io/npy.ts";
import { atomicWrite } from "../io/model-io.ts";
import { ReparamError } from "../errors.ts";
import { embedClasses, type EmbedOptions } from "./embed.ts";
import { namesFileText } from "../io/names-format.ts";

export interface EmbedFileOptions extends EmbedOptions {
  names: readonly string[];
  output: string;
  /** The names file the names came from, so it is never overwritten by something else. */
  namesSource?: string;
}

export interface EmbedFileResult {
  output: string;
  namesFile: string;
  count: number;
  dims: [number, number];
  model: string;
  warnings: string[];
  seconds: number;
}

/** classes.npy -> classes.names.txt (any other name gets .names.txt appended). */
export const namesFileFor = (output: string) => `${output.replace(/\.npy$/i, "")}.names.txt`;

function checkWritable(flag: string, path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    accessSync(dirname(path), constants.W_OK);
  } catch (e) {
    throw new ReparamError(`${flag} ${path}: cannot write there (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (existsSync(path) && statSync(path).isDirectory()) throw new ReparamError(`${flag} ${path}: is a directory`);
}

function checkPaths(o: EmbedFileOptions, namesFile: string): void {
  if (!o.output) throw new ReparamError("-o: give the path of the .npy to write");
  const out = resolve(o.output), txt = resolve(namesFile);
  checkWritable("-o", out);
  checkWritable("-o", txt);
  if (o.namesSource === undefined) return;
  const src = resolve(o.namesSource);
  if (src === out) throw new ReparamError(`-o ${o.output}: would overwrite the names file`);
  // Re-running on a names file `embed` wrote is fine: it gets the same bytes back.
  if (src === txt && readFileSync(src, "utf8") !== namesFileText(o.names)) {
    throw new ReparamError(`-o ${o.output}: would rewrite the names file ${namesFile} it reads (its line endings or BOM would change); choose another -o`);
  }
}

export async function embedFile(o: EmbedFileOptions): Promise<EmbedFileResult> {
  const t0 = performance.now();
  const namesFile = namesFileFor(o.output);
  checkPaths(o, namesFile);
  const r = await embedClasses(o.names, o);
  const text = new TextEncoder().encode(namesFileText(o.names));
  writeNpy(o.output, r.dims, r.data, "<f4");
  try {
    atomicWrite(namesFile, (fd) => { let done = 0; while (done < text.length) done += writeSync(fd, text, done, text.length - done); });
  } catch (e) {
    rmSync(o.output, { force: true }); // an .npy without its names is half an output
    throw e;
  }
  return { output: o.output, namesFile, count: r.dims[0], dims: r.dims, model: r.model, warnings: r.warnings, seconds: (performance.now() - t0) / 1000 };
}
