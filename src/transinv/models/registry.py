"""Build any model of the study by name: the one entry point configs and rules use.

A model is a name plus the options that make the paper's variants: ``border``
(S-Conv ``same_zero``, F-Conv ``full_zero``, ... see :mod:`transinv.borders`),
``stem_border`` (the first convolution's own border), ``blur`` (BlurPool filter size:
S+BlurPool / F+BlurPool), ``pool`` (global pool) and ``weights``. Options a model
does not have are refused, not ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from torch import nn

from transinv.models.bagnet import BagNet
from transinv.models.densenet import densenet121
from transinv.models.pretrained import (
    IMAGENET_CLASSES,
    IMAGENET_WEIGHTS,
    imagenet_state_dict,
    local_state_dict,
)
from transinv.models.resnet import resnet
from transinv.models.vgg import vgg16

IMAGENET = "imagenet"


class UnknownModelError(ValueError):
    """Raised for a model name that is not one of :data:`MODEL_NAMES`."""


@dataclass(frozen=True)
class ModelSpec:
    """How to build one named architecture, and which options it accepts."""

    build: Callable[..., nn.Module]
    default_border: str = "same_zero"
    takes_blur: bool = False
    takes_pool: bool = True
    takes_stem_border: bool = True


MODEL_SPECS: dict[str, ModelSpec] = {
    **{
        f"resnet{depth}": ModelSpec(partial(resnet, depth), takes_blur=True)
        for depth in (18, 34, 50, 101)
    },
    "densenet121": ModelSpec(densenet121),
    # BagNets are defined by valid convolutions: no unit ever sees the image border.
    **{
        f"bagnet{field}": ModelSpec(partial(BagNet, field), default_border="valid")
        for field in (9, 17, 33)
    },
    "vgg16": ModelSpec(
        partial(vgg16, batch_norm=False),
        takes_blur=True,
        takes_pool=False,
        takes_stem_border=False,
    ),
    "vgg16_bn": ModelSpec(
        partial(vgg16, batch_norm=True),
        takes_blur=True,
        takes_pool=False,
        takes_stem_border=False,
    ),
}

MODEL_NAMES: tuple[str, ...] = tuple(MODEL_SPECS)


def _spec(name: str) -> ModelSpec:
    if name not in MODEL_SPECS:
        raise UnknownModelError(
            f"unknown model {name!r}; valid model names are: {', '.join(MODEL_NAMES)}"
        )
    return MODEL_SPECS[name]


def _options(
    name: str, spec: ModelSpec, border: str, stem_border: str | None, blur: int | None, pool: str
) -> dict[str, object]:
    """The keyword arguments for ``spec.build``, refusing options the model lacks."""
    options: dict[str, object] = {"border": border}
    if stem_border is not None:
        if not spec.takes_stem_border:
            stemmed = [model for model, other in MODEL_SPECS.items() if other.takes_stem_border]
            raise ValueError(
                f"{name} has no single stem convolution to give its own border; stem_border "
                f"is available for: {', '.join(stemmed)}"
            )
        options["stem_border"] = stem_border
    if blur is not None:
        if not spec.takes_blur:
            blurrable = [model for model, other in MODEL_SPECS.items() if other.takes_blur]
            raise ValueError(
                f"{name} has no BlurPool variant; blur is available for: {', '.join(blurrable)}"
            )
        options["blur_filter"] = blur
    if spec.takes_pool:
        options["pool"] = pool
    elif pool != "avg":
        raise ValueError(
            f"{name} has no global pool to choose (its head is a fixed 7x7 average pool and "
            "an MLP); leave pool='avg'"
        )
    return options


def _check_imagenet_weights(name: str, border: str, blur: int | None) -> None:
    if name not in IMAGENET_WEIGHTS:
        raise ValueError(
            f"no ImageNet weights exist for {name}; they exist for: {', '.join(IMAGENET_WEIGHTS)}"
        )
    if border != "same_zero" or blur is not None:
        raise ValueError(
            f"no ImageNet weights exist for {name} with border={border!r}, blur={blur}: "
            "torchvision only publishes the S-Conv models (border='same_zero', blur=None). "
            "Train this variant and pass weights='/path/to/state_dict.pt' instead"
        )


def build_model(
    name: str,
    border: str | None = None,
    num_classes: int = 1000,
    blur: int | None = None,
    pool: str = "avg",
    weights: str | Path | None = None,
    stem_border: str | None = None,
) -> nn.Module:
    """Build model ``name`` (one of :data:`MODEL_NAMES`).

    ``border`` defaults to the model's own: ``same_zero`` (S-Conv), except BagNets,
    which are ``valid`` by definition. ``stem_border`` overrides the border of the stem
    convolution alone (ResNet ``conv1``, DenseNet ``features.conv0``, BagNet ``conv1``);
    it changes no weight shape, so pretrained weights still load (the Quadrant experiment
    sets it to ``valid`` and frames the image itself, see :mod:`transinv.models.quadrant`).
    ``blur`` is a BlurPool filter size (ResNets and
    VGGs). ``pool`` is ``"avg"`` or ``"max"`` for models that end in a global pool.
    ``weights`` is ``None`` (random init), ``"imagenet"`` (torchvision's S-Conv weights,
    fetched only now; the classifier is replaced when ``num_classes != 1000``), or the
    path of a state dict saved from a model built with the same arguments.
    """
    spec = _spec(name)
    border = spec.default_border if border is None else border
    options = _options(name, spec, border, stem_border, blur, pool)
    if weights is None:
        return spec.build(num_classes=num_classes, **options)
    if weights == IMAGENET:
        _check_imagenet_weights(name, border, blur)
        model = spec.build(num_classes=IMAGENET_CLASSES, **options)
        model.load_state_dict(imagenet_state_dict(name))
        if num_classes != IMAGENET_CLASSES:
            model.reset_classifier(num_classes)
        return model
    model = spec.build(num_classes=num_classes, **options)
    model.load_state_dict(local_state_dict(weights))
    return model
