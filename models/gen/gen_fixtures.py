#!/usr/bin/env python3
"""Generate ONNX fixtures + PyTorch references for onnx-reparam.

Run under BOTH interpreters (each generates only the fixtures its torch can):
  /usr/bin/python3 models/gen/gen_fixtures.py            # Debian torch 1.13 (TorchScript op12/op17)
  /work/venv/bin/python models/gen/gen_fixtures.py       # torch 2.x (TorchScript op18-20, dynamo)
Options: --only NAME[,NAME...]   --list   --group tiny|upstream|ultralytics (model family)
Outputs go to models/fixtures/ (manifest.json is read-modify-written by fixture name).
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from yw_tiny import TinyYoloWorld, HalfWrapper  # noqa: E402
from yw_upstream import UpstreamYoloWorldV2, UltralyticsWorldV2  # noqa: E402

FIX = os.path.normpath(os.path.join(HERE, '..', 'fixtures'))
TORCH_MAJOR = int(torch.__version__.split('.')[0])
warnings.filterwarnings('ignore')

D = 512
N_NECK = 4
N_HEAD = 3

BASE = dict(model='tiny', k=80, d=D, head='bn', head_einsum=True, neck_einsum=True, neck=True,
            text='buffer', out='raw', imgpool=None)


def fx(name, torch_major, exporter, opset, cfg=None, dynamic=False, sizes=((1, 160, 160),),
       expect=None, notes='', fp16=False):
    c = dict(BASE)
    c.update(cfg or {})
    if 'use_einsum' in c:
        c['head_einsum'] = c['neck_einsum'] = c['use_einsum']
    return dict(name=name, torch_major=torch_major, exporter=exporter, opset=opset, cfg=c,
                dynamic=dynamic, sizes=[tuple(s) for s in sizes], expect=expect, notes=notes,
                fp16=fp16)


DYN2 = ((2, 160, 160), (1, 128, 128))
DYN_S = ((2, 96, 96), (1, 64, 64))
STAT_S = ((1, 128, 128),)
UPV2 = dict(model='upstream', out='raw', text='repeat', head='bn')
ULTRA = dict(model='ultralytics', out='ultra', text='expand', head='bn')
EXPAND = dict(text='expand')
MM = dict(head_einsum=False, neck_einsum=False)
HEADONLY = dict(neck=False)
L2 = dict(head='l2')

FIXTURES = [
    # ---------------- torch 1.13, TorchScript ----------------
    fx('head-bn-einsum-op12-static', 1, 'torchscript', 12, HEADONLY,
       notes='Head-only model (no neck). v2 BN contrastive head, einsum, text buffer (1,K,D).'),
    fx('full-bn-einsum-op12-static', 1, 'torchscript', 12, {},
       notes='Neck (4 MaxSigmoidAttn blocks, einsum) + v2 BN head (einsum), text buffer.'),
    fx('full-bn-einsum-op17-static', 1, 'torchscript', 17, {},
       notes='Neck (einsum) + v2 BN head (einsum), text buffer.'),
    fx('full-bn-einsum-op17-dynamic', 1, 'torchscript', 17, EXPAND, dynamic=True, sizes=DYN2,
       notes='Text buffer expanded to image batch (txt.expand(B,-1,-1)); dynamic batch/height/width; '
             'refs at (2,3,160,160) and (1,3,128,128).'),
    fx('full-bn-matmul-op12-static', 1, 'torchscript', 12, MM,
       notes='Official YOLO-World export style: use_einsum=False (matmul branch) in head AND neck.'),
    fx('full-bn-matmul-op12-dynamic', 1, 'torchscript', 12, dict(MM, **EXPAND), dynamic=True,
       sizes=DYN2,
       notes='Matmul branch head+neck, text expanded to image batch, dynamic batch/height/width; '
             'refs at (2,3,160,160) and (1,3,128,128).'),
    fx('full-l2-einsum-op17-static', 1, 'torchscript', 17, L2,
       notes='v1 ContrastiveHead (F.normalize(x,dim=1) instead of BN), einsum; neck einsum.'),
    fx('full-bn-einsum-op17-textinput-static', 1, 'torchscript', 17, dict(text='input'),
       notes='Text is a graph input `texts` (1,K,D); bind it from textInput.npy to rewrite.'),
    fx('ultra-bn-einsum-op17-dynamic', 1, 'torchscript', 17, dict(EXPAND, out='ultra'),
       dynamic=True, sizes=DYN2,
       notes='Ultralytics style: txt.expand(images.shape[0],-1,-1), single output output0 '
             '(B,4+K,A)=cat(box, cls.sigmoid()); dynamic batch/height/width.'),
    fx('full-bn-einsum-k1203-op17-static', 1, 'torchscript', 17, dict(k=1203),
       notes='LVIS-size vocabulary K=1203, einsum.'),
    fx('full-bn-matmul-k1203-op12-static', 1, 'torchscript', 12, dict(MM, k=1203),
       notes='LVIS-size vocabulary K=1203, matmul branch head+neck.'),
    fx('v1-imgpool-l2-einsum-op17-static', 1, 'torchscript', 17, dict(L2, imgpool='all'),
       sizes=((1, 192, 192),),
       expect={'head': {'rewritable': 0, 'skipped': N_HEAD},
               'neck': {'rewritable': 0, 'skipped': N_NECK}},
       notes='NEGATIVE: v1 ImagePoolingAttentionModule updates the text from image features '
             '(adaptive max pool 3x3 per level -> MHA, text=text+attn*scale) BEFORE the neck, '
             'so every neck and head contraction uses image-dependent text. Input 192x192 so '
             'adaptive pooling to 3x3 is exportable (24/12/6).'),
    fx('v1-dualpafpn-l2-einsum-op17-static', 1, 'torchscript', 17, dict(L2, imgpool='dual'),
       sizes=((1, 192, 192),),
       expect={'head': {'rewritable': 0, 'skipped': N_HEAD},
               'neck': {'rewritable': 2, 'skipped': 2}},
       notes='MIXED (realistic v1 DualPAFPN): the 2 top-down neck blocks use the constant text '
             '(rewritable); then the image-pooling enhancer updates the text; the 2 bottom-up '
             'neck blocks and all 3 head sites use image-dependent text (must be skipped). '
             'Input 192x192.'),
    # ---------------- torch 2.x ----------------
    fx('full-bn-einsum-op18-static', 2, 'torchscript', 18, {},
       notes='torch 2.x TorchScript exporter (dynamo=False), opset 18.'),
    fx('full-bn-einsum-op20-static', 2, 'torchscript', 20, {},
       notes='torch 2.x TorchScript exporter (dynamo=False), opset 20.'),
    fx('full-bn-einsum-dynamo-static', 2, 'dynamo', None, {},
       notes='dynamo exporter, its default opset.'),
    fx('full-bn-einsum-dynamo-op18-static', 2, 'dynamo', 18, {},
       notes='dynamo exporter, opset_version=18.'),
    fx('head-bn-einsum-dynamo-static', 2, 'dynamo', None, HEADONLY,
       notes='Head-only model, dynamo exporter.'),
    fx('full-bn-matmul-dynamo-static', 2, 'dynamo', None, MM,
       notes='dynamo exporter, matmul branch head+neck.'),
    fx('full-l2-einsum-dynamo-static', 2, 'dynamo', None, L2,
       notes='dynamo exporter, v1 ContrastiveHead (F.normalize(x, dim=1)).'),
    fx('full-bn-einsum-dynamo-textinput-static', 2, 'dynamo', None, dict(text='input'),
       notes='dynamo exporter, text is graph input `texts` (1,K,D).'),
    fx('ultra-bn-einsum-dynamo-dynamic', 2, 'dynamo', None, dict(EXPAND, out='ultra'),
       dynamic=True, sizes=DYN2,
       notes='Ultralytics style via dynamo: txt.expand(B), output0 (B,4+K,A), dynamic b/h/w.'),
    fx('full-bn-einsum-op18-fp16-static', 2, 'torchscript', 18, {}, fp16=True,
       notes='fp16 model (model.half()) with float32 I/O (Cast at input/outputs); torch 2.x '
             'TorchScript op18. Refs computed in torch fp16 on CPU -> compare with atol ~1e-2.'),
    # ---------------- real-architecture fixtures (yw_upstream.py) ----------------
    # (A) AILab-CVC/YOLO-World v2 (mmyolo) exported like deploy/export_onnx.py: TorchScript,
    #     text_feats.repeat(batch, 1, 1) baked from a plain tensor attribute.
    fx('upstream-v2-einsum-op12-static', 1, 'torchscript', 12, dict(UPV2, use_einsum=True), sizes=STAT_S,
       notes='Upstream YOLO-World v2 architecture (yw_upstream.UpstreamYoloWorldV2): CSPDarknet '
             'backbone (C2f split/concat, SPPF maxpool), YOLOWorldPAFPN with 4 '
             'MaxSigmoidCSPLayerWithTwoConv (with_scale=False, no embed_conv), YOLOWorldHeadModule '
             '+ BNContrastiveHead, DFL softmax.matmul(proj); text = text_feats.repeat(B,1,1). '
             'Outputs: head-module eval outputs per level cls0..2 (B,K,H,W), box0..2 (B,4,H,W).'),
    fx('upstream-v2-matmul-op12-static', 1, 'torchscript', 12, dict(UPV2, use_einsum=False), sizes=STAT_S,
       notes='As upstream-v2-einsum-op12-static with use_einsum=False (matmul branch in '
             'MaxSigmoidAttnBlock and BNContrastiveHead).'),
    fx('upstream-v2-matmul-op11-static', 1, 'torchscript', 11,
       dict(UPV2, use_einsum=False, out='deploy'), sizes=STAT_S,
       notes='deploy/export_onnx.py defaults: opset 11 (so use_einsum=False is required), '
             'DeployModel --without-nms outputs scores (B,A,K) sigmoid and boxes (B,A,4) xyxy '
             '(MlvlPointGenerator priors, distance2bbox * stride), static 128x128.'),
    fx('upstream-v2-einsum-op12-dynamic', 1, 'torchscript', 12,
       dict(UPV2, use_einsum=True, out='deploy'), dynamic=True, sizes=DYN_S,
       notes='Upstream v2, einsum, DeployModel --without-nms outputs (scores, boxes) with the '
             'priors computed from the feature shapes; dynamic batch/height/width; '
             'refs at (2,3,96,96) and (1,3,64,64).'),
    fx('upstream-v2-matmul-op12-dynamic', 1, 'torchscript', 12,
       dict(UPV2, use_einsum=False, out='deploy'), dynamic=True, sizes=DYN_S,
       notes='Upstream v2, use_einsum=False, DeployModel --without-nms outputs; dynamic b/h/w; '
             'refs at (2,3,96,96) and (1,3,64,64).'),
    # (B) ultralytics yolov8-worldv2: C2fAttn neck, WorldDetect with the full decode.
    fx('ultralytics-world-op17-dynamic', 1, 'torchscript', 17, ULTRA, dynamic=True, sizes=DYN_S,
       notes='Ultralytics YOLOWorld v2 architecture (yw_upstream.UltralyticsWorldV2): C2f (chunk) '
             'backbone + SPPF, 4 C2fAttn neck blocks (.view, scale=1.0), WorldDetect with '
             'BNContrastiveHead and inference decode in-graph (DFL softmax + fixed 1x1 conv, '
             'make_anchors from feature shapes, dist2bbox xywh * strides, cls.sigmoid()) -> '
             'output0 (B,4+K,A); txt_feats.expand(B,-1,-1) and .clone() for the head; dynamic '
             'b/h/w; refs at (2,3,96,96) and (1,3,64,64).'),
    fx('ultralytics-world-dynamo-dynamic', 2, 'dynamo', None, ULTRA, dynamic=True, sizes=DYN_S,
       notes='As ultralytics-world-op17-dynamic, exported with the torch 2.x dynamo exporter '
             '(default opset), dynamic b/h/w.'),
]


def expect_default(cfg):
    return {'head': {'rewritable': N_HEAD, 'skipped': 0},
            'neck': ({'rewritable': N_NECK, 'skipped': 0} if cfg['neck'] else
                     {'rewritable': 0, 'skipped': 0})}


def make_inputs(f, ri, size):
    B, H, W = size
    rng = np.random.default_rng(1000 + ri)
    imgs = rng.random((B, 3, H, W), dtype=np.float64).astype(np.float32)
    ins = {'images': imgs}
    if f['cfg']['text'] in ('input', 'input_expand'):
        ins['texts'] = text_array(f)
    return ins


def text_array(f):
    rng = np.random.default_rng(42)
    return (rng.standard_normal((1, f['cfg']['k'], D)) * 0.2).astype(np.float32)


def out_names(cfg):
    if cfg['out'] == 'raw':
        return ['cls0', 'cls1', 'cls2', 'box0', 'box1', 'box2']
    if cfg['out'] == 'deploy':
        return ['scores', 'boxes']
    return ['output0']


def out_dynamic_axes(cfg, name):
    if cfg['out'] == 'raw':
        return {0: 'batch', 2: 'height', 3: 'width'}
    if cfg['out'] == 'deploy':
        return {0: 'batch', 1: 'anchors'}
    return {0: 'batch', 2: 'anchors'}


def build_model(cfg, seed=0):
    if cfg['model'] == 'upstream':
        return UpstreamYoloWorldV2(cfg, seed)
    if cfg['model'] == 'ultralytics':
        return UltralyticsWorldV2(cfg, seed)
    return TinyYoloWorld(cfg, seed)


def export(f, model, example, in_names, onames, path):
    dynamic = f['dynamic']
    if f['exporter'] == 'torchscript':
        kw = dict(opset_version=f['opset'], input_names=in_names, output_names=onames,
                  do_constant_folding=True)
        if TORCH_MAJOR >= 2:
            kw['dynamo'] = False
        if dynamic:
            da = {'images': {0: 'batch', 2: 'height', 3: 'width'}}
            for o in onames:
                da[o] = out_dynamic_axes(f['cfg'], o)
            kw['dynamic_axes'] = da
        torch.onnx.export(model, example, path, **kw)
    else:
        kw = dict(input_names=in_names, output_names=onames, dynamo=True, external_data=False)
        if f['opset'] is not None:
            kw['opset_version'] = f['opset']
        if dynamic:
            from torch.export import Dim
            img = {0: Dim('batch', min=1, max=64), 2: 32 * Dim('h32', min=2, max=64),
                   3: 32 * Dim('w32', min=2, max=64)}
            # positional (tuple) form: forward() argument names differ between the models
            kw['dynamic_shapes'] = (img, None) if 'texts' in in_names else (img,)
        prog = torch.onnx.export(model, example, **kw)
        prog.save(path)


def try_ort(path, ref_sets, tol):
    try:
        import onnxruntime as ort
    except Exception:
        return None
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    worst = 0.0
    for ins, outs in ref_sets:
        res = sess.run(list(outs.keys()), ins)
        for (n, ref), got in zip(outs.items(), res):
            assert got.shape == ref.shape, (n, got.shape, ref.shape)
            worst = max(worst, float(np.abs(got.astype(np.float32) - ref).max()))
    return worst


def gen(f, manifest):
    name = f['name']
    cfg = f['cfg']
    print('==>', name, flush=True)
    model = build_model(cfg, seed=0)
    if f['fp16']:
        model = HalfWrapper(model)
    model.eval()
    onames = out_names(cfg)
    in_names = ['images'] + (['texts'] if cfg['text'] in ('input', 'input_expand') else [])
    refdir = os.path.join(FIX, 'refs', name)
    os.makedirs(refdir, exist_ok=True)
    for old in os.listdir(refdir):
        os.remove(os.path.join(refdir, old))
    ref_sets, refs_manifest = [], []
    for ri, size in enumerate(f['sizes']):
        ins = make_inputs(f, ri, size)
        with torch.no_grad():
            outs = model(*[torch.from_numpy(ins[n]) for n in in_names])
        if not isinstance(outs, tuple):
            outs = (outs,)
        outs = {n: np.ascontiguousarray(o.detach().float().numpy().astype(np.float32))
                for n, o in zip(onames, outs)}
        entry = {'inputs': {}, 'outputs': {}, 'shape': list(size)}
        for n, a in ins.items():
            p = 'refs/%s/r%d.%s.npy' % (name, ri, n)
            np.save(os.path.join(FIX, p), a)
            entry['inputs'][n] = p
        for n, a in outs.items():
            p = 'refs/%s/r%d.%s.npy' % (name, ri, n)
            np.save(os.path.join(FIX, p), a)
            entry['outputs'][n] = p
        refs_manifest.append(entry)
        ref_sets.append((ins, outs))
        rng = {n: (float(a.min()), float(a.max())) for n, a in outs.items()}
        print('   r%d %s out ranges %s' % (ri, size, {k: '%.2f..%.2f' % v for k, v in rng.items()}))
    # export with the first reference inputs as example
    path = os.path.join(FIX, name + '.onnx')
    example = tuple(torch.from_numpy(ref_sets[0][0][n]) for n in in_names)
    with torch.no_grad():
        export(f, model, example, in_names, onames, path)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    opset = [o.version for o in m.opset_import if o.domain in ('', 'ai.onnx')][0]
    text_input = None
    if 'texts' in in_names:
        np.save(os.path.join(FIX, name + '.texts.npy'), text_array(f))
        text_input = {'name': 'texts', 'npy': name + '.texts.npy'}
    worst = try_ort(path, ref_sets, None)
    print('   size %.2f MB, opset %d, ORT max abs diff: %s' % (
        os.path.getsize(path) / 1e6, opset, worst), flush=True)
    exp = f['expect'] or expect_default(cfg)
    entry = {
        'name': name,
        'file': name + '.onnx',
        'exporter': f['exporter'],
        'torch': torch.__version__,
        'opset': opset,
        'dynamic': f['dynamic'],
        'textInput': text_input,
        'k': cfg['k'],
        'd': cfg['d'],
        'headForm': 'einsum' if cfg['head_einsum'] else 'matmul',
        'neckForm': (('einsum' if cfg['neck_einsum'] else 'matmul') if cfg['neck'] else None),
        'headL2': cfg['head'] == 'l2',
        'architecture': cfg['model'],
        'textMode': cfg['text'],
        'outputStyle': cfg['out'],
        'fp16': f['fp16'],
        'expect': exp,
        'refs': refs_manifest,
        'notes': f['notes'],
    }
    if text_input is not None:
        entry['expectWithoutTextBinding'] = {
            'head': {'rewritable': 0, 'skipped': exp['head']['rewritable'] + exp['head']['skipped']},
            'neck': {'rewritable': 0, 'skipped': exp['neck']['rewritable'] + exp['neck']['skipped']}}
    if f['fp16']:
        entry['refTolerance'] = {'atol': 5e-2, 'rtol': 1e-2}
    manifest[name] = entry


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', default='')
    ap.add_argument('--list', action='store_true')
    ap.add_argument('--group', default='', help='tiny | upstream | ultralytics')
    a = ap.parse_args()
    mine = [f for f in FIXTURES if f['torch_major'] == (1 if TORCH_MAJOR < 2 else 2)]
    if a.group:
        mine = [f for f in mine if f['cfg']['model'] == a.group]
    if a.only:
        want = set(a.only.split(','))
        mine = [f for f in mine if f['name'] in want]
    if a.list:
        for f in mine:
            print(f['name'])
        return
    os.makedirs(FIX, exist_ok=True)
    mpath = os.path.join(FIX, 'manifest.json')
    existing = {}
    if os.path.exists(mpath):
        with open(mpath) as fh:
            for e in json.load(fh)['fixtures']:
                existing[e['name']] = e
    order = [f['name'] for f in FIXTURES]
    failed = []
    for f in mine:
        try:
            gen(f, existing)
        except Exception as e:  # keep going; report at the end
            import traceback
            traceback.print_exc()
            failed.append((f['name'], repr(e)[:300]))
        # write after each fixture so partial runs are kept
        ents = sorted(existing.values(),
                      key=lambda e: (order.index(e['name']) if e['name'] in order else 999,
                                     e['name']))
        with open(mpath, 'w') as fh:
            json.dump({'fixtures': ents}, fh, indent=2)
            fh.write('\n')
    if failed:
        print('FAILED:', failed)
        sys.exit(1)


if __name__ == '__main__':
    main()
