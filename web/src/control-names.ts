// The library's messages name CLI flags (`--text-embed`); the page has no flags, so the
// page names its own controls instead. Done here, at the page's edge: the CLI's messages
// stay as they are.
const CONTROLS: Record<string, string> = {
  "text-embed": "“Text embeddings (.npy)”",
  "names": "“Class names”",
  "classes": "“Classes to keep”",
  "encoder-model": "“Text encoder model (.onnx)”",
  "encoder": "“Text encoder” (model and tokenizer.json)",
  "sites": "“Sites”",
  "neck-form": "“Neck form”",
  "atol": "“atol”",
  "rtol": "“rtol”",
  "text-input": "the model's text input",
  "input-shape": "the input shape",
  "output": "the output",
  "report": "the report",
  "external-data": "external data",
  "validate": "“Prove”",
  "no-validate": "“Prove” unticked",
  "input": "the model's inputs",
  "threads": "the thread count",
  "runs": "“Benchmark” runs",
  "warmup": "“Benchmark” warm-up",
  "force": "writing anyway (the page never writes a model whose proof failed)",
};

/** One message with every CLI flag replaced by the control that sets the same thing. */
export function pageMessage(message: string): string {
  return message
    // The page never writes a model whose proof failed: there is no --force to point at.
    .replace(/ \(--force writes anyway\)/g, "")
    .replace(/; written anyway \(--force\)/g, "")
    .replace(/(^|[\s(,;'"`])--([a-z][a-z-]*)\b/g, (all, before: string, flag: string) => (CONTROLS[flag] ? before + CONTROLS[flag] : all))
    .replace(/(^|[\s(])-o\b/g, "$1the output");
}
