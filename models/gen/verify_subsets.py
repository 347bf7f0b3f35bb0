#!/usr/bin/env python3
"""Cross-check vocab/subsets.json and vocab/fp16.json with onnxruntime (prints only).

  /work/venv/bin/python models/gen/verify_subsets.py

A naive retarget made here, independent of onnx-reparam: every float constant shaped (1, K, ...)
that no Conv reads (the text, and on onnxslim twins each site's folded constant) is cut to the
chosen rows along axis 1 (subsets) or replaced by the new text (fp16; plain exports only), and
every int constant / attribute holding K, 4+K or 64+K is mapped (gen_vocab_refs.graph_facts).
The result runs in onnxruntime against the PyTorch refs; prints max abs diff per fixture.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_vocab_refs as V  # noqa: E402

FIX = V.FIX


def class_consts(m, k):
    conv_w = {n.input[1] for n in m.graph.node if n.op_type == 'Conv'}
    out = []
    for t in m.graph.initializer:
        if t.name not in conv_w and t.data_type in (1, 10, 11) and len(t.dims) >= 2 and \
                t.dims[0] == 1 and t.dims[1] == k:
            out.append(t)
    for n in m.graph.node:
        if n.op_type == 'Constant' and n.output[0] not in conv_w:
            for a in n.attribute:
                if a.name == 'value' and a.t.data_type in (1, 10, 11) and len(a.t.dims) >= 2 and \
                        a.t.dims[0] == 1 and a.t.dims[1] == k:
                    out.append(a.t)
    return out


def retarget(path, k, new_k, rows=None, text=None):
    m = onnx.load(path)
    facts = V.graph_facts(path, k, np.zeros((k, V.D), np.float32))
    for t in class_consts(m, k):
        v = numpy_helper.to_array(t)
        if rows is not None:
            nv = v[:, rows]
        else:
            assert v.shape[2:] == (V.D,), ('not a plain text constant', t.name, v.shape)
            nv = text.reshape(1, new_k, V.D)
        t.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(nv.astype(v.dtype)), t.name))
    remap = {k: new_k, k + 4: new_k + 4, k + 64: new_k + 64}
    kc = {x['name']: x for x in facts['kConstants'] if x['kind'] != 'attribute'}
    attrs = {(x['node'], x['attribute']) for x in facts['kConstants'] if x['kind'] == 'attribute'}
    for t in m.graph.initializer:
        if t.name in kc:
            v = numpy_helper.to_array(t)
            t.CopyFrom(numpy_helper.from_array(np.array([remap.get(int(x), int(x)) for x in v.ravel()],
                                                        v.dtype).reshape(v.shape), t.name))
    for n in m.graph.node:
        for a in n.attribute:
            if n.op_type == 'Constant' and n.output[0] in kc and a.name == 'value':
                v = numpy_helper.to_array(a.t)
                a.t.CopyFrom(numpy_helper.from_array(np.array([remap.get(int(x), int(x)) for x in v.ravel()],
                                                              v.dtype).reshape(v.shape), a.t.name))
            if (n.name, a.name) in attrs:
                vals = [remap.get(x, x) for x in a.ints]
                del a.ints[:]
                a.ints.extend(vals)
    for o in m.graph.output:
        for d in o.type.tensor_type.shape.dim:
            d.dim_param = 'd'
    del m.graph.value_info[:]
    return m


def worst(model, refs, tol):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=['CPUExecutionProvider'])
    it = {i.name: i.type for i in sess.get_inputs()}
    w, ok = 0.0, True
    for r in refs:
        feeds = {n: np.load(os.path.join(FIX, p)) for n, p in r['inputs'].items()}
        feeds = {n: a.astype(np.float16) if it[n] == 'tensor(float16)' else a for n, a in feeds.items()}
        names = list(r['outputs'])
        for n, got in zip(names, sess.run(names, feeds)):
            ref = np.load(os.path.join(FIX, r['outputs'][n]))
            if got.shape != ref.shape:
                return float('inf'), False
            d = np.abs(got.astype(np.float32) - ref)
            w = max(w, float(d.max()))
            ok = ok and bool((d <= tol['atol'] + tol['rtol'] * np.abs(ref)).all())
    return w, ok


def main():
    bad = []
    with open(os.path.join(V.VOC, 'subsets.json')) as fh:
        subs = json.load(fh)
    for e in subs['fixtures']:
        tol = e.get('refTolerance', {'atol': 1e-3, 'rtol': 1e-3})
        m = retarget(os.path.join(FIX, e['file']), e['k'], e['kPrime'], rows=e['indices'])
        w, ok = worst(m, e['refs'], tol)
        print('subset %-52s K %d -> %d: max abs %.3g %s' % (e['name'], e['k'], e['kPrime'], w,
                                                          'OK' if ok else 'FAIL'), flush=True)
        if not ok:
            bad.append(e['name'])
    with open(os.path.join(V.VOC, 'fp16.json')) as fh:
        halves = json.load(fh)
    for e in halves['fixtures']:
        for v in e['vocab']:
            t = np.load(os.path.join(FIX, v['text']))
            m = retarget(os.path.join(FIX, e['file']), e['k'], v['k'], text=t)
            w, ok = worst(m, v['refs'], e['refTolerance'])
            print('fp16   %-52s K %d -> %d: max abs %.3g %s (float32 module is %.3g away)' % (
                e['name'], e['k'], v['k'], w, 'OK' if ok else 'FAIL', v['fp32ModuleMaxAbs']), flush=True)
            if not ok:
                bad.append('%s K\'=%d' % (e['name'], v['k']))
    if bad:
        print('FAILED:', bad)
        sys.exit(1)


if __name__ == '__main__':
    main()
