"""Where and how reproducibly a job computes: device choice and deterministic kernels.

Kept apart from the trainer so that jobs which train nothing do not carry the
trainer's code in their fingerprint (:mod:`transinv.identity`).
"""

from __future__ import annotations

import sys

import torch

from transinv import provenance


def require_determinism() -> None:
    """Ask PyTorch (and cuBLAS) for kernels that give the same numbers on every rerun."""
    provenance.require_deterministic_cuda()
    _use_deterministic_algorithms()
    torch.backends.cudnn.benchmark = False


def _use_deterministic_algorithms() -> None:
    """``torch.use_deterministic_algorithms(True, warn_only=True)``, without the import
    of ``torch._inductor`` it does to set that compiler's flag: about a second of CPU
    per training job, for a flag only ``torch.compile`` reads (nothing here compiles).
    The eager kernels read the flag set here. Falls back to the public call when the
    compiler is already loaded or the setter has moved."""
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None or "torch._inductor" in sys.modules:
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        setter(True, warn_only=True)


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present; asking for CUDA without one is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {name!r} was requested but PyTorch sees no CUDA device; "
            "set `device: cpu` (or `auto`) in the config"
        )
    return torch.device(name)
