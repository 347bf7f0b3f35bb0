// Everything the CLI will write, checked before anything is: no path may be the input
// or another output, no path may be a directory, and each directory must be writable.
// A run that can only fail at the end must fail at the start, with nothing written.
import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { ReparamError } from "../errors.ts";

export interface OutputPaths { input: string; output: string; report?: string; externalData?: string }

function writableDir(flag: string, path: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new ReparamError(`${flag} ${path}: cannot write there (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (existsSync(path) && statSync(path).isDirectory()) throw new ReparamError(`${flag} ${path}: is a directory`);
}

export function checkOutputPaths(p: OutputPaths): void {
  if (!p.output) throw new ReparamError("-o: give the path of the model to write");
  const input = resolve(p.input), output = resolve(p.output);
  const named: Array<[string, string]> = [["-o", output]];
  if (p.report !== undefined) {
    if (!p.report) throw new ReparamError("--report: give a file path");
    named.push(["--report", resolve(p.report)]);
  }
  if (p.externalData !== undefined) {
    if (!p.externalData || basename(p.externalData) !== p.externalData || p.externalData === "." || p.externalData === "..") {
      throw new ReparamError(`--external-data '${p.externalData}': give a file name; the data file is written beside the output model`);
    }
    named.push(["--external-data", resolve(dirname(output), p.externalData)]);
  }
  for (const [flag, path] of named) {
    if (flag !== "-o" && path === input) throw new ReparamError(`${flag} ${path}: would overwrite the input model`);
    const clash = named.find(([f, q]) => f !== flag && q === path);
    if (clash) throw new ReparamError(`${flag} and ${clash[0]} name the same file ${path}`);
    writableDir(flag, path);
  }
}
