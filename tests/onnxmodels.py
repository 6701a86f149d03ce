"""Small PyTorch networks exported to ONNX in memory (torch's TorchScript exporter, no file on disk), for the
ONNX converter's tests: together they use every operator cnnviz.files.onnxfiles converts, and ResNet-18 is
torchvision's architecture written out here (torchvision's wheel carries a CUDA-built extension the CPU torch
cannot load), with seeded random weights."""

from __future__ import annotations

import io
import warnings

import torch
from torch import nn


def export(model: nn.Module, shape=(1, 3, 16, 16), opset: int = 17, keep_batchnorm: bool = False) -> bytes:
    """The model in eval mode as ONNX bytes; `keep_batchnorm` keeps BatchNormalization nodes (torch folds them
    into the convolutions otherwise)."""
    model.eval()
    buffer = io.BytesIO()
    extra = {"training": torch.onnx.TrainingMode.PRESERVE} if keep_batchnorm else {}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(shape),), buffer, dynamo=False, opset_version=opset, **extra)
    return buffer.getvalue()


def _randomise_batchnorm(model: nn.Module) -> nn.Module:
    """Running statistics and affine parameters away from 0/1, so BatchNormalization does something."""
    generator = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=generator) * 0.1)
    return model


class Convs(nn.Module):
    """Conv (bias-free, grouped, depthwise with a multiplier, dilated, strided), BatchNormalization, ReLU, ReLU6,
    MaxPool with padding, AveragePool counting its padding, Sigmoid, GlobalAveragePool, Flatten, Gemm."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
            nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8), nn.ReLU6(),
            nn.Conv2d(8, 6, 1, groups=2),
            nn.Conv2d(6, 12, 3, stride=2, padding=1, groups=6),
            nn.AvgPool2d(3, 1, padding=1),
            nn.Sigmoid(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(12, 5))

    def forward(self, x):
        return self.features(x)


class Activations(nn.Module):
    """Tanh, HardSigmoid, HardSwish, LeakyRelu, SiLU (Sigmoid then Mul), AveragePool without its padding,
    MaxPool with ceil_mode, GlobalMaxPool, Reshape (x.view(n, -1)), Softmax."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2, self.c3 = nn.Conv2d(3, 6, 3), nn.Conv2d(6, 6, 3, padding=1), nn.Conv2d(6, 6, 3, padding=1)
        self.pool = nn.AvgPool2d(3, 1, padding=1, count_include_pad=False)
        self.ceil = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        x = torch.tanh(self.c1(x))
        x = nn.functional.hardsigmoid(self.c2(x)) * nn.functional.hardswish(self.c3(x))
        x = nn.functional.leaky_relu(x, 0.1)
        x = nn.functional.silu(self.pool(x))
        x = self.ceil(torch.relu(x))  # 14x14 -> 7x7; 13 would need the ceil
        x = self.ceil(x)  # 7x7 -> 4x4 (ceil_mode)
        x = nn.functional.adaptive_max_pool2d(x, 1)
        return torch.softmax(self.fc(x.view(x.size(0), -1)), dim=1)


class Arithmetic(nn.Module):
    """A squeeze-and-excitation block (Mul broadcast over H and W), Add/Sub/Mul/Div with constants (numbers and
    per-channel), Add of two tensors, Concat, Flatten of a 4x4 map (C, H, W order), MatMul, Dropout."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=4, padding=1)
        self.squeeze, self.excite = nn.Conv2d(4, 2, 1), nn.Conv2d(2, 4, 1)
        self.register_buffer("shift", torch.linspace(-1, 1, 4).reshape(1, 4, 1, 1))
        self.fc = nn.Linear(8 * 4 * 4, 3, bias=False)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = self.conv(x)
        s = torch.sigmoid(self.excite(torch.relu(self.squeeze(x.mean((2, 3), keepdim=True)))))
        x = x * s
        x = (x + 1.0 - 0.5) / 2.0 * 3.0 - self.shift
        x = torch.cat([x, torch.relu(x) + x], 1)
        return self.drop(self.fc(torch.flatten(x, 1)))


class Upsampling(nn.Module):
    """ConvTranspose (strided, padded, with output padding; and without bias), PRelu per channel and shared,
    Pad (zeros, asymmetric, its pads computed by shape arithmetic), Gelu (opset 20)."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.prelu = nn.PReLU(4)
        self.up = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
        self.up2 = nn.ConvTranspose2d(3, 2, 2, stride=2, bias=False)
        self.prelu1 = nn.PReLU()
        self.gelu = nn.GELU()

    def forward(self, x):
        x = self.up(self.prelu(self.down(x)))
        x = nn.functional.pad(x, (1, 2, 0, 1))
        return self.gelu(self.prelu1(self.up2(x))).flatten(1)


class Reshapes(nn.Module):
    """A channel split and shuffle (ShuffleNet's Slice, 5-D Reshape, Transpose), Reshape to rank 3 (BatchNorm1d
    over its channels) and back to a map, a conv on it, ReduceMean without keepdims, Unsqueeze twice, a Mul
    between layouts, Squeeze twice after a global pool (as course code does)."""

    def __init__(self):
        super().__init__()
        self.conv, self.conv2 = nn.Conv2d(3, 4, 3, stride=2), nn.Conv2d(4, 2, 1)
        self.bn1d = nn.BatchNorm1d(4)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        x = self.conv(x)  # (1, 4, 7, 7)
        a, b = x.chunk(2, dim=1)  # ShuffleNet's split (Slice on channels), its channel shuffle (5-D), Concat of both
        shuffled = b.reshape(1, 2, 1, 7, 7).transpose(1, 2).reshape(1, 2, 7, 7)
        x = torch.cat([a, shuffled], 1)[:, :, 1:]  # and a Slice of the height: (1, 4, 6, 7)
        x = torch.relu(self.bn1d(x.reshape(1, 4, 42)).view(1, 4, 6, 7))
        x = self.conv2(x)
        z = x.mean((2, 3)).unsqueeze(-1).unsqueeze(-1)
        x = x * torch.sigmoid(z)
        x = nn.functional.adaptive_avg_pool2d(x, 1).squeeze(-1).squeeze(-1)
        return self.fc(torch.cat([x, x], 1))


class Resampling(nn.Module):
    """torch.split on channels (Split) and torch.chunk of the height (torch writes a Slice), nn.Upsample nearest
    (asymmetric, floor) and bilinear (align_corners=False: half_pixel) by whole factors, F.interpolate to a size that
    is no whole factor (sizes from shape arithmetic) and down by half (Resize)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, stride=2, padding=1)
        self.near = nn.Upsample(scale_factor=2, mode="nearest")
        self.bilinear = nn.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=False)

    def forward(self, x):
        x = self.conv(x)  # (1, 6, 8, 8)
        a, b, c = torch.split(x, [1, 2, 3], dim=1)
        top, _ = x.chunk(2, dim=2)
        near, smooth = self.near(a), self.bilinear(b)  # (1, 1, 16, 16), (1, 2, 16, 24)
        odd = nn.functional.interpolate(c, size=(11, 13), mode="bilinear", align_corners=False)
        down = nn.functional.interpolate(smooth, scale_factor=0.5, mode="bilinear", align_corners=False)
        return torch.cat([m.flatten(1) for m in (near, smooth, odd, down, top)], 1)


class ConvNeXtBlock(nn.Module):
    """torchvision's CNBlock and LayerNorm2d head at a small size: depthwise 7x7, Transpose to NHWC,
    LayerNormalization, Linear (MatMul + Add on a 4-D tensor), GELU (below opset 20: Div, Erf, Add, Mul, Mul),
    a layer scale, Transpose back,
    the residual Add; then a Transpose that is a real permutation and a Flatten of the result."""

    def __init__(self, dim: int = 8):
        super().__init__()
        self.stem = nn.Conv2d(3, dim, 4, stride=4)
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1, self.pwconv2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.gelu = nn.GELU()
        self.layer_scale = nn.Parameter(torch.linspace(0.5, 1.5, dim).reshape(dim, 1, 1))
        self.head_norm = nn.LayerNorm(dim, eps=1e-6)
        self.fc = nn.Linear(dim * 4 * 4, 3)

    def forward(self, x):
        x = self.stem(x)
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.gelu(self.pwconv1(self.norm(y))))
        x = x + self.layer_scale * y.permute(0, 3, 1, 2)
        x = self.head_norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.fc(torch.flatten(x.permute(0, 3, 2, 1), 1))  # (N, W, H, C): a real permutation


def torchvision_models():
    """torchvision.models, imported past torchvision's own __init__, which registers CUDA-built operators the
    CPU build of torch cannot load (`operator torchvision::nms does not exist`); the architectures need none."""
    import importlib
    import importlib.util
    import sys
    import types

    if "torchvision.models" in sys.modules:
        return sys.modules["torchvision.models"]
    spec = importlib.util.find_spec("torchvision")
    if spec is None:
        return None
    if "torchvision" not in sys.modules:
        package = types.ModuleType("torchvision")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["torchvision"] = package
    return importlib.import_module("torchvision.models")


class Basic(nn.Module):
    """torchvision's BasicBlock."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class ResNet18(nn.Module):
    """torchvision.models.resnet18's architecture (same modules, names and forward)."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        blocks, inplanes = [], 64
        for i, planes in enumerate((64, 128, 256, 512)):
            blocks.append(nn.Sequential(Basic(inplanes, planes, 1 if i == 0 else 2), Basic(planes, planes)))
            inplanes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = blocks
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def seeded(cls, seed: int = 0, **kwargs) -> nn.Module:
    torch.manual_seed(seed)
    return _randomise_batchnorm(cls(**kwargs))


def resnet18_onnx() -> bytes:
    return export(seeded(ResNet18), (1, 3, 224, 224))
