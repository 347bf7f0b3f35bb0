// Reads the user documentation (README.md, docs/*.md) the way a reader copies from it: the
// shell lines of its code blocks, split into words as sh would, and the command synopsis.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./fixtures.ts";

/** README.md and every docs/*.md, as paths relative to the repository. */
export const DOC_FILES: string[] = ["README.md", ...readdirSync(join(REPO, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];

export interface CodeLine { file: string; line: number; lang: string; text: string }

/** Every line inside a fenced code block, with the block's language (the word after ```). */
export function codeLines(file: string): CodeLine[] {
  const out: CodeLine[] = [];
  let lang: string | null = null;
  readFileSync(join(REPO, file), "utf8").split("\n").forEach((text, i) => {
    const fence = /^\s*```\s*([\w-]*)/.exec(text);
    if (fence) { lang = lang === null ? fence[1] : null; return; }
    if (lang !== null) out.push({ file, line: i + 1, lang, text });
  });
  return out;
}

const SHELL = new Set(["sh", "bash", "shell", "console"]);

/**
 * One line split into words as sh does for the simple commands the docs show: single and
 * double quotes, backslash escapes, a # comment at the start of a word. Anything else a
 * shell would expand or redirect ($, `, >, <, |, ;) is refused, so the docs stay copyable.
 */
export function shellWords(line: string): { words: string[]; comment: string } {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === " " || c === "\t") { if (word !== null) words.push(word); word = null; continue; }
    if (c === "#" && word === null) return { words, comment: line.slice(i + 1).trim() };
    if ("$`><|;".includes(c)) throw new Error(`'${c}' is not supported in a documented command: ${line}`);
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let s = "";
      for (i++; i < line.length && line[i] !== '"'; i++) s += line[i] === "\\" && i + 1 < line.length ? line[++i] : line[i];
      if (i >= line.length) throw new Error(`unclosed " in ${line}`);
      word = (word ?? "") + s;
    } else if (c === "\\" && i + 1 < line.length) {
      word = (word ?? "") + line[++i];
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== null) words.push(word);
  return { words, comment: "" };
}

export interface DocCommand { file: string; line: number; text: string; args: string[]; comment: string }

/**
 * The onnx-reparam commands of a file's shell blocks: lines (or `&&`-joined parts of lines)
 * that start with `onnx-reparam` or `npx onnx-reparam`, after any VAR=value prefix. `args`
 * are the words after the program name.
 */
export function docCommands(file: string): DocCommand[] {
  const out: DocCommand[] = [];
  const lines = codeLines(file).filter((l) => SHELL.has(l.lang));
  for (let i = 0; i < lines.length; i++) {
    const { line } = lines[i];
    let text = lines[i].text.replace(/^\s*\$\s+/, "");
    while (/\\\s*$/.test(text) && i + 1 < lines.length) text = text.replace(/\\\s*$/, " ") + lines[++i].text;
    const { words, comment } = shellWords(text.replaceAll("&&", " \u0000 "));
    const parts: string[][] = [[]];
    for (const w of words) if (w === "\u0000") parts.push([]); else parts[parts.length - 1].push(w);
    for (const part of parts) {
      const p = part.slice(part.findIndex((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w)));
      const start = p[0] === "onnx-reparam" ? 1 : p[0] === "npx" && p[1] === "onnx-reparam" ? 2 : -1;
      if (start > 0) out.push({ file, line, text: p.join(" "), args: p.slice(start), comment });
    }
  }
  return out;
}

export interface SynopsisEntry { file: string; line: number; command: string | null; flags: string[] }

/**
 * The synopsis lines of non-shell blocks (```text): a line starting with `onnx-reparam`,
 * with its indented continuation lines, and the --flags it names. `command` is null for
 * the global line (`onnx-reparam --version | --help`).
 */
export function synopsis(file: string): SynopsisEntry[] {
  const out: SynopsisEntry[] = [];
  let cur: SynopsisEntry | null = null;
  for (const l of codeLines(file).filter((l) => !SHELL.has(l.lang))) {
    const m = /^onnx-reparam\s+(\S+)/.exec(l.text);
    if (m) {
      cur = { file, line: l.line, command: m[1].startsWith("-") ? null : m[1], flags: [] };
      out.push(cur);
    } else if (!(cur && /^\s+\S/.test(l.text))) {
      cur = null;
      continue;
    }
    for (const f of l.text.matchAll(/(?<![\w-])--(?:no-)?([a-z][a-z0-9-]*)/g)) cur!.flags.push(`--${f[1]}`);
  }
  return out;
}

/** The long option names a command's --help lists in its option column (not in descriptions). */
export function helpFlags(help: string): Set<string> {
  return new Set([...help.matchAll(/^\s+(?:-\w,\s+)?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]));
}

/** Relative link targets ([text](target)) of a Markdown file, anchors stripped. */
export function relativeLinks(file: string): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = [];
  readFileSync(join(REPO, file), "utf8").split("\n").forEach((text, i) => {
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1].split("#")[0];
      if (target && !/^[a-z]+:/.test(target)) out.push({ line: i + 1, target });
    }
  });
  return out;
}
