#!/usr/bin/env python3
"""Derive "already simplified" fixtures from existing ones (no re-export, no new refs).

  /work/venv/bin/python models/gen/simplify_fixtures.py            # all derived fixtures
  /work/venv/bin/python models/gen/simplify_fixtures.py --only NAME[,NAME...]   --list

Three transformations, each applied to an already committed base fixture:
  ortopt   onnxruntime BASIC graph optimizations, optimized model saved by ORT
           (constant folding, Identity / redundant node elimination, standard-domain ops only);
           no free-dimension overrides, so dynamic b/h/w stay symbolic.
  inferred onnx.shape_inference.infer_shapes(model, data_prop=True) (value_info on every value).
  folded   hand-rolled onnxsim-like constant folding: every node whose inputs are all
           initializers / Constant outputs (transitively; nothing depending on a graph input)
           is evaluated with onnx.reference.ReferenceEvaluator and replaced by an initializer
           of its value; dead nodes and unused initializers are then removed.

The derived model reuses the base fixture's PyTorch refs (same .npy paths in the manifest); it is
checked here with onnxruntime against them (prints max abs diff; nothing from ORT is committed
except the ortopt model file itself, which *is* ORT's optimized graph by definition).
manifest.json is read-modify-written by fixture name (derived entries sorted by name at the end,
as gen_fixtures.py orders names it does not know).
"""
import argparse
import copy
import json
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, '..', 'fixtures'))

# (derived name, base name, kind)
DERIVED = [
    ('full-bn-einsum-op17-static-ortopt', 'full-bn-einsum-op17-static', 'ortopt'),
    ('full-bn-matmul-op12-dynamic-ortopt', 'full-bn-matmul-op12-dynamic', 'ortopt'),
    ('ultra-bn-einsum-op17-dynamic-ortopt', 'ultra-bn-einsum-op17-dynamic', 'ortopt'),
    ('full-bn-einsum-op17-dynamic-inferred', 'full-bn-einsum-op17-dynamic', 'inferred'),
    ('upstream-v2-matmul-op12-dynamic-inferred', 'upstream-v2-matmul-op12-dynamic', 'inferred'),
    ('full-bn-einsum-op12-static-folded', 'full-bn-einsum-op12-static', 'folded'),
    ('full-bn-matmul-op12-static-folded', 'full-bn-matmul-op12-static', 'folded'),
]

NOTES = {
    'ortopt': ('onnxruntime %s GraphOptimizationLevel.ORT_ENABLE_BASIC, optimized_model_filepath '
               '(constant folding of the constant text path into initializers, Identity / redundant '
               'node elimination, standard-domain ops only; no free-dimension overrides, dynamic '
               'dims kept) applied to %s.'),
    'inferred': ('onnx %s shape_inference.infer_shapes(data_prop=True) applied to %s '
                 '(value_info on every intermediate value).'),
    'folded': ('Hand-rolled onnxsim-like constant folding (onnx %s ReferenceEvaluator) applied to %s: '
               'every node depending only on initializers/Constants replaced by an initializer of its '
               'value, dead nodes and unused initializers removed; the normalized text and the guide '
               'Linear outputs are plain initializers.'),
}

# nodes never folded (non-deterministic)
NO_FOLD = {'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Multinomial',
           'Bernoulli'}


def ortopt(src, dst):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    so.optimized_model_filepath = dst
    ort.InferenceSession(src, so, providers=['CPUExecutionProvider'])
    m = onnx.load(dst)
    bad = sorted({n.domain for n in m.graph.node if n.domain not in ('', 'ai.onnx')})
    if bad:
        raise RuntimeError('non-standard domains after BASIC optimization: %s' % bad)
    return m


def inferred(m):
    return onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True, data_prop=True)


def folded(m):
    m = copy.deepcopy(m)
    g = m.graph
    const = {t.name for t in g.initializer}
    graph_inputs = {i.name for i in g.input}
    const -= graph_inputs  # an initializer overridable by an input is not a constant
    fold = []
    for n in g.node:  # topologically sorted
        if n.op_type in NO_FOLD or any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                                       for a in n.attribute):
            continue
        if n.domain not in ('', 'ai.onnx'):
            continue
        if all(i == '' or i in const for i in n.input):
            fold.append(n)
            const.update(o for o in n.output if o)
    folded_outs = {o for n in fold for o in n.output if o}
    keep = [n for n in g.node if n not in fold]
    # values produced by folded nodes that are still needed (by kept nodes or graph outputs)
    needed = []
    for n in keep:
        needed += [i for i in n.input if i in folded_outs]
    needed += [o.name for o in g.output if o.name in folded_outs]
    needed = list(dict.fromkeys(needed))
    if needed:
        sub = helper.make_graph(fold, 'const', [], [onnx.ValueInfoProto(name=v) for v in needed],
                                initializer=[t for t in g.initializer if t.name not in graph_inputs])
        subm = helper.make_model(sub, opset_imports=m.opset_import, ir_version=m.ir_version)
        vals = ReferenceEvaluator(subm).run(None, {})
    else:
        vals = []
    new_inits = [numpy_helper.from_array(np.asarray(v), name) for name, v in zip(needed, vals)]
    del g.node[:]
    g.node.extend(keep)
    g.initializer.extend(new_inits)
    # dead-code elimination (nodes whose outputs reach no graph output), then unused initializers
    live = {o.name for o in g.output}
    alive = []
    for n in reversed(list(g.node)):
        if any(o in live for o in n.output):
            alive.append(n)
            live.update(i for i in n.input if i)
    alive.reverse()
    del g.node[:]
    g.node.extend(alive)
    inits = [t for t in g.initializer if t.name in live]
    del g.initializer[:]
    g.initializer.extend(inits)
    vis = [v for v in g.value_info if v.name in live]
    del g.value_info[:]
    g.value_info.extend(vis)
    print('    folded %d nodes, %d new initializers, %d nodes left' % (len(fold), len(new_inits), len(alive)))
    return m


def check_ort(path, entry):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    tol = entry.get('refTolerance', {'atol': 1e-3, 'rtol': 1e-3})
    worst, ok = 0.0, True
    for r in entry['refs']:
        feeds = {n: np.load(os.path.join(FIX, p)) for n, p in r['inputs'].items()}
        names = list(r['outputs'].keys())
        for n, got in zip(names, sess.run(names, feeds)):
            ref = np.load(os.path.join(FIX, r['outputs'][n]))
            if got.shape != ref.shape:
                print('    shape mismatch', n, got.shape, ref.shape)
                ok = False
                continue
            worst = max(worst, float(np.abs(got - ref).max()))
            ok = ok and bool(np.allclose(got, ref, atol=tol['atol'], rtol=tol['rtol']))
    return worst, ok


def op_hist(m):
    h = {}
    for n in m.graph.node:
        h[n.op_type] = h.get(n.op_type, 0) + 1
    return h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only')
    ap.add_argument('--list', action='store_true')
    a = ap.parse_args()
    todo = DERIVED
    if a.only:
        want = set(a.only.split(','))
        todo = [d for d in DERIVED if d[0] in want]
    if a.list:
        for d in todo:
            print(d[0])
        return
    mpath = os.path.join(FIX, 'manifest.json')
    with open(mpath) as fh:
        ents = json.load(fh)['fixtures']
    by_name = {e['name']: e for e in ents}
    derived_names = {d[0] for d in DERIVED}
    failed = []
    for name, base, kind in todo:
        be = by_name[base]
        src = os.path.join(FIX, be['file'])
        dst = os.path.join(FIX, name + '.onnx')
        print('%s <- %s (%s)' % (name, base, kind))
        bm = onnx.load(src)
        if kind == 'ortopt':
            m = ortopt(src, dst)
            ver = 'onnxruntime ' + ort.__version__
        else:
            m = inferred(bm) if kind == 'inferred' else folded(bm)
            ver = onnx.__version__
            onnx.save(m, dst)
        onnx.checker.check_model(dst, full_check=True)
        hb, hd = op_hist(bm), op_hist(m)
        diff = {k: hd.get(k, 0) - hb.get(k, 0) for k in sorted(set(hb) | set(hd)) if hd.get(k, 0) != hb.get(k, 0)}
        print('    nodes %d -> %d, initializers %d -> %d, value_info %d -> %d; op delta %s' % (
            len(bm.graph.node), len(m.graph.node), len(bm.graph.initializer), len(m.graph.initializer),
            len(bm.graph.value_info), len(m.graph.value_info), diff))
        e = copy.deepcopy(be)
        e['name'] = name
        e['file'] = name + '.onnx'
        e['derivedFrom'] = base
        e['notes'] = NOTES[kind] % (ver, base) + ' Refs are the base fixture\'s.'
        worst, ok = check_ort(dst, e)
        print('    ORT vs torch refs: max|ort-torch| = %.3g %s  (%d bytes)' % (worst, 'OK' if ok else 'FAIL',
                                                                        os.path.getsize(dst)))
        if not ok:
            failed.append(name)
        by_name[name] = e
    base_order = [e['name'] for e in ents if e['name'] not in derived_names]
    out = [by_name[n] for n in base_order] + [by_name[n] for n in sorted(derived_names) if n in by_name]
    with open(mpath, 'w') as fh:
        json.dump({'fixtures': out}, fh, indent=2)
        fh.write('\n')
    if failed:
        print('FAILED:', failed)
        sys.exit(1)


if __name__ == '__main__':
    main()
