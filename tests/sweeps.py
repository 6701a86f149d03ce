"""Sweeps over the Keras Applications: `make test` runs the smallest member of each family, and
`make test-full` (which CI runs) every member too. A larger member shares its family's layers and code,
only wider or deeper (EfficientNetB1 is B0 scaled, ResNet101 is ResNet50 with more blocks): its own cases
are marked `full`."""

from __future__ import annotations

import re

import pytest

LARGER_MEMBERS = {
    "mobilenetv3large", "nasnetlarge", "densenet169", "densenet201", "vgg19",
    "resnet101", "resnet152", "resnet101v2", "resnet152v2",
    "convnextsmall", "convnextbase", "convnextlarge", "convnextxlarge",
    *(f"efficientnetb{i}" for i in range(1, 8)),
    "efficientnetv2b1", "efficientnetv2b2", "efficientnetv2b3", "efficientnetv2s", "efficientnetv2m", "efficientnetv2l",
}


def family_member(name: str) -> str:
    """'app_EfficientNetV2B1', 'EfficientNetV2B1', 'efficientnetv2b1' -> 'efficientnetv2b1'."""
    return re.sub(r"[^a-z0-9]", "", name.lower().removeprefix("app_"))


def params(names) -> list:
    """The names as pytest parameters, a family's larger members marked `full`."""
    return [pytest.param(n, marks=pytest.mark.full) if family_member(n) in LARGER_MEMBERS else n for n in names]
