"""HardNet patch descriptors (Mishchuk et al. 2017) with any border type: Exp 4b's networks.

Six bias-free 3x3 convolutions (two of them stride 2), each followed by a BatchNorm without
affine parameters and a ReLU, then dropout and an 8x8 convolution without padding. The
border of the 3x3 convolutions is the only thing the variants change: S-Conv
(``same_zero``) ends on an 8x8 map, which the 8x8 convolution reduces to a 128-D
descriptor; F-Conv (``full_zero``) grows every map, ends on 14x14 and so describes a patch
with a 7x7x128 = 6272-D vector. The head stays ``valid`` in both, as the authors kept it,
so the descriptor size follows from the border alone and is derived here, not written down.
"""

from __future__ import annotations

import torch
from torch import nn

from transinv.borders import Border, conv2d, resolve_border

#: Added to each patch's standard deviation so that a flat patch maps to zeros, not NaN.
PATCH_STD_EPS = 1e-7

#: Added under the square root of the descriptor norm: a zero descriptor stays finite and
#: keeps a finite gradient.
NORM_EPS = 1e-10

#: The authors' orthogonal-init gain: small enough that the unnormalised 8x8 head starts
#: with activations of order one.
INIT_GAIN = 0.6


def standardise_patches(x: torch.Tensor) -> torch.Tensor:
    """Each patch minus its own mean, over its own standard deviation (+ :data:`PATCH_STD_EPS`).

    The descriptor then ignores a patch's brightness and contrast, which differ between the
    views of a 3D point far more than its texture does. The statistics are those of the
    input, not learned, so no gradient flows through them; the standard deviation is the
    unbiased one, as in the authors' ``input_norm``.
    """
    dims = tuple(range(1, x.dim()))
    mean = x.mean(dim=dims, keepdim=True)
    std = x.std(dim=dims, keepdim=True) + PATCH_STD_EPS
    return (x - mean.detach()) / std.detach()


def l2_normalise(x: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` scaled to unit length: triplet margins are then comparable across nets
    whose descriptors differ 49-fold in size."""
    return x / torch.sqrt(x.square().sum(dim=1, keepdim=True) + NORM_EPS)


def orthogonal_init(model: nn.Module, gain: float = INIT_GAIN) -> None:
    """Orthogonal convolution weights with ``gain``, zero biases: the authors' HardNet init."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.orthogonal_(module.weight, gain=gain)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


class HardNet(nn.Module):
    """L2-normalised descriptors of 1-channel ``patch_px`` x ``patch_px`` patches.

    ``descriptor_dim`` is ``128 * m * m`` for the side ``m`` of the head's output map, which
    the border decides (1 for S-Conv, 7 for F-Conv on 32-px patches); the loss and the
    FPR95 evaluation only ever compare descriptors of the same net, so the size may differ.
    """

    channels: tuple[int, ...] = (1, 32, 32, 64, 64, 128, 128)
    strides: tuple[int, ...] = (1, 1, 2, 1, 2, 1)
    kernel_size = 3
    head_kernel_size = 8
    head_border = "valid"

    def __init__(self, border: str = "same_zero", dropout: float = 0.3, patch_px: int = 32) -> None:
        super().__init__()
        resolved = resolve_border(border)
        self.border: Border = resolved
        layers: list[nn.Module] = []
        size = patch_px
        for (c_in, c_out), stride in zip(
            zip(self.channels[:-1], self.channels[1:], strict=True), self.strides, strict=True
        ):
            # affine=False: a learned scale would be undone by the final L2 normalisation
            # anyway, and the authors' net has none. ReLU in place: BatchNorm's backward
            # needs its input, not its output.
            layers += [
                conv2d(c_in, c_out, self.kernel_size, resolved, stride=stride, bias=False),
                nn.BatchNorm2d(c_out, affine=False),
                nn.ReLU(inplace=True),
            ]
            size = resolved.output_size(size, self.kernel_size, stride)
        head = resolve_border(self.head_border)
        width = self.channels[-1]
        self.final_map: int = head.output_size(size, self.head_kernel_size)
        if self.final_map < 1:
            raise ValueError(
                f"HardNet needs patches whose last feature map ({size}x{size} for "
                f"{patch_px}-px patches with border {border!r}) is at least "
                f"{self.head_kernel_size}x{self.head_kernel_size}, the head's kernel"
            )
        layers += [
            nn.Dropout(dropout),
            conv2d(width, width, self.head_kernel_size, head, bias=False),
            nn.BatchNorm2d(width, affine=False),
        ]
        self.features = nn.Sequential(*layers)
        self.patch_px = patch_px
        self.descriptor_dim: int = width * self.final_map * self.final_map
        orthogonal_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 1, patch_px, patch_px)`` patches to ``(B, descriptor_dim)`` unit vectors."""
        return l2_normalise(torch.flatten(self.features(standardise_patches(x)), 1))


def hardnet(border: str, *, dropout: float = 0.3, patch_px: int = 32) -> HardNet:
    """HardNet with the given border: ``same_zero`` is the paper's S-Conv, ``full_zero`` F-Conv."""
    return HardNet(border, dropout=dropout, patch_px=patch_px)
