#!/usr/bin/env python3
"""Cross-check every fixture in models/fixtures/manifest.json with onnxruntime:
the ONNX file must reproduce the committed PyTorch reference outputs.
Needs onnxruntime (run with the venv: /work/venv/bin/python models/gen/verify_ort.py).
Nothing from ORT is written anywhere; this only prints max abs diffs.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

FIX = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))


def main():
    only = set(sys.argv[1:])
    man = json.load(open(os.path.join(FIX, 'manifest.json')))
    bad = 0
    total = 0
    for e in man['fixtures']:
        if only and e['name'] not in only:
            continue
        path = os.path.join(FIX, e['file'])
        total += os.path.getsize(path)
        m = onnx.load(path)
        onnx.checker.check_model(m, full_check=True)
        so = ort.SessionOptions()
        so.log_severity_level = 3
        sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
        tol = e.get('refTolerance', {'atol': 1e-3, 'rtol': 1e-3})
        worst = 0.0
        ok = True
        for r in e['refs']:
            feeds = {n: np.load(os.path.join(FIX, p)) for n, p in r['inputs'].items()}
            names = list(r['outputs'].keys())
            outs = sess.run(names, feeds)
            for n, got in zip(names, outs):
                ref = np.load(os.path.join(FIX, r['outputs'][n]))
                if got.shape != ref.shape:
                    ok = False
                    print('  shape mismatch', n, got.shape, ref.shape)
                    continue
                d = float(np.abs(got - ref).max())
                worst = max(worst, d)
                if not np.allclose(got, ref, atol=tol['atol'], rtol=tol['rtol']):
                    ok = False
        print('%-45s %-11s op%-3s refs=%d max|ort-torch|=%.3g %s' % (
            e['name'], e['exporter'], e['opset'], len(e['refs']), worst, 'OK' if ok else 'FAIL'))
        bad += 0 if ok else 1
    print('total onnx bytes: %.1f MB' % (total / 1e6))
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
