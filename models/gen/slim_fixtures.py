#!/usr/bin/env python3
"""Run onnxslim on committed Ultralytics-style exports, the way Ultralytics' exporter does.

  /work/venv/bin/python models/gen/slim_fixtures.py             # all slim twins
  /work/venv/bin/python models/gen/slim_fixtures.py --only NAME[,NAME...]   --list

Ultralytics' export_onnx (simplify=True, its default): torch.onnx.export -> onnxslim.slim(model)
with default options -> metadata_props added (key = str(value)) -> ir_version capped at 10 ->
(half on CPU only: onnxruntime.transformers.float16, not done here). So each twin is the committed
base file with its metadata removed, slimmed, and the metadata written back in the exporter's
order. onnxslim is not on this machine's pip index: install it from its source (see
models/gen/README.md, "onnxslim twins"); the version used is recorded in the manifest entry.

The twin computes the same function as its base, so it reuses the base fixture's PyTorch refs
(same .npy paths; nothing new under refs/). This script checks that with onnxruntime and
describes, in the entry's `slim` field, which constant every text site reads (checked against the
PyTorch module: F.normalize(text) for the head, guide Linear(text) per neck block).
"""
import argparse
import copy
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_fixtures as G  # noqa: E402
import gen_vocab_refs as V  # noqa: E402
import gen_ultra_exports as H  # noqa: E402
from yw_upstream import MaxSigmoidAttn  # noqa: E402

FIX = G.FIX

# (twin, base, metadata, post): metadata None = keep the base's metadata_props; 'dynamic' = the
# props the exporter writes for dynamic=True (the base has none). post: 'headcopies' = split_head();
# 'fp16' = what the exporter does with half=True on a CPU after slimming (to_fp16_cpu()).
SLIM = [
    ('ultralytics-world-op20-static-meta-slim', 'ultralytics-world-op20-static-meta', None, None),
    ('ultralytics-world-op12-static-meta-slim', 'ultralytics-world-op12-static-meta', None, None),
    ('ultralytics-world-op20-static-meta-slim-headcopies', 'ultralytics-world-op20-static-meta', None,
     'headcopies'),
    ('ultralytics-world-op17-dynamic-slim', 'ultralytics-world-op17-dynamic', 'dynamic', None),
    ('ultralytics-world-k1203-op20-static-meta-slim', 'ultralytics-world-k1203-op20-static-meta', None, None),
    ('ultralytics-world-op20-static-fp16-meta-slim', 'ultralytics-world-op20-static-fp16-meta', None, None),
    ('ultralytics-world-op20-static-meta-slim-fp16cpu', 'ultralytics-world-op20-static-meta', None, 'fp16'),
    ('ultralytics-world-op17-dynamic-slim-fp16cpu', 'ultralytics-world-op17-dynamic', 'dynamic', 'fp16'),
]
FP16_TOL = {'atol': 5e-2, 'rtol': 1e-2}


def to_fp16_cpu(m):
    """Ultralytics export_onnx, half=True on a CPU: after onnxslim and the metadata,
    onnxruntime.transformers.float16.convert_float_to_float16(model, keep_io_types=True): float32
    images in and output0 out (Cast nodes at the edges), float16 weights and activations inside
    (ops in its DEFAULT_OP_BLOCK_LIST stay float32 behind Casts)."""
    from onnxruntime.transformers import float16
    return float16.convert_float_to_float16(m, keep_io_types=True)


def split_head(m):
    """On real Ultralytics v2 exports onnxslim leaves one folded normalize(text) per head level:
    three byte-identical (1,K,512) initializers under three names. The TorchScript exporter
    already merged our three normalize() chains into one Div (its CSE), so onnxslim folds a single
    constant shared by the three head Einsums. This gives every head Einsum its own copy, named
    after its node, to reproduce the real layout; nothing else changes."""
    inits = {t.name: t for t in m.graph.initializer}
    users = {}
    for n in m.graph.node:
        if n.op_type == 'Einsum':
            for i, x in enumerate(n.input):
                if x in inits and len(inits[x].dims) == 3 and inits[x].dims[2] == 512:
                    users.setdefault(x, []).append((n, i))
    made = 0
    for x, us in users.items():
        for n, i in us:
            c = onnx.TensorProto()
            c.CopyFrom(inits[x])
            c.name = n.name.strip('/').replace('/', '.') + '.text'
            m.graph.initializer.append(c)
            n.input[i] = c.name
            made += 1
        m.graph.initializer.remove(inits[x])
    assert made == 3, made
    return m


def dynamic_props(opset, half=False):
    props = V.meta_props(opset)
    out = []
    for k, v in props:
        if k == 'args':
            v = str({'batch': 1, 'half': half, 'dynamic': True, 'simplify': True, 'opset': opset,
                     'nms': False})
        out.append((k, v))
    return out


def fixture_def(name):
    for f in G.FIXTURES + V.META_FIXTURES + [H.K1203] + H.HALF_FIXTURES:
        if f['name'] == name:
            return f
    raise KeyError(name)


def slim_model(base_path, props):
    import onnxslim
    m = onnx.load(base_path)
    if props is None:   # the exporter's own props, with the simplify flag it would have had
        props = [(p.key, p.value.replace("'simplify': False", "'simplify': True") if p.key == 'args'
                  else p.value) for p in m.metadata_props]
    del m.metadata_props[:]
    m = onnxslim.slim(m)                 # Ultralytics: model_onnx = onnxslim.slim(model_onnx)
    for k, v in props:
        p = m.metadata_props.add()
        p.key, p.value = k, v
    if m.ir_version > 10:
        m.ir_version = 10
    return m, props, onnxslim.__version__


def consts(m):
    out = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == 'Constant':
            for a in n.attribute:
                if a.name == 'value':
                    out[n.output[0]] = numpy_helper.to_array(a.t)
    return out


def site_facts(m, model, half):
    """Which constant each Einsum / MatMul text site reads, checked against the torch module."""
    c = consts(m)
    txt = model.txt_feats.double()
    k = txt.shape[1]
    head = torch.nn.functional.normalize(txt, dim=-1).numpy()
    attn = [mod for mod in model.neck.modules() if isinstance(mod, MaxSigmoidAttn)]
    neck = []
    for a in attn:
        with torch.no_grad():
            g = a.gl.double()(txt).view(1, k, a.nh, a.hc).numpy()
        neck.append(g)
    sites = []
    for n in m.graph.node:
        if n.op_type not in ('Einsum', 'MatMul'):
            continue
        for i, x in enumerate(n.input):
            if x not in c or c[x].dtype.kind != 'f' or k not in c[x].shape:
                continue
            v = c[x].astype(np.float64)
            rec = dict(node=n.name, op=n.op_type, input=i, constant=x, shape=list(v.shape),
                       dtype=str(c[x].dtype), equals=None, maxAbs=None)
            tol = 2e-3 if half else 1e-5
            if v.shape == head.shape:
                d = float(np.abs(v - head).max())
                if d <= tol:
                    rec.update(equals='normalize(text)', maxAbs=d)
            for j, g in enumerate(neck):
                if v.shape == g.shape:
                    d = float(np.abs(v - g).max())
                    if d <= tol * max(1.0, float(np.abs(g).max())):
                        rec.update(equals='neck block %d: guide Linear(text) as (1,K,heads,hc)' % j, maxAbs=d)
            sites.append(rec)
    matmul = sum(1 for n in m.graph.node if n.op_type == 'MatMul')
    gl_w = [x for x, v in c.items() if v.ndim == 2 and 512 in v.shape and v.dtype.kind == 'f']
    text_like = [x for x, v in c.items() if v.dtype.kind == 'f' and v.shape in ((1, k, 512), (k, 512))]
    return dict(sites=sites, matmulNodes=matmul, guideLinearWeights=gl_w,
                textShapedConstants=text_like, nodes=len(m.graph.node))


def check_ort(path, entry, tol, rtol):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    it = {i.name: i.type for i in sess.get_inputs()}
    worst, ok = 0.0, True
    for r in entry['refs']:
        feeds = {}
        for n, p in r['inputs'].items():
            a = np.load(os.path.join(FIX, p))
            feeds[n] = a.astype(np.float16) if it[n] == 'tensor(float16)' else a
        names = list(r['outputs'])
        for n, got in zip(names, sess.run(names, feeds)):
            ref = np.load(os.path.join(FIX, r['outputs'][n]))
            assert got.shape == ref.shape, (n, got.shape, ref.shape)
            d = np.abs(got.astype(np.float32) - ref)
            worst = max(worst, float(d.max()))
            ok = ok and bool((d <= tol + rtol * np.abs(ref)).all())
    return worst, ok


def main():
    if os.environ.get('PYTHONHASHSEED') != '0':
        # onnxslim's symbolic shape inference writes dim_param expressions whose form follows
        # set/dict order of sympy objects: a fixed hash seed makes the files byte-reproducible.
        os.environ['PYTHONHASHSEED'] = '0'
        os.execv(sys.executable, [sys.executable] + sys.argv)
    ap = argparse.ArgumentParser()
    ap.add_argument('--only')
    ap.add_argument('--list', action='store_true')
    a = ap.parse_args()
    todo = SLIM
    if a.only:
        want = set(a.only.split(','))
        todo = [s for s in SLIM if s[0] in want]
    if a.list:
        print('\n'.join(s[0] for s in todo))
        return
    mpath = os.path.join(FIX, 'manifest.json')
    with open(mpath) as fh:
        ents = json.load(fh)['fixtures']
    by_name = {e['name']: e for e in ents}
    failed = []
    for name, base, meta, post in todo:
        if base not in by_name:
            print('skip %s: base %s not generated' % (name, base))
            continue
        be = by_name[base]
        src = os.path.join(FIX, be['file'])
        dst = os.path.join(FIX, name + '.onnx')
        props = dynamic_props(be['opset'], post == 'fp16') if meta == 'dynamic' else None
        if props is None and post == 'fp16':
            props = [(p.key, p.value.replace("'half': False", "'half': True") if p.key == 'args' else p.value)
                     for p in onnx.load(src).metadata_props]
        m, props, ver = slim_model(src, props)
        if post == 'headcopies':
            m = split_head(m)
        if post == 'fp16':
            m = to_fp16_cpu(m)
        onnx.save(m, dst)
        if post != "fp16":   # the fp16 converter appends its input Casts last: not topologically sorted
            onnx.checker.check_model(dst, full_check=True)
        model = G.build_model(fixture_def(base)['cfg'], seed=0)
        half = bool(be.get('fp16')) or post == 'fp16'
        facts = site_facts(m, model, half)
        e = copy.deepcopy(be)
        e['name'] = name
        e['file'] = name + '.onnx'
        e['derivedFrom'] = base
        e['metadata'] = dict(props)
        e['slim'] = dict(onnxslim=ver, headCopiesSplit=post == 'headcopies', **facts)
        if post == 'fp16':
            e.update(fp16=True, io='float32', refTolerance=FP16_TOL)
            e['slim']['float16Converter'] = 'onnxruntime %s transformers.float16 (keep_io_types=True)' % ort.__version__
        e['notes'] = ('onnxslim %s slim() with default options (as Ultralytics\' exporter runs it, '
                      'simplify=True) applied to %s, then the exporter\'s metadata_props; %d -> %d nodes. '
                      'Refs are the base fixture\'s (same module).' % (
                          ver, base, len(onnx.load(src).graph.node), facts['nodes']))
        if post == 'fp16':
            e['notes'] += (' Then onnxruntime\'s float16 converter with keep_io_types=True, as the exporter '
                           'does for half=True on a CPU (float32 I/O, float16 inside). Refs: the base\'s, '
                           'i.e. the float32 module (no torch module computes what the converter '
                           'writes); refTolerance is the fp16 one.')
        if post == 'headcopies':
            e['notes'] += (' Then the one folded normalize(text) shared by the 3 head Einsums was split '
                           'into 3 byte-identical initializers under 3 names, one per head level, as '
                           'onnxslim leaves them on real Ultralytics v2 exports (split_head()).')
        t = e.get('refTolerance', {'atol': 1e-3, 'rtol': 1e-3})
        worst, ok = check_ort(dst, e, t['atol'], t['rtol'])
        print('%s <- %s: %d nodes, MatMul %d, guide W %s, text-shaped %s' % (
            name, base, facts['nodes'], facts['matmulNodes'], facts['guideLinearWeights'],
            facts['textShapedConstants']))
        for s in facts['sites']:
            print('    %-8s %-40s %-28s %s %s (max %.2g)' % (s['op'], s['node'][:40], s['constant'][:28],
                                                           s['shape'], s['equals'], s['maxAbs'] or -1))
        print('    ORT vs torch refs: max abs %.3g %s (%d bytes)' % (worst, 'OK' if ok else 'FAIL',
                                                                    os.path.getsize(dst)))
        if not ok:
            failed.append(name)
        by_name[name] = e
    names = [e['name'] for e in ents]
    for name, _, _, _ in todo:
        if name in by_name and name not in names:
            names.append(name)
    with open(mpath, 'w') as fh:
        json.dump({'fixtures': [by_name[n] for n in names]}, fh, indent=2)
        fh.write('\n')
    if failed:
        print('FAILED:', failed)
        sys.exit(1)


if __name__ == '__main__':
    main()
