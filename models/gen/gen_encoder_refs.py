"""PyTorch references for the one-step `reparam --encoder` test (issue 8, fixtures only).

Runs the detector of `ultralytics-world-op20-static-meta` (same module, cfg and seed as the
fixture) with its text replaced by the tiny CLIP encoder's PyTorch embeddings of its 40 test
names (`clip-tiny/refs/text_embeds.npy`, L2-normalized rows), on the fixture's reference input,
and writes `vocab/refs/<fixture>/clip40.r0.<out>.npy` and `vocab/clip40.names.json`.
Run with the torch 2.x venv: /work/venv/bin/python models/gen/gen_encoder_refs.py
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_fixtures as G  # noqa: E402
import gen_vocab_refs as V  # noqa: E402

NAME = 'ultralytics-world-op20-static-meta'


def main():
    f = V.find_fixture(NAME)
    model = G.build_model(f['cfg'], seed=0)
    model.eval()
    onames = G.out_names(f['cfg'])
    text = np.load(os.path.join(G.FIX, 'clip-tiny', 'refs', 'text_embeds.npy')).astype(np.float32)
    names = json.load(open(os.path.join(G.FIX, 'clip-tiny', 'refs', 'names.json')))
    # A class name may not hold a tab (passes/io/names-format.ts). CLIP's tokenizer turns any
    # run of white space into one space, so the names file gets a space and the row is the same.
    names = [n.replace('\t', ' ') for n in names]
    assert text.shape == (len(names), G.D), text.shape
    V.swap_text(model, torch.from_numpy(text).unsqueeze(0))
    images = np.load(os.path.join(G.FIX, 'refs', NAME, 'r0.images.npy'))
    got = V.run(model, onames, images)
    for n, a in got.items():
        p = os.path.join(G.FIX, 'vocab', 'refs', NAME, 'clip40.r0.%s.npy' % n)
        np.save(p, a)
        print(p, a.shape)
    with open(os.path.join(G.FIX, 'vocab', 'clip40.names.json'), 'w') as fh:
        json.dump(names, fh, ensure_ascii=False, indent=0)
        fh.write('\n')


if __name__ == '__main__':
    main()
