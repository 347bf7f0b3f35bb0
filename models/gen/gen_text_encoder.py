"""Test CLIP text encoder for `onnx-reparam embed` (fixtures only; the product is Node).

Writes models/fixtures/clip-tiny/ in the Hugging Face layout:
  tokenizer.json, tokenizer_config.json, special_tokens_map.json   the REAL CLIP BPE tokenizer
  onnx/text_model.onnx          CLIPTextModelWithProjection, small random config, real vocabulary
                                (49408), projection 512 (the detector fixtures' text width);
                                inputs input_ids + attention_mask, outputs text_embeds +
                                last_hidden_state, dynamic batch and sequence axes
  refs/names.json               names exercising the tokenizer
  refs/input_ids.json           the Python tokenizer's ids per name (truncation to 77)
  refs/text_embeds.npy          PyTorch text_embeds, L2-normalized, float32 (N, 512)

The tokenizer comes from open_clip's copy of CLIP's BPE file (bpe_simple_vocab_16e6.txt.gz),
turned into vocab.json + merges.txt exactly as CLIP's SimpleTokenizer builds its vocabulary,
then loaded by transformers' CLIPTokenizerFast and saved. Nothing is downloaded.

Run: /work/venv/bin/python models/gen/gen_text_encoder.py
"""
import gzip
import json
import os
import sys
import tempfile

import numpy as np
import torch

# The venv's torchvision does not load against its torch ("operator torchvision::nms does not
# exist") and transformers' CLIP imports it when it is found; nothing here needs it.
sys.modules["torchvision"] = None

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "clip-tiny")
SEED = 0
HIDDEN, LAYERS, HEADS, PROJ = 16, 2, 2, 512
CONTEXT = 77
LONG_NAME = " ".join(["a very long class name made of many ordinary words"] * 12)  # > 77 tokens

NAMES = [
    "person", "traffic light", "fire hydrant", "teddy bear", "hair drier", "cell phone",
    "T-shirt", "rock'n'roll guitar", "baby's breath", "don't walk sign", "McDonald's sign",
    "7-Eleven store", "1990s car", "3.5-inch floppy disk", "100% cotton shirt", "C++ book",
    "U.S. flag", "hot-dog!!", "a photo of a cat.", "e-mail @ address #1", "salt & pepper (shaker)",
    "café au lait", "Crème Brûlée", "naïve résumé", "ÅNGSTRÖM unit", "Pokémon card", "Straße sign",
    "NEW YORK CITY taxi", "iPhone", "Ω omega", "“quoted” name", "ﬁsh ligature",
    "寿司", "熊猫", "ラーメン bowl", "🍕", "🐶 dog", "red 🍎 apple",
    "two   spaces\tand a tab", LONG_NAME,
]


def clip_vocab_and_merges():
    """vocab.json / merges.txt contents from CLIP's BPE file, as CLIP's SimpleTokenizer does it."""
    # open_clip's package __init__ imports torchvision (broken against this torch); its
    # tokenizer module stands alone, so load just that file.
    import importlib.util
    pkg = importlib.util.find_spec("open_clip").submodule_search_locations[0]
    spec = importlib.util.spec_from_file_location("open_clip_tokenizer", os.path.join(pkg, "tokenizer.py"))
    oc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(oc)
    version = open(os.path.join(pkg, "version.py")).read().split("'")[1]
    bytes_to_unicode, path = oc.bytes_to_unicode, oc.default_bpe()
    merges = gzip.open(path).read().decode("utf-8").split("\n")
    merges = merges[1:49152 - 256 - 2 + 1]
    merges = [tuple(m.split()) for m in merges]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab) == 49408, len(vocab)
    print(f"open_clip {version}: {os.path.basename(path)}, {len(merges)} merges, {len(vocab)} tokens")
    return {t: i for i, t in enumerate(vocab)}, merges


def build_tokenizer(tmp):
    from transformers import CLIPTokenizerFast

    vocab, merges = clip_vocab_and_merges()
    vocab_file, merges_file = os.path.join(tmp, "vocab.json"), os.path.join(tmp, "merges.txt")
    with open(vocab_file, "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(merges_file, "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    # Loaded as a user's local checkpoint folder (vocab.json + merges.txt) is loaded. In
    # transformers 5 CLIPTokenizerFast is CLIPTokenizer, backed by `tokenizers`.
    tok = CLIPTokenizerFast.from_pretrained(tmp, local_files_only=True, model_max_length=CONTEXT,
                                            bos_token="<|startoftext|>", eos_token="<|endoftext|>",
                                            unk_token="<|endoftext|>", pad_token="<|endoftext|>")
    assert len(tok) == 49408, len(tok)
    assert tok.bos_token_id == 49406 and tok.eos_token_id == 49407 and tok.pad_token_id == 49407
    return tok


def build_model():
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    torch.manual_seed(SEED)
    cfg = CLIPTextConfig(vocab_size=49408, hidden_size=HIDDEN, intermediate_size=4 * HIDDEN,
                         num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                         max_position_embeddings=CONTEXT, projection_dim=PROJ, hidden_act="quick_gelu",
                         bos_token_id=49406, eos_token_id=49407, pad_token_id=49407)
    model = CLIPTextModelWithProjection._from_config(cfg, attn_implementation="eager").eval()
    # CLIP's own init (std 0.02) makes every name's embedding nearly the same at this width;
    # O(1) weights make a wrong token, a wrong position or a wrong pooling index visible.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                fan_in = p.shape[1] if "embedding" not in name else 1
                p.normal_(0, 1.0 / fan_in ** 0.5)
            elif "layer_norm" in name and name.endswith("weight"):
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0, 0.1)
    return model


class Export(torch.nn.Module):
    """What Optimum's CLIP text export gives: text_embeds and last_hidden_state."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return out.text_embeds, out.last_hidden_state


def encode(tok, names):
    return [tok(n, truncation=True, max_length=CONTEXT)["input_ids"] for n in names]


def embed_torch(model, ids_list, pad_id):
    """Padded batch + attention mask, like the Node side; rows L2-normalized."""
    L = max(len(x) for x in ids_list)
    ids = torch.full((len(ids_list), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids_list), L), dtype=torch.long)
    for i, x in enumerate(ids_list):
        ids[i, :len(x)] = torch.tensor(x)
        mask[i, :len(x)] = 1
    with torch.no_grad():
        e = model(input_ids=ids, attention_mask=mask).text_embeds
    return (e / e.norm(dim=-1, keepdim=True)).numpy().astype(np.float32)


def main():
    import onnx
    import onnxruntime as ort
    import transformers

    os.makedirs(os.path.join(OUT, "onnx"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "refs"), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tok = build_tokenizer(tmp)
        tok.save_pretrained(tmp + "/saved")
        for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]:
            src = os.path.join(tmp, "saved", f)
            if os.path.exists(src):
                os.replace(src, os.path.join(OUT, f))
    # from_pretrained's loading flags end up in the saved config; they say nothing about the tokenizer.
    cfg_path = os.path.join(OUT, "tokenizer_config.json")
    cfg = json.load(open(cfg_path, encoding="utf-8"))
    for k in ["is_local", "local_files_only"]:
        cfg.pop(k, None)
    with open(cfg_path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
        f.write("\n")
    smap = os.path.join(OUT, "special_tokens_map.json")
    if not os.path.exists(smap):
        # transformers 5 no longer writes it; exports made with 4.x (most CLIP folders in the
        # wild) have it, with tokens as objects. Written as 4.x wrote it for openai/clip-vit-base-patch32.
        tok_obj = lambda c: {"content": c, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}
        with open(smap, "w", encoding="utf-8") as f:
            json.dump({"bos_token": tok_obj("<|startoftext|>"), "eos_token": tok_obj("<|endoftext|>"),
                       "pad_token": "<|endoftext|>", "unk_token": tok_obj("<|endoftext|>")}, f, indent=2)
            f.write("\n")

    model = build_model()
    ids_list = encode(tok, NAMES)
    assert max(len(x) for x in ids_list) == CONTEXT and any(len(x) == CONTEXT for x in ids_list)

    # Each name alone (no padding) is the reference; the padded batch must agree with it.
    alone = np.concatenate([embed_torch(model, [x], tok.pad_token_id) for x in ids_list])
    batched = embed_torch(model, ids_list, tok.pad_token_id)
    print(f"torch: padded batch vs alone, max abs diff {np.abs(alone - batched).max():.2e}")
    cos = alone @ alone.T
    off = cos[~np.eye(len(NAMES), dtype=bool)]
    print(f"torch: cosine between different names: max {off.max():.4f}, mean {off.mean():.4f}")

    path = os.path.join(OUT, "onnx", "text_model.onnx")
    dummy = torch.tensor([ids_list[1], ids_list[1]])
    torch.onnx.export(Export(model), (dummy, torch.ones_like(dummy)), path, dynamo=False, opset_version=17,
                      input_names=["input_ids", "attention_mask"], output_names=["text_embeds", "last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                    "attention_mask": {0: "batch_size", 1: "sequence_length"},
                                    "text_embeds": {0: "batch_size"},
                                    "last_hidden_state": {0: "batch_size", 1: "sequence_length"}})
    onnx.checker.check_model(onnx.load(path))

    # onnxruntime on the padded batch, with the mask and without it (causal attention alone).
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    L = max(len(x) for x in ids_list)
    ids = np.full((len(ids_list), L), tok.pad_token_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, x in enumerate(ids_list):
        ids[i, :len(x)] = x
        mask[i, :len(x)] = 1
    for m, what in [(mask, "masked"), (np.ones_like(ids), "unmasked")]:
        e = sess.run(["text_embeds"], {"input_ids": ids, "attention_mask": m})[0]
        e = e / np.linalg.norm(e, axis=-1, keepdims=True)
        print(f"onnxruntime ({what} padded batch) vs torch alone: max abs diff {np.abs(e - alone).max():.2e}")

    # The old merges format ("a b" strings) must give the same ids in Python too.
    from tokenizers import Tokenizer
    tj = json.load(open(os.path.join(OUT, "tokenizer.json"), encoding="utf-8"))
    fmt = "pairs" if isinstance(tj["model"]["merges"][0], list) else "strings"
    if fmt == "pairs":
        tj["model"]["merges"] = [" ".join(m) for m in tj["model"]["merges"]]
    legacy = Tokenizer.from_str(json.dumps(tj))
    for n, x in zip(NAMES, ids_list):
        got = legacy.encode(n).ids
        got = got[:CONTEXT - 1] + [got[-1]] if len(got) > CONTEXT else got
        assert got == x, (n, got, x)
    print(f"tokenizer.json stores merges as {fmt}; the other format gives the same ids")

    with open(os.path.join(OUT, "refs", "names.json"), "w", encoding="utf-8") as f:
        json.dump(NAMES, f, ensure_ascii=False, indent=1)
    with open(os.path.join(OUT, "refs", "input_ids.json"), "w") as f:
        json.dump(ids_list, f)
    np.save(os.path.join(OUT, "refs", "text_embeds.npy"), alone)
    with open(os.path.join(OUT, "refs", "versions.json"), "w") as f:
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__, "onnx": onnx.__version__,
                   "onnxruntime": ort.__version__, "seed": SEED, "hidden": HIDDEN, "layers": LAYERS,
                   "heads": HEADS, "projection": PROJ}, f, indent=1)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    sys.exit(main())
