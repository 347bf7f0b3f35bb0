"""Small re-implementations of the two real YOLO-World code bases, used ONLY to generate
ONNX test fixtures (runs under torch 1.13 and torch 2.x).

Unlike yw_tiny.py (which only reproduces the two attention sites), these follow the real
projects' architecture around the sites, at tiny width / depth (K = 80, D = 512 kept):

UpstreamYoloWorldV2  (AILab-CVC/YOLO-World, mmyolo based; v2 configs)
  backbone  YOLOv8CSPDarknet: ConvModule(Conv no-bias + BN(eps 1e-3) + SiLU) stem / strided
            convs, CSPLayerWithTwoConv (main_conv -> split((mid, mid), 1) -> DarknetBottlenecks
            with identity -> concat -> final_conv), SPPFBottleneck (3x MaxPool 5/1/2).
  neck      YOLOWorldPAFPN (reduce = identity): top-down nearest Upsample x2 + Concat
            (upsample first) -> MaxSigmoidCSPLayerWithTwoConv; bottom-up ConvModule 3x3/2 +
            Concat -> MaxSigmoidCSPLayerWithTwoConv; add_identity=False in the neck;
            MaxSigmoidAttnBlock with with_scale=False (scale = 1.0), head_channels =
            out_channels // num_heads, no embed_conv (embed_channels == mid_channels), 3x3
            project_conv; use_einsum True/False.
  head      YOLOWorldHeadModule: per level reg_preds (ConvModule, ConvModule, Conv2d ->
            4*reg_max) and cls_preds (ConvModule, ConvModule, Conv2d -> D = cls_embed) +
            BNContrastiveHead (BN eps 1e-3, scalar bias, logit_scale); DFL in eval:
            reshape([-1,4,reg_max,h*w]).permute(0,3,1,2).softmax(3).matmul(proj.view(-1,1)).
  text      reparameterize(): text_feats (1,K,D), L2-normalized CLIP embeddings kept as a plain
            tensor attribute; extract_feat: txt_feats.repeat(batch_size, 1, 1).
  outputs   'raw'    -> head module eval outputs per level: cls0..2 (B,K,H,W),
                        box0..2 (B,4,H,W) (DFL-decoded distances, before stride);
            'deploy' -> deploy/easydeploy DeployModel.pred_by_feat with --without-nms:
                        scores (B,A,K) = sigmoid, boxes (B,A,4) = distance2bbox(MlvlPointGenerator
                        priors (offset 0.5, pixel units), dist * stride) [xyxy].

UltralyticsWorldV2  (ultralytics/ultralytics, yolov8-worldv2.yaml)
  backbone  Conv (no-bias + BN + SiLU), C2f (cv1 -> chunk(2,1) -> Bottleneck(shortcut) ->
            concat -> cv2), SPPF (cv1, 3x MaxPool 5/1/2, concat, cv2).
  neck      nn.Upsample + Concat + C2fAttn (C2f with MaxSigmoidAttnBlock appended; .view,
            scale=False -> 1.0, ec == c so no ec conv, 3x3 proj_conv) top-down, Conv 3x3/2 +
            Concat + C2fAttn bottom-up.
  head      WorldDetect(with_bn=True): cv2 box branch -> 4*reg_max, cv3 cls branch -> D,
            cv4 BNContrastiveHead; inference: cat([box, cls],1) per level, view(B, no, -1),
            cat(2), split((4*reg_max, K),1), DFL (view/transpose/softmax + fixed 1x1 conv with
            arange weights), make_anchors(feats, stride, 0.5) from the feature shapes,
            dist2bbox(xywh) * strides, cat([dbox, cls.sigmoid()],1) -> output0 (B,4+K,A).
  text      WorldModel.predict with export: txt_feats (plain attribute, L2-normalized)
            .expand(x.shape[0], -1, -1); ori_txt_feats = txt_feats.clone() goes to the head.

Widths are shrunk far below the real 's' scale (and the head's intermediate cls/reg widths
do not follow max(ch0, nc) / max(16, ch0//4, 4*reg_max)) to keep each .onnx <= ~2 MB.
Weights are seeded random with non-trivial BN statistics; always eval mode.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from yw_tiny import _init_bn

D_TEXT = 512


# ----------------------------------------------------------------------------- bricks
class ConvBN(nn.Module):
    """mmcv ConvModule / ultralytics Conv: Conv2d(no bias) -> BN -> SiLU (or no act)."""

    def __init__(self, c1, c2, k=1, s=1, act=True, eps=1e-3):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=eps)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    """DarknetBottleneck (expansion 1, 3x3 + 3x3) / ultralytics Bottleneck(e=1.0)."""

    def __init__(self, c, shortcut, eps):
        super().__init__()
        self.cv1 = ConvBN(c, c, 3, eps=eps)
        self.cv2 = ConvBN(c, c, 3, eps=eps)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class MaxSigmoidAttn(nn.Module):
    """MaxSigmoidAttnBlock as in both projects (no embed conv when embed == in channels,
    with_scale/scale False -> python float 1.0)."""

    def __init__(self, c_in, c_out, embed, heads, use_einsum=True, use_view=False, eps=1e-3):
        super().__init__()
        self.nh = heads
        self.hc = c_out // heads
        self.use_einsum = use_einsum
        self.use_view = use_view
        self.ec = ConvBN(c_in, embed, 1, act=False, eps=eps) if embed != c_in else None
        self.gl = nn.Linear(D_TEXT, embed)
        self.bias = nn.Parameter(torch.zeros(heads))
        self.scale = 1.0
        self.proj_conv = ConvBN(c_in, c_out, 3, act=False, eps=eps)

    def forward(self, x, guide):
        bs, _, h, w = x.shape
        rs = (lambda t, *s: t.view(*s)) if self.use_view else (lambda t, *s: t.reshape(*s))
        guide = rs(self.gl(guide), bs, -1, self.nh, self.hc)
        embed = self.ec(x) if self.ec is not None else x
        embed = rs(embed, bs, self.nh, self.hc, h, w)
        if self.use_einsum:
            aw = torch.einsum('bmchw,bnmc->bmhwn', embed, guide)
        else:  # upstream use_einsum=False branch
            b, m, c, hh, ww = embed.shape
            n = guide.shape[1]
            e = embed.permute(0, 1, 3, 4, 2).reshape(b, m, -1, c)
            aw = torch.matmul(e, guide.permute(0, 2, 3, 1)).reshape(b, m, hh, ww, n)
        aw = aw.max(dim=-1)[0]
        aw = aw / (self.hc ** 0.5)
        aw = aw + self.bias[None, :, None, None]
        aw = aw.sigmoid() * self.scale
        x = rs(self.proj_conv(x), bs, self.nh, -1, h, w)
        x = x * aw.unsqueeze(2)
        return rs(x, bs, -1, h, w)


class CSP2(nn.Module):
    """CSPLayerWithTwoConv / C2f, optionally with the MaxSigmoid attention block appended
    (MaxSigmoidCSPLayerWithTwoConv / C2fAttn). split_mode 'split' (mmyolo) or 'chunk'."""

    def __init__(self, c1, c2, n=1, shortcut=False, attn=None, split_mode='split', eps=1e-3,
                 use_einsum=True, use_view=False):
        super().__init__()
        self.c = c2 // 2
        self.split_mode = split_mode
        self.cv1 = ConvBN(c1, 2 * self.c, 1, eps=eps)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut, eps) for _ in range(n))
        self.attn = None
        if attn is not None:
            embed, heads = attn
            self.attn = MaxSigmoidAttn(self.c, self.c, embed, heads, use_einsum, use_view, eps)
        self.cv2 = ConvBN((2 + n + (1 if attn else 0)) * self.c, c2, 1, eps=eps)

    def forward(self, x, guide=None):
        y = self.cv1(x)
        y = list(y.split((self.c, self.c), 1) if self.split_mode == 'split' else y.chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        if self.attn is not None:
            y.append(self.attn(y[-1], guide))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, eps):
        super().__init__()
        c_ = c1 // 2
        self.cv1 = ConvBN(c1, c_, 1, eps=eps)
        self.cv2 = ConvBN(c_ * 4, c2, 1, eps=eps)
        self.m = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))


class Backbone(nn.Module):
    """YOLOv8 CSPDarknet at tiny width: P3 32ch /8, P4 40ch /16, P5 40ch /32."""

    def __init__(self, split_mode, eps, w=(16, 24, 32, 40, 40)):
        super().__init__()
        c1, c2, c3, c4, c5 = w
        self.stem = ConvBN(3, c1, 3, 2, eps=eps)
        self.stage1 = nn.Sequential(ConvBN(c1, c2, 3, 2, eps=eps),
                                    CSP2(c2, c2, 1, True, None, split_mode, eps))
        self.stage2 = nn.Sequential(ConvBN(c2, c3, 3, 2, eps=eps),
                                    CSP2(c3, c3, 1, True, None, split_mode, eps))
        self.stage3 = nn.Sequential(ConvBN(c3, c4, 3, 2, eps=eps),
                                    CSP2(c4, c4, 1, True, None, split_mode, eps))
        self.stage4 = nn.Sequential(ConvBN(c4, c5, 3, 2, eps=eps),
                                    CSP2(c5, c5, 1, True, None, split_mode, eps),
                                    SPPF(c5, c5, eps))
        self.out_channels = (c3, c4, c5)

    def forward(self, x):
        x = self.stage1(self.stem(x))
        p3 = self.stage2(x)
        p4 = self.stage3(p3)
        p5 = self.stage4(p4)
        return [p3, p4, p5]


class Neck(nn.Module):
    """YOLOWorldPAFPN / yolov8-worldv2 head-neck: 2 top-down + 2 bottom-up attn CSP blocks.
    (embed, heads) per block: td P4, td P3, bu P4, bu P5."""

    ATTN = {'td4': (20, 2), 'td3': (16, 1), 'bu4': (20, 2), 'bu5': (20, 1)}

    def __init__(self, ch, split_mode, eps, use_einsum, use_view):
        super().__init__()
        p3, p4, p5 = ch
        kw = dict(split_mode=split_mode, eps=eps, use_einsum=use_einsum, use_view=use_view)
        self.up = nn.Upsample(scale_factor=2, mode='nearest')
        self.td4 = CSP2(p5 + p4, p4, 1, False, self.ATTN['td4'], **kw)
        self.td3 = CSP2(p4 + p3, p3, 1, False, self.ATTN['td3'], **kw)
        self.down3 = ConvBN(p3, p3, 3, 2, eps=eps)
        self.bu4 = CSP2(p3 + p4, p4, 1, False, self.ATTN['bu4'], **kw)
        self.down4 = ConvBN(p4, p4, 3, 2, eps=eps)
        self.bu5 = CSP2(p4 + p5, p5, 1, False, self.ATTN['bu5'], **kw)
        self.out_channels = (p3, p4, p5)

    def forward(self, feats, txt):
        p3, p4, p5 = feats
        n4 = self.td4(torch.cat([self.up(p5), p4], 1), txt)
        o3 = self.td3(torch.cat([self.up(n4), p3], 1), txt)
        o4 = self.bu4(torch.cat([self.down3(o3), n4], 1), txt)
        o5 = self.bu5(torch.cat([self.down4(o4), p5], 1), txt)
        return [o3, o4, o5]


class BNContrast(nn.Module):
    def __init__(self, use_einsum=True, eps=1e-3):
        super().__init__()
        self.norm = nn.BatchNorm2d(D_TEXT, eps=eps)
        self.bias = nn.Parameter(torch.zeros([]))
        self.logit_scale = nn.Parameter(-1.0 * torch.ones([]))
        self.use_einsum = use_einsum

    def forward(self, x, w):
        x = self.norm(x)
        w = F.normalize(w, dim=-1, p=2)
        if self.use_einsum:
            x = torch.einsum('bchw,bkc->bkhw', x, w)
        else:
            b, c, h, ww = x.shape
            k = w.shape[1]
            x = torch.matmul(x.permute(0, 2, 3, 1).reshape(b, -1, c), w.permute(0, 2, 1))
            x = x.reshape(b, h, ww, k).permute(0, 3, 1, 2)
        return x * self.logit_scale.exp() + self.bias


def _init_weights(model, seed):
    g = torch.Generator().manual_seed(seed + 1)
    for m in model.modules():
        with torch.no_grad():
            if isinstance(m, nn.Conv2d) and m.weight.requires_grad:
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                _init_bn(m, g)
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) / math.sqrt(m.in_features)
                               * 4.0)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, MaxSigmoidAttn):
                m.bias.copy_(torch.randn(m.nh, generator=g) * 0.5)
            elif isinstance(m, BNContrast):
                # trained-like: logit scale > 0, bias around -2 (upstream init is
                # log(5/K/(640/s)^2) ~ -10; -2 keeps the sigmoid outputs informative)
                m.bias.copy_(torch.tensor(-2.0) + torch.randn([], generator=g) * 0.1)
                m.logit_scale.copy_(torch.tensor(0.7) + torch.randn([], generator=g) * 0.1)


def _text(k, seed):
    g = torch.Generator().manual_seed(seed + 7)
    t = torch.randn(1, k, D_TEXT, generator=g)
    return t / t.norm(p=2, dim=-1, keepdim=True)   # CLIP text embeds are L2-normalized


# ----------------------------------------------------------------------------- (A) upstream
class UpstreamYoloWorldV2(nn.Module):
    """cfg: k, use_einsum, out ('raw' | 'deploy')."""

    REG_MAX = 16
    STRIDES = (8, 16, 32)

    def __init__(self, cfg, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.K = cfg['k']
        self.out_style = cfg['out']
        ue = cfg['use_einsum']
        eps = 1e-3
        self.backbone = Backbone('split', eps)
        self.neck = Neck(self.backbone.out_channels, 'split', eps, ue, use_view=False)
        cm, rm = 16, 16
        self.cls_preds = nn.ModuleList()
        self.reg_preds = nn.ModuleList()
        self.cls_contrasts = nn.ModuleList()
        for c in self.neck.out_channels:
            self.reg_preds.append(nn.Sequential(ConvBN(c, rm, 3, eps=eps), ConvBN(rm, rm, 3, eps=eps),
                                                nn.Conv2d(rm, 4 * self.REG_MAX, 1)))
            self.cls_preds.append(nn.Sequential(ConvBN(c, cm, 3, eps=eps), ConvBN(cm, cm, 3, eps=eps),
                                                nn.Conv2d(cm, D_TEXT, 1)))
            self.cls_contrasts.append(BNContrast(ue, eps))
        self.register_buffer('proj', torch.arange(self.REG_MAX, dtype=torch.float),
                             persistent=False)
        _init_weights(self, seed)
        self.text_feats = _text(self.K, seed)       # plain attribute, as in reparameterize()
        self.eval()

    def head_single(self, x, txt, i):
        b, _, h, w = x.shape
        cls_logit = self.cls_contrasts[i](self.cls_preds[i](x), txt)
        d = self.reg_preds[i](x)
        d = d.reshape([-1, 4, self.REG_MAX, h * w]).permute(0, 3, 1, 2)
        box = d.softmax(3).matmul(self.proj.view([-1, 1])).squeeze(-1)
        box = box.transpose(1, 2).reshape(b, -1, h, w)
        return cls_logit, box

    def forward(self, images):
        batch_size = images.shape[0]
        txt = self.text_feats.repeat(batch_size, 1, 1)
        feats = self.neck(self.backbone(images), txt)
        cls, box = [], []
        for i, f in enumerate(feats):
            c, bx = self.head_single(f, txt, i)
            cls.append(c)
            box.append(bx)
        if self.out_style == 'raw':
            return tuple(cls) + tuple(box)
        return self.pred_by_feat(cls, box)

    def pred_by_feat(self, cls_scores, bbox_preds):
        """DeployModel.pred_by_feat with with_nms=False (export_onnx.py --without-nms)."""
        dtype, device = cls_scores[0].dtype, cls_scores[0].device
        num_imgs = cls_scores[0].shape[0]
        featmap_sizes = [c.shape[2:] for c in cls_scores]
        priors, strides = [], []
        for (fh, fw), s in zip(featmap_sizes, self.STRIDES):   # MlvlPointGenerator, offset 0.5
            sx = (torch.arange(0, fw, device=device) + 0.5) * s
            sy = (torch.arange(0, fh, device=device) + 0.5) * s
            # mmdet _meshgrid uses len(y) / len(x), which the tracer bakes in as constants
            # (upstream exports are static); shape[0] keeps the grid traceable for dynamic axes
            xx = sx.repeat(sy.shape[0])
            yy = sy.view(-1, 1).repeat(1, sx.shape[0]).view(-1)
            priors.append(torch.stack([xx, yy], dim=-1).to(dtype))
        flatten_priors = torch.cat(priors)
        for (fh, fw), s in zip(featmap_sizes, self.STRIDES):
            strides.append(flatten_priors.new_full((fh * fw,), s))
        flatten_stride = torch.cat(strides)
        text_len = cls_scores[0].shape[1]
        scores = torch.cat([c.permute(0, 2, 3, 1).reshape(num_imgs, -1, text_len)
                            for c in cls_scores], dim=1).sigmoid()
        bboxes = torch.cat([b.permute(0, 2, 3, 1).reshape(num_imgs, -1, 4) for b in bbox_preds],
                           dim=1)
        # DistancePointBBoxCoder.decode -> distance2bbox (no max_shape)
        bboxes = bboxes * flatten_stride[None, :, None]
        points = flatten_priors[None]
        x1 = points[..., 0] - bboxes[..., 0]
        y1 = points[..., 1] - bboxes[..., 1]
        x2 = points[..., 0] + bboxes[..., 2]
        y2 = points[..., 1] + bboxes[..., 3]
        bboxes = torch.stack([x1, y1, x2, y2], -1)
        return scores, bboxes


# ----------------------------------------------------------------------------- (B) ultralytics
class DFL(nn.Module):
    def __init__(self, c1=16):
        super().__init__()
        self.conv = nn.Conv2d(c1, 1, 1, bias=False).requires_grad_(False)
        self.conv.weight.data[:] = torch.arange(c1, dtype=torch.float).view(1, c1, 1, 1)
        self.c1 = c1

    def forward(self, x):
        b, _, a = x.shape
        return self.conv(x.view(b, 4, self.c1, a).transpose(2, 1).softmax(1)).view(b, 4, a)


def make_anchors(feats, strides, offset=0.5):
    pts, st = [], []
    dtype, device = feats[0].dtype, feats[0].device
    for i, s in enumerate(strides):
        h, w = feats[i].shape[2:]
        sx = torch.arange(end=w, device=device, dtype=dtype) + offset
        sy = torch.arange(end=h, device=device, dtype=dtype) + offset
        sy, sx = torch.meshgrid(sy, sx, indexing='ij')
        pts.append(torch.stack((sx, sy), -1).view(-1, 2))
        st.append(torch.full((h * w, 1), s, dtype=dtype, device=device))
    return torch.cat(pts), torch.cat(st)


def dist2bbox(distance, anchor_points, xywh=True, dim=-1):
    lt, rb = distance.chunk(2, dim)
    x1y1 = anchor_points - lt
    x2y2 = anchor_points + rb
    if xywh:
        return torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), dim)
    return torch.cat((x1y1, x2y2), dim)


class UltralyticsWorldV2(nn.Module):
    """cfg: k. Export mode (Detect.export=True, dynamic=True): returns output0 only."""

    REG_MAX = 16

    def __init__(self, cfg, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.nc = cfg['k']
        eps = 1e-5
        self.backbone = Backbone('chunk', eps)
        self.neck = Neck(self.backbone.out_channels, 'chunk', eps, True, use_view=True)
        self.register_buffer('stride', torch.tensor([8.0, 16.0, 32.0]))
        c2, c3 = 16, 16
        ch = self.neck.out_channels
        self.no = self.nc + 4 * self.REG_MAX
        self.cv2 = nn.ModuleList(nn.Sequential(ConvBN(x, c2, 3, eps=eps), ConvBN(c2, c2, 3, eps=eps),
                                               nn.Conv2d(c2, 4 * self.REG_MAX, 1)) for x in ch)
        self.cv3 = nn.ModuleList(nn.Sequential(ConvBN(x, c3, 3, eps=eps), ConvBN(c3, c3, 3, eps=eps),
                                               nn.Conv2d(c3, D_TEXT, 1)) for x in ch)
        self.cv4 = nn.ModuleList(BNContrast(True, eps) for _ in ch)
        self.dfl = DFL(self.REG_MAX)
        _init_weights(self, seed)
        self.txt_feats = _text(self.nc, seed)       # WorldModel.txt_feats (plain attribute)
        self.eval()

    def forward(self, x):
        txt = self.txt_feats.to(device=x.device, dtype=x.dtype)
        txt = txt.expand(x.shape[0], -1, -1)        # export: always expanded
        ori_txt = txt.clone()
        feats = self.neck(self.backbone(x), txt)
        return self.world_detect(feats, ori_txt)

    def world_detect(self, x, text):
        x = list(x)
        for i in range(3):
            x[i] = torch.cat((self.cv2[i](x[i]), self.cv4[i](self.cv3[i](x[i]), text)), 1)
        shape = x[0].shape
        x_cat = torch.cat([xi.view(shape[0], self.no, -1) for xi in x], 2)
        anchors, strides = (a.transpose(0, 1) for a in make_anchors(x, self.stride, 0.5))
        box, cls = x_cat.split((self.REG_MAX * 4, self.nc), 1)
        dbox = dist2bbox(self.dfl(box), anchors.unsqueeze(0), xywh=True, dim=1) * strides
        return torch.cat((dbox, cls.sigmoid()), 1)


def n_params(m):
    return sum(p.numel() for p in m.parameters()) + sum(b.numel() for b in m.buffers())
