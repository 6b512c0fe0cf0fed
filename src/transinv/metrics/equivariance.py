"""Shift, translation and the error of a map that should commute with them.

Shared by the related studies: an integer shift is a roll, a fractional one the
band-limited (Fourier) translation, and a network's feature maps are read by name
through forward hooks, so the same measurement runs on any model of the border core.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn


def fourier_shift(x: torch.Tensor, shifts: Sequence[float], dims: Sequence[int]) -> torch.Tensor:
    """Translate ``x`` by ``shifts`` (in samples, may be fractional) along ``dims``.

    The signal is read as periodic and band-limited: each Fourier coefficient turns by
    ``exp(-2 pi i k shift / n)``. For an integer shift this is a roll (to rounding); for a
    fractional one it is the only translation a sampled signal has without choosing an
    interpolation kernel. The Nyquist bin of an even length keeps its real part, so
    a real signal stays real.
    """
    if len(shifts) != len(dims):
        raise ValueError(f"one shift per dim: got {len(shifts)} shifts for {len(dims)} dims")
    spectrum = torch.fft.fftn(x, dim=tuple(dims))
    for shift, dim in zip(shifts, dims, strict=True):
        n = x.shape[dim]
        frequencies = torch.fft.fftfreq(n, dtype=x.dtype, device=x.device)
        phase = torch.exp(-2j * torch.pi * frequencies * shift)
        if n % 2 == 0:  # the Nyquist bin: a real cosine, not a complex exponential
            phase[n // 2] = math.cos(math.pi * shift)
        view = [1] * x.dim()
        view[dim] = n
        spectrum = spectrum * phase.reshape(view)
    return torch.fft.ifftn(spectrum, dim=tuple(dims)).real.to(x.dtype)


@contextmanager
def captured(model: nn.Module, names: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Inside the block, ``outputs[name]`` holds the last output of each named submodule."""
    modules = dict(model.named_modules())
    missing = [name for name in names if name not in modules]
    if missing:
        raise KeyError(f"no submodule(s) {', '.join(missing)} in {type(model).__name__}")
    outputs: dict[str, torch.Tensor] = {}

    def keep(name: str) -> Callable[[nn.Module, object, torch.Tensor], None]:
        def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
            outputs[name] = output.detach()

        return hook

    handles = [modules[name].register_forward_hook(keep(name)) for name in names]
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


@torch.no_grad()
def layer_outputs(
    model: nn.Module, x: torch.Tensor, names: Sequence[str]
) -> dict[str, torch.Tensor]:
    """The maps of the named submodules for input ``x`` (the model in eval mode)."""
    model.eval()
    with captured(model, names) as outputs:
        model(x)
    return {name: outputs[name] for name in names}


def relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    """``||value - reference|| / ||reference||`` over the whole batch (0 when both are 0)."""
    scale = reference.norm()
    difference = (value - reference).norm()
    if scale == 0:
        return 0.0 if difference == 0 else float("inf")
    return float(difference / scale)
