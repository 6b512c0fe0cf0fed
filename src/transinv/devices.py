"""Where and how reproducibly a job computes: device choice and deterministic kernels.

Kept apart from the trainer so that jobs which train nothing do not carry the
trainer's code in their fingerprint (:mod:`transinv.identity`).
"""

from __future__ import annotations

import torch

from transinv import provenance


def require_determinism() -> None:
    """Ask PyTorch (and cuBLAS) for kernels that give the same numbers on every rerun."""
    provenance.require_deterministic_cuda()
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


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
