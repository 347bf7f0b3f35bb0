#!/usr/bin/env python3
"""PyTorch references for class SUBSETS (--classes) and for fp16 retargets.

  /usr/bin/python3 models/gen/gen_subset_refs.py         # torch 1.13 fixtures
  /work/venv/bin/python models/gen/gen_subset_refs.py    # torch 2.x fixtures (incl. fp16)
  Options: --list   --only NAME[,NAME...]

Subsets: a fixture's own module (gen_fixtures cfg, seed 0) with its text replaced by the chosen
ROWS of its own text, in the chosen order (gen_vocab_refs.swap_text: UltralyticsWorldV2.nc/.no
follow K'), run on the fixture's committed reference inputs. That is what `--classes` must give:
the neck's max over classes only sees the chosen classes, so the references are not slices of
the K-class outputs. Twins (onnxslim, same module) point at their base fixture's refs.
-> fixtures/vocab/subsets.json, refs in fixtures/vocab/refs/<fixture>/sel-<selection>.r<i>.<out>.npy,
   selection files fixtures/vocab/classes-<selection>.{txt,json,pydict.txt}, the chosen text rows
   fixtures/vocab/refs/<fixture>/sel-<selection>.texts.npy ((K',512) float32, for --text-embed).

fp16 retargets: the HALF module (the function the fp16 file holds: fp16 weights, the new text
rounded to fp16, fp16 activations) with texts-k<K'>.npy, run in torch on CPU. A file written by
onnxruntime's float16 converter (Ultralytics half=True on a CPU) matches no torch module: its
refs are the float32 module's (reference says which).
-> fixtures/vocab/fp16.json (same per-fixture shape as vocab/manifest.json: name, file, k, d,
   vocab[{k, text, refs}]), refs in fixtures/vocab/refs/<fixture>/k<K'>.r<i>.<out>.npy; each
   vocab entry also records fp32ModuleMaxAbs, how far the float32 module's outputs are.
Both JSON files are read-modify-written by fixture name, so the two interpreters' runs merge.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_fixtures as G  # noqa: E402
import gen_vocab_refs as V  # noqa: E402
from yw_tiny import HalfWrapper  # noqa: E402

FIX = G.FIX
VOC = V.VOC
MAJOR = 1 if G.TORCH_MAJOR < 2 else 2

# Fixed, unsorted selections. coco20 draws on the meta fixtures' names (0 person ... 40 "baby's
# bottle", 55 'café' ...), so names with an apostrophe, a non-ASCII letter and spaces are in it.
# lvis20 spans K = 1203 (first and last class included).
SELECTIONS = {
    'coco20': [0, 5, 2, 17, 40, 55, 7, 1, 79, 15, 16, 62, 3, 9, 44, 26, 72, 11, 58, 33],
    'lvis20': [0, 1202, 5, 600, 17, 999, 2, 80, 1100, 40, 333, 55, 7, 512, 79, 1000, 15, 250, 16, 801],
}

# fixture -> (selection, base whose refs it shares or None)
SUBSETS = {
    'ultralytics-world-op20-static-meta': ('coco20', None),
    'ultralytics-world-op20-static-meta-slim': ('coco20', 'ultralytics-world-op20-static-meta'),
    'ultralytics-world-op20-static-meta-slim-headcopies': ('coco20', 'ultralytics-world-op20-static-meta'),
    'ultralytics-world-op12-static-meta': ('coco20', None),
    'ultralytics-world-op12-static-meta-slim': ('coco20', 'ultralytics-world-op12-static-meta'),
    'ultralytics-world-op17-dynamic': ('coco20', None),
    'ultralytics-world-op17-dynamic-slim': ('coco20', 'ultralytics-world-op17-dynamic'),
    'ultralytics-world-op20-static-fp16-meta': ('coco20', None),
    'ultralytics-world-op20-static-fp16-meta-slim': ('coco20', 'ultralytics-world-op20-static-fp16-meta'),
    'ultralytics-world-op20-static-meta-slim-fp16cpu': ('coco20', 'ultralytics-world-op20-static-meta'),
    'ultralytics-world-op17-dynamic-slim-fp16cpu': ('coco20', 'ultralytics-world-op17-dynamic'),
    'full-bn-einsum-k1203-op17-static': ('lvis20', None),
    'ultralytics-world-k1203-op20-static-meta': ('lvis20', None),
    'ultralytics-world-k1203-op20-static-meta-slim': ('lvis20', 'ultralytics-world-k1203-op20-static-meta'),
}
FP16 = {
    'full-bn-einsum-op18-fp16-static': (20, 1),
    'ultralytics-world-op20-static-fp16-meta': (20, 1),
}
# fp16 files that no torch module computes (onnxruntime's float16 converter): their retarget refs
# are the float32 module's, i.e. the base fixture's vocab/manifest.json refs.
FP16_FROM_FP32 = {'ultralytics-world-op17-dynamic-slim-fp16cpu': ('ultralytics-world-op17-dynamic', (20, 1))}
FP16_TOL = {'atol': 5e-2, 'rtol': 1e-2}
SANITY_FP16 = 1e-3


def fixture_def(name):
    import gen_ultra_exports as H
    for f in G.FIXTURES + V.META_FIXTURES + [H.K1203] + H.HALF_FIXTURES:
        if f['name'] == name:
            return f
    raise KeyError(name)


def manifest_entry(name):
    with open(os.path.join(FIX, 'manifest.json')) as fh:
        return {e['name']: e for e in json.load(fh)['fixtures']}[name]


def build(f):
    """The module the fixture was exported from, and the module holding the text."""
    model = G.build_model(f['cfg'], seed=0)
    if f['fp16'] and f['cfg']['model'] == 'tiny':
        model = HalfWrapper(model)          # gen_fixtures: float32 I/O around a half module
        return model.eval(), model.inner
    if f['fp16']:
        model = model.half()                 # gen_ultra_exports: float16 I/O
    return model.eval(), model


def run(model, onames, images, half_io):
    x = torch.from_numpy(images)
    with torch.no_grad():
        outs = model(x.half() if half_io else x)
    if not isinstance(outs, tuple):
        outs = (outs,)
    return {n: np.ascontiguousarray(o.float().numpy()) for n, o in zip(onames, outs)}


def sanity(f, me, model, holder, onames, half_io):
    """The rebuilt module, through the same text swap, reproduces the committed refs."""
    orig = V.text_of(holder).clone()
    V.swap_text(holder, orig.clone())
    worst = 0.0
    for r in me['refs']:
        got = run(model, onames, np.load(os.path.join(FIX, r['inputs']['images'])), half_io)
        for n, p in r['outputs'].items():
            ref = np.load(os.path.join(FIX, p))
            scale = max(1.0, float(np.abs(ref).max()))
            worst = max(worst, float(np.abs(got[n] - ref).max()) / scale)
    tol = SANITY_FP16 if f['fp16'] else V.SANITY_TOL
    print('   sanity vs committed refs: max |d|/max(1,|ref|) %.3g (tol %.g)' % (worst, tol), flush=True)
    assert worst <= tol, (f['name'], worst)
    return orig, worst


def write_selection(key, names):
    sel = SELECTIONS[key]
    out = {'indices': sel, 'txtIndices': 'vocab/classes-%s.indices.txt' % key}
    with open(os.path.join(FIX, out['txtIndices']), 'w') as fh:
        fh.write('\n'.join(str(i) for i in sel) + '\n')
    if names is not None:
        chosen = [names[i] for i in sel]
        out.update(names=chosen, txt='vocab/classes-%s.txt' % key, json='vocab/classes-%s.json' % key,
                   pydict='vocab/classes-%s.pydict.txt' % key)
        with open(os.path.join(FIX, out['txt']), 'w', encoding='utf-8') as fh:
            fh.write('\n'.join(chosen) + '\n')
        with open(os.path.join(FIX, out['json']), 'w', encoding='utf-8') as fh:
            json.dump(chosen, fh, ensure_ascii=False)
            fh.write('\n')
        with open(os.path.join(FIX, out['pydict']), 'w', encoding='utf-8') as fh:
            fh.write(str({i: n for i, n in enumerate(chosen)}))      # no trailing newline
    return out


def subset_entry(name):
    key, base = SUBSETS[name]
    me = manifest_entry(name)
    src = base or name
    f = fixture_def(src)
    sel = SELECTIONS[key]
    e = dict(name=name, file=me['file'], k=me['k'], d=me['d'], selection=key, kPrime=len(sel),
             indices=sel, names=None, classAxes=V.class_axes(f['cfg']), fp16=bool(me.get('fp16')),
             io=me.get('io', 'float32'))
    if 'names' in me.get('metadata', {}):
        import ast
        allnames = ast.literal_eval(me['metadata']['names'])
        e['names'] = [allnames[i] for i in sel]
    if me.get('fp16'):
        e['refTolerance'] = FP16_TOL
    if base:
        b = by_name_subsets().get(base)
        assert b is not None, 'generate %s first' % base
        e.update(refsFrom=base, torch=b['torch'], refs=b['refs'], textRows=b['textRows'])
        return e
    print('==>', name, key, flush=True)
    model, holder = build(f)
    onames = G.out_names(f['cfg'])
    half_io = bool(f['fp16']) and f['cfg']['model'] != 'tiny'
    orig, worst = sanity(f, me, model, holder, onames, half_io)
    rows = orig[:, sel]
    V.swap_text(holder, rows.clone())
    refdir = os.path.join(VOC, 'refs', name)
    os.makedirs(refdir, exist_ok=True)
    for old in os.listdir(refdir):
        if old.startswith('sel-%s.' % key):
            os.remove(os.path.join(refdir, old))
    trows = 'vocab/refs/%s/sel-%s.texts.npy' % (name, key)
    np.save(os.path.join(FIX, trows), np.ascontiguousarray(rows[0].float().numpy()))
    refs = []
    for ri, r in enumerate(me['refs']):
        got = run(model, onames, np.load(os.path.join(FIX, r['inputs']['images'])), half_io)
        outs = {}
        for n, a in got.items():
            ax = e['classAxes'].get(n)
            if ax:
                assert a.shape[ax['axis']] == ax['offset'] + len(sel), (n, a.shape)
            assert np.isfinite(a).all()
            p = 'vocab/refs/%s/sel-%s.r%d.%s.npy' % (name, key, ri, n)
            np.save(os.path.join(FIX, p), a)
            outs[n] = p
        refs.append(dict(inputs=r['inputs'], outputs=outs, shape=r.get('shape')))
    V.swap_text(holder, orig)
    e.update(torch=torch.__version__, sanity=worst, refs=refs, textRows=trows)
    return e


def fp16_entry(name):
    me = manifest_entry(name)
    f = fixture_def(name)
    print('==> fp16', name, flush=True)
    model, holder = build(f)
    onames = G.out_names(f['cfg'])
    half_io = f['cfg']['model'] != 'tiny'
    orig, worst = sanity(f, me, model, holder, onames, half_io)
    fp32, fp32_holder = G.build_model(f['cfg'], seed=0).eval(), None
    fp32_holder = fp32
    vocab = []
    for kk in FP16[name]:
        t = torch.from_numpy(V.texts(kk)).unsqueeze(0)
        V.swap_text(holder, t.to(orig.dtype))
        V.swap_text(fp32_holder, t)
        refs, far = [], 0.0
        for ri, r in enumerate(me['refs']):
            images = np.load(os.path.join(FIX, r['inputs']['images']))
            got = run(model, onames, images, half_io)
            ref32 = run(fp32, onames, images, False)
            outs = {}
            for n, a in got.items():
                assert np.isfinite(a).all()
                far = max(far, float(np.abs(a - ref32[n]).max()))
                p = 'vocab/refs/%s/k%d.r%d.%s.npy' % (name, kk, ri, n)
                os.makedirs(os.path.dirname(os.path.join(FIX, p)), exist_ok=True)
                np.save(os.path.join(FIX, p), a)
                outs[n] = p
            refs.append(dict(inputs=r['inputs'], outputs=outs, shape=r.get('shape')))
        vocab.append(dict(k=kk, text='vocab/texts-k%d.npy' % kk, refs=refs, fp32ModuleMaxAbs=far))
        print('   K\'=%d: half module vs float32 module max abs %.3g' % (kk, far), flush=True)
    V.swap_text(holder, orig)
    return dict(name=name, file=me['file'], k=me['k'], d=me['d'], torch=torch.__version__,
                io=me.get('io', 'float32'), reference='half module (torch CPU)', sanity=worst,
                refTolerance=FP16_TOL, classAxes=V.class_axes(f['cfg']), vocab=vocab)


def fp16_from_fp32(name, base, ks):
    me = manifest_entry(name)
    with open(os.path.join(VOC, 'manifest.json')) as fh:
        ve = {e['name']: e for e in json.load(fh)['fixtures']}[base]
    by_k = {v['k']: v for v in ve['vocab']}
    vocab = [dict(by_k[k], fp32ModuleMaxAbs=0.0) for k in ks]
    return dict(name=name, file=me['file'], k=me['k'], d=me['d'], torch=ve['torch'],
                io=me.get('io', 'float32'), reference='float32 module (refs of %s in vocab/manifest.json)' % base,
                refsFrom=base, refTolerance=FP16_TOL, classAxes=ve['classAxes'], vocab=vocab)


_SUBSETS_DOC = {}


def by_name_subsets():
    return {e['name']: e for e in _SUBSETS_DOC.get('fixtures', [])}


def load(path, default):
    if os.path.exists(path):
        with open(path) as fh:
            return json.load(fh)
    return default


def save(path, doc):
    with open(path, 'w', encoding='utf-8') as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
        fh.write('\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', default='')
    ap.add_argument('--list', action='store_true')
    a = ap.parse_args()
    mine = lambda n: fixture_def(SUBSETS.get(n, (0, None))[1] or n)['torch_major'] == MAJOR  # noqa: E731
    subs = [n for n in SUBSETS if mine(n)]
    halves = [n for n in FP16 if mine(n)]
    if a.only:
        want = set(a.only.split(','))
        subs, halves = [n for n in subs if n in want], [n for n in halves if n in want]
    if a.list:
        print('\n'.join(['subset ' + n for n in subs] + ['fp16 ' + n for n in halves]))
        return
    spath, hpath = os.path.join(VOC, 'subsets.json'), os.path.join(VOC, 'fp16.json')
    doc = load(spath, {'fixtures': []})
    _SUBSETS_DOC.update(doc)
    doc['generator'] = 'models/gen/gen_subset_refs.py'
    doc['notes'] = (
        'Paths are relative to models/fixtures/. A fixture entry: the fixture restricted to the classes '
        '`indices` (0-based, in this order; `names` = those entries of its `names` metadata, null '
        'when it has none). refs = PyTorch eval outputs of the fixture\'s own module whose text '
        'is ONLY those rows in that order (K\' = kPrime; output class axes per classAxes), on the '
        'fixture\'s committed reference inputs; refsFrom = the base fixture whose module and refs an '
        'onnxslim twin shares. textRows = those rows as a (K\',512) float32 .npy (what --text-embed '
        'with the same rows gets). Compare like vocab/manifest.json (atol 1e-3, rtol 1e-3) or, when '
        'refTolerance is given (fp16), with it. sanity = the rebuilt module with its original text '
        'against the committed refs (max |d|/max(1,|ref|)).')
    doc['selections'] = doc.get('selections', {})
    names80 = V.meta_names()
    doc['selections']['coco20'] = write_selection('coco20', names80)
    import gen_ultra_exports as H
    doc['selections']['lvis20'] = write_selection('lvis20', H.names_k1203())
    doc['selections']['coco20']['namesFrom'] = 'names metadata of the ultralytics-world *-meta fixtures'
    doc['selections']['lvis20']['namesFrom'] = ('names metadata of ultralytics-world-k1203-op20-static-meta '
                                                '(full-bn-einsum-k1203-op17-static has none: use indices)')
    order = list(SUBSETS)
    for n in subs:
        if not os.path.exists(os.path.join(FIX, manifest_entry(n)['file'])):
            print('skip', n, '(no file)')
            continue
        e = subset_entry(n)
        bn = by_name_subsets()
        bn[n] = e
        doc['fixtures'] = sorted(bn.values(), key=lambda x: order.index(x['name']))
        _SUBSETS_DOC.update(doc)
        save(spath, doc)
    save(spath, doc)
    hdoc = load(hpath, {'fixtures': []})
    hdoc['generator'] = 'models/gen/gen_subset_refs.py'
    hdoc['notes'] = (
        'Paths are relative to models/fixtures/. fp16 fixtures retargeted to K\' (vocab[].text, '
        'texts-k<K\'>.npy): refs = the fixture\'s HALF module (fp16 weights, the new text rounded to '
        'fp16, fp16 activations; the function the fp16 file holds) run by torch on CPU, outputs '
        'widened to float32; inputs float32 (cast to the model input type). Compare with '
        'refTolerance (|d| <= atol + rtol*|ref|). fp32ModuleMaxAbs = how far the float32 module with '
        'the same text is from these refs (the fp16 error itself).')
    hb = {e['name']: e for e in hdoc['fixtures']}
    for n in halves:
        hb[n] = fp16_entry(n)
    for n, (base, ks) in FP16_FROM_FP32.items():
        if mine(base):
            hb[n] = fp16_from_fp32(n, base, ks)
    order = list(FP16) + list(FP16_FROM_FP32)
    hdoc['fixtures'] = sorted(hb.values(), key=lambda x: order.index(x['name']))
    save(hpath, hdoc)


if __name__ == '__main__':
    main()
