"""Where pretrained weights come from: torchvision's ImageNet weights or a local file.

The workflow fetches torchvision's weights once, in a rule of its own
(:func:`fetch_imagenet_weights`, checked against the SHA-256 prefix torchvision
publishes in each file name), into a state dict under ``resources/weights``; jobs
read that file, so compute nodes never download. Building a model by hand with
``weights="imagenet"`` still goes through torchvision's cache.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import torch

from transinv.atomic import atomic_path
from transinv.fetch import download

#: torchvision's original (V1) ImageNet weights: the ones ``pretrained=True`` gave the
#: authors' 2019-2020 code. Only S-Conv models have any.
IMAGENET_WEIGHTS: dict[str, str] = {
    "resnet18": "ResNet18_Weights.IMAGENET1K_V1",
    "resnet34": "ResNet34_Weights.IMAGENET1K_V1",
    "resnet50": "ResNet50_Weights.IMAGENET1K_V1",
    "resnet101": "ResNet101_Weights.IMAGENET1K_V1",
    "densenet121": "DenseNet121_Weights.IMAGENET1K_V1",
    "vgg16": "VGG16_Weights.IMAGENET1K_V1",
    "vgg16_bn": "VGG16_BN_Weights.IMAGENET1K_V1",
}

IMAGENET_CLASSES = 1000

# The DenseNet checkpoints predate PyTorch's ban on dots in module names and store
# e.g. "denselayer1.norm.1.weight" for what is now "denselayer1.norm1.weight".
_DOTTED_DENSE_LAYER_KEY = re.compile(r"(denselayer\d+\.(?:norm|relu|conv))\.([12])\.")


def modernise_keys(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename legacy dotted DenseNet keys; other keys pass through unchanged."""
    return {_DOTTED_DENSE_LAYER_KEY.sub(r"\1\2.", key): value for key, value in state_dict.items()}


def get_weight(name: str) -> Any:
    """torchvision's weights entry ``name``. torchvision is imported here, on first use:
    importing it costs every ``transinv`` command about a second of CPU otherwise, and
    only runs that load ImageNet weights need it."""
    from torchvision.models import get_weight as torchvision_get_weight

    return torchvision_get_weight(name)


def imagenet_state_dict(model_name: str) -> dict[str, torch.Tensor]:
    """torchvision's 1000-class ImageNet state dict for ``model_name``, keys as our modules'."""
    weights = get_weight(IMAGENET_WEIGHTS[model_name])
    return modernise_keys(weights.get_state_dict(progress=True, check_hash=True))


#: torchvision names its files ``<name>-<first hex digits of the SHA-256>.pth``.
_PUBLISHED_HASH = re.compile(r"-([a-f0-9]{8,})\.[a-z]+$")


def imagenet_weights_url(model_name: str) -> str:
    return get_weight(IMAGENET_WEIGHTS[model_name]).url


def fetch_imagenet_weights(model_name: str, output: Path, mirror: str | None = None) -> Path:
    """Download torchvision's ImageNet weights of ``model_name``, check them, and save
    them as a plain state dict (keys as our modules') at ``output``.

    ``mirror``: a folder URL holding the same file names (for clusters whose compute
    or login nodes reach only a local copy).
    """
    if model_name not in IMAGENET_WEIGHTS:
        raise ValueError(
            f"torchvision has no ImageNet weights for {model_name}; convert them to a state "
            f"dict of transinv's {model_name} and configure its path instead"
        )
    url = imagenet_weights_url(model_name)
    file_name = url.rsplit("/", 1)[1]
    if mirror is not None:
        url = f"{mirror.rstrip('/')}/{file_name}"
    published = _PUBLISHED_HASH.search(file_name)
    if published is None:
        raise ValueError(f"{file_name} carries no published SHA-256 prefix to check it against")
    with tempfile.TemporaryDirectory(dir=output.parent if output.parent.exists() else None) as tmp:
        downloaded = download(url, Path(tmp) / file_name, published.group(1))
        state = torch.load(downloaded, map_location="cpu", weights_only=True)
    with atomic_path(output) as tmp_output:
        torch.save(modernise_keys(state), tmp_output)
    return output


def local_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict saved with ``torch.save(model.state_dict(), path)``; tensors only."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(
            f"weights file {file} does not exist; put a state dict there, saved with "
            f"torch.save(model.state_dict(), {str(file)!r}) from a model built with the same "
            'name, border, blur and num_classes, or use weights="imagenet" for torchvision\'s '
            "ImageNet weights"
        )
    state = torch.load(file, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or not all(
        isinstance(value, torch.Tensor) for value in state.values()
    ):
        raise ValueError(
            f"{file} does not hold a state dict (a mapping of names to tensors); save "
            "model.state_dict() itself, not a training checkpoint that wraps it"
        )
    return state
