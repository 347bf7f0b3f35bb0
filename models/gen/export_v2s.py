"""Export a YOLO-World v2-S-config model to ONNX for bench/end-to-end.ts (NOT a fixture;
nothing it writes is committed: each .onnx is tens of MB).

Usage (torch 1.13 Debian python or the torch 2.x venv; TorchScript export either way):

    /usr/bin/python3 models/gen/export_v2s.py --out /tmp/v2s            # 6 models
    /usr/bin/python3 models/gen/export_v2s.py --width l                 # v2-L widths, /tmp/v2l
    /work/venv/bin/python models/gen/export_v2s.py --out /tmp/v2s --k 80 --form einsum
    V2S_MODELS=$(ls /tmp/v2s/*.onnx | paste -sd,) npm run bench -- bench/end-to-end.ts

Writes <out>/v2<s|l>-<einsum|matmul|rep>-k<K>-op12.onnx for K in --k (default 80,1203) and form
in --form (default einsum,matmul,rep; `rep` is upstream's reparameterized architecture, made from
the einsum model as tools/reparameterize_yoloworld.py does: head Conv(BN(x)) with the text baked
into the Conv (RepBNContrastiveHead), one bias-free Conv per neck head (RepConvMaxSigmoidAttnBlock)):
TorchScript `torch.onnx.export`, opset 12, static
1x3x640x640 input `images`, do_constant_folding=True, outputs as upstream
deploy/export_onnx.py --without-nms (`scores` (1,A,K) sigmoid, `boxes` (1,A,4) xyxy;
A = 8400) or, with --out-style raw, the head module outputs cls0..2 / box0..2.

Architecture: UpstreamYoloWorldV2 of yw_upstream.py (same bricks, same forward) at the real
v2-S widths (yolo_world_v2_s_*: mmyolo yolov8_s, deepen 0.33 / widen 0.5):
  backbone  stem 32, stages 64/128/256/512 with CSP blocks n = 1/2/2/1, SPPF 512
            -> P3 128ch /8, P4 256ch /16, P5 512ch /32
  neck      YOLOWorldPAFPN out 128/256/512, one bottleneck per block, MaxSigmoid blocks
            (embed, M) = td-P4 (128, 4), td-P3 (64, 2), bu-P4 (128, 4), bu-P5 (256, 8),
            i.e. c = 32 per head, embed == mid channels (no embed_conv), 3x3 project_conv
  head      YOLOWorldHeadModule: cls branch 128 -> 128 -> 128 -> Conv2d 512, reg branch
            64 -> 64 -> Conv2d 64 (reg_max 16) + DFL; BNContrastiveHead (use_bn_head)
  text      (1, K, 512) L2-normalized seeded constant (plain attribute; repeat(batch,1,1))
--width l: YOLO-World v2-L widths (yolov8_l: stem 64, stages 128/256/512/512 with n = 3/6/6/3,
SPPF 512; neck out 256/512/512, three bottlenecks per block, attention (embed, M) = td-P4 (256, 8),
td-P3 (128, 4), bu-P4 (256, 8), bu-P5 (256, 8); head cls 256 -> 256 -> 256 -> Conv2d 512).
The v2-S models are the same, byte for byte, whatever --width adds.
Weights are seeded random; BN running stats are calibrated on seeded random images (train-mode
passes, cumulative average) so activations keep a sane scale through the depth, then the BN
affine / contrastive bias / logit_scale are set as yw_upstream._init_weights does. Eval mode.
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from yw_upstream import (  # noqa: E402
    BNContrast, ConvBN, CSP2, D_TEXT, MaxSigmoidAttn, Neck, SPPF, UpstreamYoloWorldV2,
    _init_weights, _text, n_params,
)

TORCH_MAJOR = int(torch.__version__.split('.')[0])
EPS = 1e-3                      # mmyolo BN eps


class BackboneS(nn.Module):
    """YOLOv8CSPDarknet P5 arch at deepen 0.33 / widen 0.5."""

    def __init__(self):
        super().__init__()
        self.stem = ConvBN(3, 32, 3, 2, eps=EPS)
        self.stage1 = nn.Sequential(ConvBN(32, 64, 3, 2, eps=EPS), CSP2(64, 64, 1, True, None, 'split', EPS))
        self.stage2 = nn.Sequential(ConvBN(64, 128, 3, 2, eps=EPS), CSP2(128, 128, 2, True, None, 'split', EPS))
        self.stage3 = nn.Sequential(ConvBN(128, 256, 3, 2, eps=EPS), CSP2(256, 256, 2, True, None, 'split', EPS))
        self.stage4 = nn.Sequential(ConvBN(256, 512, 3, 2, eps=EPS), CSP2(512, 512, 1, True, None, 'split', EPS),
                                    SPPF(512, 512, EPS))
        self.out_channels = (128, 256, 512)

    def forward(self, x):
        x = self.stage1(self.stem(x))
        p3 = self.stage2(x)
        p4 = self.stage3(p3)
        return [p3, p4, self.stage4(p4)]


class NeckS(Neck):
    """YOLOWorldPAFPN at v2-S widths (neck_embed_channels [128, 256, 512] and neck_num_heads
    [4, 8, 16] scaled by widen 0.5 with make_round)."""

    ATTN = {'td4': (128, 4), 'td3': (64, 2), 'bu4': (128, 4), 'bu5': (256, 8)}

    def __init__(self, use_einsum):
        super().__init__((128, 256, 512), 'split', EPS, use_einsum, False)


class BackboneL(nn.Module):
    """YOLOv8CSPDarknet P5 arch at deepen 1.0 / widen 1.0, last stage 512 (yolov8_l)."""

    def __init__(self):
        super().__init__()
        self.stem = ConvBN(3, 64, 3, 2, eps=EPS)
        self.stage1 = nn.Sequential(ConvBN(64, 128, 3, 2, eps=EPS), CSP2(128, 128, 3, True, None, 'split', EPS))
        self.stage2 = nn.Sequential(ConvBN(128, 256, 3, 2, eps=EPS), CSP2(256, 256, 6, True, None, 'split', EPS))
        self.stage3 = nn.Sequential(ConvBN(256, 512, 3, 2, eps=EPS), CSP2(512, 512, 6, True, None, 'split', EPS))
        self.stage4 = nn.Sequential(ConvBN(512, 512, 3, 2, eps=EPS), CSP2(512, 512, 3, True, None, 'split', EPS),
                                    SPPF(512, 512, EPS))
        self.out_channels = (256, 512, 512)

    forward = BackboneS.forward


class NeckL(Neck):
    """YOLOWorldPAFPN at v2-L widths: out 256/512/512, three bottlenecks per block,
    neck_embed_channels [128, 256, 256] and neck_num_heads [4, 8, 8] (c = 32 per head)."""

    ATTN = {'td4': (256, 8), 'td3': (128, 4), 'bu4': (256, 8), 'bu5': (256, 8)}

    def __init__(self, use_einsum, n=3):
        nn.Module.__init__(self)
        p3, p4, p5 = 256, 512, 512
        kw = dict(split_mode='split', eps=EPS, use_einsum=use_einsum, use_view=False)
        self.up = nn.Upsample(scale_factor=2, mode='nearest')
        self.td4 = CSP2(p5 + p4, p4, n, False, self.ATTN['td4'], **kw)
        self.td3 = CSP2(p4 + p3, p3, n, False, self.ATTN['td3'], **kw)
        self.down3 = ConvBN(p3, p3, 3, 2, eps=EPS)
        self.bu4 = CSP2(p3 + p4, p4, n, False, self.ATTN['bu4'], **kw)
        self.down4 = ConvBN(p4, p4, 3, 2, eps=EPS)
        self.bu5 = CSP2(p4 + p5, p5, n, False, self.ATTN['bu5'], **kw)
        self.out_channels = (p3, p4, p5)


# Upstream's reparameterized architecture (tools/reparameterize_yoloworld.py with
# RepBNContrastiveHead and RepConvMaxSigmoidAttnBlock): the text is baked into 1x1 Convs.
class RepBNContrast(nn.Module):
    """RepBNContrastiveHead: conv(norm(x)), conv weight = normalize(text) * exp(logit_scale)."""

    def __init__(self, head, text):
        super().__init__()
        self.norm = head.norm
        k = text.shape[1]
        self.conv = nn.Conv2d(D_TEXT, k, 1)
        with torch.no_grad():
            w = F.normalize(text[0], dim=-1, p=2) * head.logit_scale.exp()
            self.conv.weight.copy_(w.view(k, D_TEXT, 1, 1))
            self.conv.bias.copy_(torch.ones(k) * head.bias)

    def forward(self, x, _txt=None):
        return self.conv(self.norm(x))


class RepMaxSigmoidAttn(nn.Module):
    """RepConvMaxSigmoidAttnBlock: one bias-free Conv (head_channels -> K) per head, weight =
    the guide Linear applied to the text, split per head."""

    def __init__(self, attn, text):
        super().__init__()
        assert attn.ec is None
        self.nh, self.hc = attn.nh, attn.hc
        k = text.shape[1]
        self.bias = attn.bias
        self.proj_conv = attn.proj_conv
        with torch.no_grad():
            guide = attn.gl(text[0]).view(k, self.nh, self.hc)
        self.guide_convs = nn.ModuleList(nn.Conv2d(self.hc, k, 1, bias=False) for _ in range(self.nh))
        with torch.no_grad():
            for m, conv in enumerate(self.guide_convs):
                conv.weight.copy_(guide[:, m, :].reshape(k, self.hc, 1, 1))

    def forward(self, x, _guide=None):
        b, _, h, w = x.shape
        embed = list(x.split([self.hc] * self.nh, 1))
        aw = torch.cat([conv(e) for conv, e in zip(self.guide_convs, embed)], dim=1)
        aw = aw.view(b, self.nh, -1, h, w)
        aw = aw.max(dim=2)[0] / (self.hc ** 0.5)
        aw = (aw + self.bias.view(1, -1, 1, 1)).sigmoid()[:, :, None]
        x = self.proj_conv(x).view(b, self.nh, -1, h, w)
        return (x * aw).view(b, -1, h, w)


def reparameterize(model):
    """Swap the einsum model's head contrasts and attention blocks for upstream's Rep modules
    (same weights, same text), as upstream does before export_onnx.py."""
    text = model.text_feats
    for i, head in enumerate(model.cls_contrasts):
        model.cls_contrasts[i] = RepBNContrast(head, text)
    for blk in (model.neck.td4, model.neck.td3, model.neck.bu4, model.neck.bu5):
        blk.attn = RepMaxSigmoidAttn(blk.attn, text)
    return model.eval()


class YoloWorldV2S(UpstreamYoloWorldV2):
    """UpstreamYoloWorldV2's forward / head_single / pred_by_feat at v2-S widths (cfg['width']
    'l': v2-L widths)."""

    def __init__(self, cfg, seed=0):
        nn.Module.__init__(self)
        torch.manual_seed(seed)
        self.K = cfg['k']
        self.out_style = cfg['out']
        ue = cfg['use_einsum']
        large = cfg.get('width', 's') == 'l'
        self.backbone = BackboneL() if large else BackboneS()
        self.neck = NeckL(ue) if large else NeckS(ue)
        # YOLOWorldHeadModule: reg_out = max(16, in0 // 4, 4 * reg_max) = 64,
        # cls_out = max(in0, num_training_classes 80) = 128 (S) / 256 (L)
        cm, rm = (256, 64) if large else (128, 64)
        self.cls_preds, self.reg_preds, self.cls_contrasts = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for c in self.neck.out_channels:
            self.reg_preds.append(nn.Sequential(ConvBN(c, rm, 3, eps=EPS), ConvBN(rm, rm, 3, eps=EPS),
                                                nn.Conv2d(rm, 4 * self.REG_MAX, 1)))
            self.cls_preds.append(nn.Sequential(ConvBN(c, cm, 3, eps=EPS), ConvBN(cm, cm, 3, eps=EPS),
                                                nn.Conv2d(cm, D_TEXT, 1)))
            self.cls_contrasts.append(BNContrast(ue, EPS))
        self.register_buffer('proj', torch.arange(self.REG_MAX, dtype=torch.float), persistent=False)
        _init_weights(self, seed)
        self.text_feats = _text(self.K, seed)
        self._calibrate_bn(seed)
        self.eval()

    @torch.no_grad()
    def _calibrate_bn(self, seed, batches=2, size=320):
        """Running mean/var from seeded random images (cumulative average), so eval-mode
        activations neither vanish nor blow up through ~60 random layers."""
        bns = [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        self.train()
        out = self.out_style
        self.out_style = 'raw'
        g = torch.Generator().manual_seed(seed + 11)
        for _ in range(batches):
            self(torch.rand(2, 3, size, size, generator=g))
        self.out_style = out
        for m in bns:
            m.momentum = 0.1
        self.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=None, help='default /tmp/v2s or /tmp/v2l')
    ap.add_argument('--width', default='s', choices=['s', 'l'])
    ap.add_argument('--k', default='80,1203')
    ap.add_argument('--form', default='einsum,matmul,rep')
    ap.add_argument('--out-style', default='deploy', choices=['deploy', 'raw'])
    ap.add_argument('--opset', type=int, default=12)
    ap.add_argument('--size', type=int, default=640)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    a.out = a.out or f'/tmp/v2{a.width}'
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for k in [int(x) for x in a.k.split(',')]:
        for form in a.form.split(','):
            assert form in ('einsum', 'matmul', 'rep'), form
            cfg = dict(k=k, use_einsum=form != 'matmul', out=a.out_style, width=a.width)
            model = YoloWorldV2S(cfg, a.seed)
            img = torch.rand(1, 3, a.size, a.size, generator=torch.Generator().manual_seed(1000))
            rep_note = ''
            if form == 'rep':
                with torch.no_grad():
                    before = model(img)
                model = reparameterize(model)
            with torch.no_grad():
                ref = model(img)
            if form == 'rep':
                d = max(float((x - y).abs().max() / y.abs().max()) for x, y in zip(ref, before))
                # float32 reassociation only: 2e-5 at v2-S, 1.6e-3 on the v2-L scores (a sigmoid of
                # larger random-weight logits); a wrong Rep weight moves scores by ~0.5
                assert d < 1e-2, f'rep model differs from the einsum model: {d}'
                rep_note = f'; rep vs einsum model (torch) max rel diff {d:.1e}'
            onames = ['scores', 'boxes'] if a.out_style == 'deploy' else \
                ['cls0', 'cls1', 'cls2', 'box0', 'box1', 'box2']
            path = os.path.join(a.out, f'v2{a.width}-{form}-k{k}-op{a.opset}.onnx')
            kw = dict(opset_version=a.opset, input_names=['images'], output_names=onames,
                      do_constant_folding=True)
            if TORCH_MAJOR >= 2:
                kw['dynamo'] = False
            torch.onnx.export(model, img, path, **kw)
            stats = ', '.join(f'{n} {tuple(r.shape)} |max| {r.abs().max().item():.3g} std {r.std().item():.3g}'
                              for n, r in zip(onames, ref))
            msg = f'{path}: {os.path.getsize(path) / 1e6:.1f} MB, {n_params(model) / 1e6:.2f} M params; {stats}{rep_note}'
            try:
                import numpy as np
                import onnxruntime as ort
                sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
                got = sess.run(onames, {'images': img.numpy()})
                msg += '; ORT vs torch max abs diff ' + ', '.join(
                    f'{n} {float(np.abs(g_ - r.numpy()).max()):.2e}' for n, g_, r in zip(onames, got, ref))
            except ImportError:
                pass
            print(msg, flush=True)


if __name__ == '__main__':
    main()
