"""Tiny YOLO-World-like model used ONLY to generate ONNX test fixtures.

Runs under torch 1.13 (Debian python3-torch) and torch 2.x (venv).
Weights are random but seeded; BN layers get non-trivial running stats and affine
params; the model is always used in eval mode.

Structure (input images (B,3,H,W), H,W multiples of 32):
  backbone: strided Conv+BN+SiLU -> P3 (32ch, /8), P4 (48ch, /16), P5 (64ch, /32)
  neck (optional): PAFPN with 4 MaxSigmoidAttnBlocks (upstream YOLO-World code)
      td1 (/16): in 64, embed 64,  M=2  (no embed_conv), project 1x1
      td2 (/8):  in 32, embed 64,  M=2  (embed_conv),    project 3x3
      bu1 (/16): in 32, embed 64,  M=2  (embed_conv),    project 1x1
      bu2 (/32): in 64, embed 128, M=4  (embed_conv),    project 1x1
      head_channels c = 32 everywhere. Head levels use td2, bu1, bu2 outputs.
  head: per level cls-embed branch (Conv, Conv, Conv2d 1x1 -> D) + contrastive head
        (v2 BNContrastiveHead or v1 ContrastiveHead, einsum or matmul form)
        and box branch (Conv, Conv2d 1x1 -> 4).
  optional v1 ImagePoolingAttentionModule (text updated from image features).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def _init_bn(bn, g):
    n = bn.num_features
    with torch.no_grad():
        bn.weight.copy_(torch.rand(n, generator=g) * 1.0 + 0.5)
        bn.bias.copy_(torch.randn(n, generator=g) * 0.1)
        bn.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
        bn.running_var.copy_(torch.rand(n, generator=g) * 1.0 + 0.5)


class ConvModule(nn.Module):
    """Conv2d(no bias) + BN (+ SiLU)."""

    def __init__(self, cin, cout, k=1, s=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class MaxSigmoidAttnBlock(nn.Module):
    """Upstream YOLO-World MaxSigmoidAttnBlock (mmyolo), einsum or matmul form."""

    def __init__(self, in_channels, out_channels, guide_channels, embed_channels,
                 num_heads, use_einsum=True, project_kernel=3):
        super().__init__()
        assert embed_channels % num_heads == 0
        self.num_heads = num_heads
        self.head_channels = embed_channels // num_heads
        self.use_einsum = use_einsum
        self.embed_conv = (ConvModule(in_channels, embed_channels, 1, act=False)
                           if embed_channels != in_channels else None)
        self.guide_fc = nn.Linear(guide_channels, embed_channels)
        self.bias = nn.Parameter(torch.zeros(num_heads))
        self.scale = nn.Parameter(torch.ones(1, num_heads, 1, 1))
        self.project_conv = ConvModule(in_channels, out_channels, project_kernel, act=False)

    def forward(self, x, guide):
        B, _, H, W = x.shape
        guide = self.guide_fc(guide)
        guide = guide.reshape(B, -1, self.num_heads, self.head_channels)
        embed = self.embed_conv(x) if self.embed_conv is not None else x
        embed = embed.reshape(B, self.num_heads, self.head_channels, H, W)
        if self.use_einsum:
            attn_weight = torch.einsum('bmchw,bnmc->bmhwn', embed, guide)
        else:
            batch, m, channel, height, width = embed.shape
            _, n, _, _ = guide.shape
            embed = embed.permute(0, 1, 3, 4, 2)
            embed = embed.reshape(batch, m, -1, channel)
            guide = guide.permute(0, 2, 3, 1)
            attn_weight = torch.matmul(embed, guide)
            attn_weight = attn_weight.reshape(batch, m, height, width, n)
        attn_weight = attn_weight.max(dim=-1)[0]
        attn_weight = attn_weight / (self.head_channels ** 0.5)
        attn_weight = attn_weight + self.bias[None, :, None, None]
        attn_weight = attn_weight.sigmoid() * self.scale
        x = self.project_conv(x)
        x = x.reshape(B, self.num_heads, -1, H, W)
        x = x * attn_weight.unsqueeze(2)
        x = x.reshape(B, -1, H, W)
        return x


def _contract(x, w, use_einsum):
    if use_einsum:
        return torch.einsum('bchw,bkc->bkhw', x, w)
    batch, channel, height, width = x.shape
    _, k, _ = w.shape
    x = x.permute(0, 2, 3, 1).reshape(batch, -1, channel)
    w = w.permute(0, 2, 1)
    x = torch.matmul(x, w)
    x = x.reshape(batch, height, width, k).permute(0, 3, 1, 2)
    return x


class BNContrastiveHead(nn.Module):
    """YOLO-World v2 head: BatchNorm2d on x, L2-normalized text."""

    def __init__(self, embed_dims, use_einsum=True):
        super().__init__()
        self.norm = nn.BatchNorm2d(embed_dims)
        self.bias = nn.Parameter(torch.tensor([-2.0]))
        self.logit_scale = nn.Parameter(-1.0 * torch.ones([]))
        self.use_einsum = use_einsum

    def forward(self, x, w):
        x = self.norm(x)
        w = F.normalize(w, dim=-1, p=2)
        x = _contract(x, w, self.use_einsum)
        x = x * self.logit_scale.exp() + self.bias
        return x


class ContrastiveHead(nn.Module):
    """YOLO-World v1 head: L2-normalized x (dim=1) and text."""

    def __init__(self, use_einsum=True):
        super().__init__()
        self.bias = nn.Parameter(torch.tensor([-4.0]))
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
        self.use_einsum = use_einsum

    def forward(self, x, w):
        x = F.normalize(x, dim=1, p=2)
        w = F.normalize(w, dim=-1, p=2)
        x = _contract(x, w, self.use_einsum)
        x = x * self.logit_scale.exp() + self.bias
        return x


class ImagePoolingAttentionModule(nn.Module):
    """YOLO-World v1 image-pooling text enhancer (mmyolo)."""

    def __init__(self, image_channels, text_channels, embed_channels, num_heads=8,
                 pool_size=3):
        super().__init__()
        self.text_channels = text_channels
        self.embed_channels = embed_channels
        self.num_heads = num_heads
        self.num_feats = len(image_channels)
        self.head_channels = embed_channels // num_heads
        self.pool_size = pool_size
        self.query = nn.Sequential(nn.LayerNorm(text_channels),
                                   nn.Linear(text_channels, embed_channels))
        self.key = nn.Sequential(nn.LayerNorm(embed_channels),
                                 nn.Linear(embed_channels, embed_channels))
        self.value = nn.Sequential(nn.LayerNorm(embed_channels),
                                   nn.Linear(embed_channels, embed_channels))
        self.proj = nn.Linear(embed_channels, text_channels)
        self.scale = nn.Parameter(torch.tensor([0.5]))
        self.image_projections = nn.ModuleList(
            [ConvModule(c, embed_channels, 1, act=False) for c in image_channels])

    def forward(self, text_features, image_features):
        B = image_features[0].shape[0]
        num_patches = self.pool_size ** 2
        # == nn.AdaptiveMaxPool2d((3, 3)) for H, W divisible by 3 (what the ONNX exporter
        # emits anyway: MaxPool with kernel=stride=H/3); written with explicit kernel so the
        # TorchScript exporter does not need static shapes.
        mlvl = []
        for x, proj in zip(image_features, self.image_projections):
            x = proj(x)
            kh, kw = int(x.shape[2]) // self.pool_size, int(x.shape[3]) // self.pool_size
            mlvl.append(F.max_pool2d(x, (kh, kw), (kh, kw)).view(B, -1, num_patches))
        mlvl = torch.cat(mlvl, dim=-1).transpose(1, 2)
        q = self.query(text_features)
        k = self.key(mlvl)
        v = self.value(mlvl)
        q = q.reshape(B, -1, self.num_heads, self.head_channels)
        k = k.reshape(B, -1, self.num_heads, self.head_channels)
        v = v.reshape(B, -1, self.num_heads, self.head_channels)
        attn_weight = torch.einsum('bnmc,bkmc->bmnk', q, k)
        attn_weight = attn_weight / (self.head_channels ** 0.5)
        attn_weight = F.softmax(attn_weight, dim=-1)
        x = torch.einsum('bmnk,bkmc->bnmc', attn_weight, v)
        x = self.proj(x.reshape(B, -1, self.embed_channels))
        return x * self.scale + text_features


class TinyYoloWorld(nn.Module):
    """cfg keys:
      k, d: text matrix size
      head: 'bn' | 'l2'
      head_einsum, neck_einsum: bool
      neck: bool
      text: 'buffer' | 'input' | 'expand' | 'input_expand'
      out: 'raw' | 'ultra'
      imgpool: None | 'all' (text enhanced before the neck -> every site image-dependent)
               | 'dual' (v1 DualPAFPN: top-down uses original text, enhancer, bottom-up + head
                 use enhanced text)
    """

    def __init__(self, cfg, seed=0):
        super().__init__()
        self.cfg = dict(cfg)
        torch.manual_seed(seed)
        K, D = cfg['k'], cfg['d']
        self.K, self.D = K, D
        self.text_mode = cfg['text']
        self.out_style = cfg['out']
        self.use_neck = cfg['neck']
        self.imgpool = cfg.get('imgpool')
        # backbone
        self.stem = nn.Sequential(ConvModule(3, 16, 3, 2), ConvModule(16, 32, 3, 2),
                                  ConvModule(32, 32, 3, 2))           # /8, 32ch
        self.down4 = ConvModule(32, 48, 3, 2)                          # /16, 48ch
        self.down5 = ConvModule(48, 64, 3, 2)                          # /32, 64ch
        chans = [32, 48, 64]
        ne = cfg.get('neck_einsum', True)
        if self.use_neck:
            self.up = nn.Upsample(scale_factor=2, mode='nearest')
            self.td1_reduce = ConvModule(64 + 48, 64, 1)
            self.td1 = MaxSigmoidAttnBlock(64, 64, D, 64, 2, ne, 1)   # M=2, no embed_conv
            self.td2_reduce = ConvModule(64 + 32, 32, 1)
            self.td2 = MaxSigmoidAttnBlock(32, 32, D, 64, 2, ne, 3)   # M=2, embed_conv
            self.bu1_down = ConvModule(32, 32, 3, 2)
            self.bu1_reduce = ConvModule(32 + 64, 32, 1)
            self.bu1 = MaxSigmoidAttnBlock(32, 32, D, 64, 2, ne, 1)   # M=2, embed_conv
            self.bu2_down = ConvModule(32, 32, 3, 2)
            self.bu2_reduce = ConvModule(32 + 64, 64, 1)
            self.bu2 = MaxSigmoidAttnBlock(64, 64, D, 128, 4, ne, 1)  # M=4, embed_conv
            chans = [32, 32, 64]
        if self.imgpool:
            self.text_enhancer = ImagePoolingAttentionModule(
                [32, 48, 64] if self.imgpool == 'all' else [32, 64, 64], D, 64, num_heads=4)
        he = cfg.get('head_einsum', True)
        self.cls_branch = nn.ModuleList()
        self.box_branch = nn.ModuleList()
        self.contrast = nn.ModuleList()
        for c in chans:
            self.cls_branch.append(nn.Sequential(ConvModule(c, 16, 3), ConvModule(16, 16, 1),
                                                 nn.Conv2d(16, D, 1)))
            self.box_branch.append(nn.Sequential(ConvModule(c, 16, 3), nn.Conv2d(16, 4, 1)))
            self.contrast.append(BNContrastiveHead(D, he) if cfg['head'] == 'bn'
                                 else ContrastiveHead(he))
        if self.text_mode in ('buffer', 'expand'):
            self.register_buffer('txt', torch.randn(1, K, D) * 0.2)
        # non-trivial params
        g = torch.Generator().manual_seed(seed + 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                with torch.no_grad():
                    fan_in = m.weight[0].numel()
                    m.weight.copy_(torch.randn(m.weight.shape, generator=g)
                                   * math.sqrt(2.0 / fan_in))
            elif isinstance(m, nn.BatchNorm2d):
                _init_bn(m, g)
            elif isinstance(m, MaxSigmoidAttnBlock):
                with torch.no_grad():
                    m.bias.copy_(torch.randn(m.num_heads, generator=g) * 0.5)
                    m.scale.copy_(torch.rand(1, m.num_heads, 1, 1, generator=g) + 0.5)
            elif isinstance(m, BNContrastiveHead):
                with torch.no_grad():
                    m.bias.copy_(torch.tensor([-2.0]) + torch.randn(1, generator=g) * 0.1)
                    m.logit_scale.copy_(torch.tensor(0.7) + torch.randn([], generator=g) * 0.1)
            elif isinstance(m, ContrastiveHead):
                with torch.no_grad():
                    m.bias.copy_(torch.tensor([-4.0]) + torch.randn(1, generator=g) * 0.1)
                    m.logit_scale.copy_(torch.tensor(math.log(1 / 0.07))
                                        + torch.randn([], generator=g) * 0.1)
            elif isinstance(m, nn.LayerNorm):
                with torch.no_grad():
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        self.eval()

    def _text(self, images, texts):
        B = images.shape[0]
        if self.text_mode == 'buffer':
            return self.txt
        if self.text_mode == 'expand':
            return self.txt.expand(B, -1, -1)
        if self.text_mode == 'input':
            return texts
        if self.text_mode == 'input_expand':
            return texts.expand(B, -1, -1)
        raise ValueError(self.text_mode)

    def forward(self, images, texts=None):
        txt = self._text(images, texts)
        p3 = self.stem(images)
        p4 = self.down4(p3)
        p5 = self.down5(p4)
        if self.imgpool == 'all':
            txt = self.text_enhancer(txt, [p3, p4, p5])
        if self.use_neck:
            n4 = self.td1(self.td1_reduce(torch.cat([self.up(p5), p4], 1)), txt)
            o3 = self.td2(self.td2_reduce(torch.cat([self.up(n4), p3], 1)), txt)
            if self.imgpool == 'dual':
                txt = self.text_enhancer(txt, [o3, n4, p5])
            o4 = self.bu1(self.bu1_reduce(torch.cat([self.bu1_down(o3), n4], 1)), txt)
            o5 = self.bu2(self.bu2_reduce(torch.cat([self.bu2_down(o4), p5], 1)), txt)
            feats = [o3, o4, o5]
        else:
            if self.imgpool == 'dual':
                txt = self.text_enhancer(txt, [p3, p4, p5])
            feats = [p3, p4, p5]
        cls, box = [], []
        for i, f in enumerate(feats):
            cls.append(self.contrast[i](self.cls_branch[i](f), txt))
            box.append(self.box_branch[i](f))
        if self.out_style == 'raw':
            return tuple(cls) + tuple(box)
        # Ultralytics style: (B, 4+K, A)
        B = images.shape[0]
        no = 4 + self.K
        x = [torch.cat([box[i], cls[i]], 1) for i in range(3)]
        x_cat = torch.cat([xi.view(B, no, -1) for xi in x], 2)
        b, c = x_cat.split((4, self.K), 1)
        return torch.cat([b, c.sigmoid()], 1)


class HalfWrapper(nn.Module):
    """float32 in/out, float16 inside (for the fp16 fixture)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner.half()

    def forward(self, images, texts=None):
        outs = self.inner(images.half(), None if texts is None else texts.half())
        if isinstance(outs, tuple):
            return tuple(o.float() for o in outs)
        return outs.float()
