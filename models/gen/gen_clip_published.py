"""A CLIP text encoder with exactly the interface of the published ONNX exports of
openai/clip-vit-base-patch32's text model (fixtures only; the product is Node).

The model users download (Hugging Face Xenova/clip-vit-base-patch32, onnx/text_model.onnx,
exported by transformers.js' script through Optimum from CLIPTextModelWithProjection):
  input   input_ids    int64 [batch_size, sequence_length]     (no attention_mask)
  output  text_embeds  float32 [batch_size, 512]                (projected, NOT normalized)
  opset 14; pooling at the end token found by ArgMax over input_ids, since openai's
  text_config keeps the legacy eos_token_id = 2 (transformers then takes the highest id,
  which is <|endoftext|> = 49407, the first one if the batch is padded with it).
Optimum's own export of CLIPTextModelWithProjection has the same input and adds
last_hidden_state; test/helpers/clip-published.ts makes that variant from this file.

Writes models/fixtures/clip-published/:
  onnx/text_model.onnx     small random weights (hidden 8), real vocabulary (49408), projection 512
  config.json              the text config, as the published folder has one
  refs/names.json          names, including the names-verbatim tricky ones
  refs/names.pydict.txt    str() of {i: name}: the `names` metadata Ultralytics would write
  refs/input_ids.json      the Python tokenizer's ids per name (truncated to 77)
  refs/text_embeds.npy     PyTorch text_embeds of each name ALONE (no padding), L2-normalized
  refs/versions.json
The tokenizer files are models/fixtures/clip-tiny's (the real CLIP BPE): a test copies them
beside the model, as the published folder has them at its top.

Run: python models/gen/gen_clip_published.py   (torch, transformers, onnx, onnxruntime, numpy)
"""
import json
import os
import sys

import numpy as np
import torch

sys.modules["torchvision"] = None  # transformers' CLIP imports it when found; nothing here needs it

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
OUT = os.path.join(FIXTURES, "clip-published")
TOKENIZER = os.path.join(FIXTURES, "clip-tiny")
SEED = 1
HIDDEN, LAYERS, HEADS, PROJ, CONTEXT = 8, 2, 2, 512, 77
LONG_NAME = " ".join(["a class name much longer than the context"] * 12)

NAMES = [
    "person", "traffic light", "fire hydrant", "  leading and trailing spaces  ", "\u00a0no-break space",
    "'single' and \"double\" quotes", "back\\slash", "comma, inside", "# not a comment", "寿司",
    "🍕 pizza", "café au lait", "{0: 'dict'}", "\\x41 not an escape", "a", LONG_NAME,
]


def build_model():
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    torch.manual_seed(SEED)
    # openai/clip-vit-base-patch32's text_config ids: bos 0, eos 2, pad 1 (legacy values that
    # make transformers pool with argmax(input_ids), as in the published export).
    cfg = CLIPTextConfig(vocab_size=49408, hidden_size=HIDDEN, intermediate_size=4 * HIDDEN,
                         num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                         max_position_embeddings=CONTEXT, projection_dim=PROJ, hidden_act="quick_gelu",
                         bos_token_id=0, eos_token_id=2, pad_token_id=1)
    model = CLIPTextModelWithProjection._from_config(cfg, attn_implementation="eager").eval()
    with torch.no_grad():  # O(1) weights, so a wrong token, position or pooling index shows
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, 1.0 / (p.shape[1] if "embedding" not in name else 1) ** 0.5)
            elif "layer_norm" in name and name.endswith("weight"):
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0, 0.1)
    return model


class Export(torch.nn.Module):
    """transformers.js' CLIPTextModelWithProjectionOnnxConfig: input_ids in, text_embeds out."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids=input_ids).text_embeds


def main():
    import onnx
    import onnxruntime as ort
    import transformers
    from transformers import CLIPTokenizerFast

    tok = CLIPTokenizerFast.from_pretrained(TOKENIZER, local_files_only=True)
    assert tok.pad_token_id == 49407 and tok.eos_token_id == 49407
    ids_list = [tok(n, truncation=True, max_length=CONTEXT)["input_ids"] for n in NAMES]
    assert max(len(x) for x in ids_list) == CONTEXT

    model = build_model()
    assert model.text_model.eos_token_id == 2, "the legacy argmax pooling is what the published model does"
    with torch.no_grad():
        raw = torch.cat([model(input_ids=torch.tensor([x])).text_embeds for x in ids_list]).numpy()
    norms = np.linalg.norm(raw, axis=-1)
    print(f"torch text_embeds norms (unnormalized, as published): {norms.min():.2f} .. {norms.max():.2f}")
    alone = (raw / norms[:, None]).astype(np.float32)
    cos = alone @ alone.T
    print(f"cosine between different names: max {cos[~np.eye(len(NAMES), dtype=bool)].max():.4f}")

    os.makedirs(os.path.join(OUT, "onnx"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "refs"), exist_ok=True)
    path = os.path.join(OUT, "onnx", "text_model.onnx")
    dummy = torch.tensor([ids_list[1], ids_list[1]])
    torch.onnx.export(Export(model), (dummy,), path, dynamo=False, opset_version=14,
                      input_names=["input_ids"], output_names=["text_embeds"],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"}, "text_embeds": {0: "batch_size"}})
    m = onnx.load(path)
    onnx.checker.check_model(m)
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    interface = ([(i.name, i.type.tensor_type.elem_type, dims(i)) for i in m.graph.input],
                 [(o.name, o.type.tensor_type.elem_type, dims(o)) for o in m.graph.output])
    print("interface:", interface)
    assert interface == ([("input_ids", onnx.TensorProto.INT64, ["batch_size", "sequence_length"])],
                         [("text_embeds", onnx.TensorProto.FLOAT, ["batch_size", PROJ])]), interface
    assert any(n.op_type == "ArgMax" for n in m.graph.node), "pooling by ArgMax over input_ids"

    # onnxruntime on a batch padded with <|endoftext|> (no mask: the model takes none).
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    L = max(len(x) for x in ids_list)
    ids = np.full((len(ids_list), L), tok.pad_token_id, dtype=np.int64)
    for i, x in enumerate(ids_list):
        ids[i, :len(x)] = x
    e = sess.run(["text_embeds"], {"input_ids": ids})[0]
    e = e / np.linalg.norm(e, axis=-1, keepdims=True)
    diff = np.abs(e - alone).max()
    print(f"onnxruntime padded batch vs torch alone: max abs diff {diff:.2e}")
    assert diff < 1e-5

    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(model.config.to_diff_dict(), f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(OUT, "refs", "names.json"), "w", encoding="utf-8") as f:
        json.dump(NAMES, f, ensure_ascii=False, indent=1)
        f.write("\n")
    # What Ultralytics writes as the `names` metadata: str() of the dict, Python's repr quoting.
    with open(os.path.join(OUT, "refs", "names.pydict.txt"), "w", encoding="utf-8") as f:
        f.write(str(dict(enumerate(NAMES))))
    with open(os.path.join(OUT, "refs", "input_ids.json"), "w") as f:
        json.dump(ids_list, f)
    np.save(os.path.join(OUT, "refs", "text_embeds.npy"), alone)
    with open(os.path.join(OUT, "refs", "versions.json"), "w") as f:
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__, "onnx": onnx.__version__,
                   "onnxruntime": ort.__version__, "seed": SEED, "hidden": HIDDEN, "layers": LAYERS,
                   "heads": HEADS, "projection": PROJ, "opset": 14}, f, indent=1)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    sys.exit(main())
