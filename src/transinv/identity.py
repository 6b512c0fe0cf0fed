"""A result's identity: the code, settings, data and numerics that produced it.

Two jobs with the same identity compute the same numbers, so a checkpoint is only
ever resumed by a job of the same identity, and the workflow passes every part of it
as a ``param``: change any of them and Snakemake reruns exactly the jobs it touches.

- **Code**: a hash of the sources of the experiment's module and of every ``transinv``
  module it imports, directly or not. Editing a plot or another experiment changes
  no training's fingerprint; editing the trainer or a model changes every one that
  uses it.
- **Settings**: :meth:`transinv.settings.Section.for_job`.
- **Data**: generated data is a function of the settings and the code; files read from
  disk are Snakemake inputs, and fetched ones are pinned by SHA-256.
- **Numerics**: device type, precision and memory format pick different kernels and
  roundings. The thread count and the device index do not: they are recorded only.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from transinv.provenance import config_hash
from transinv.settings import Runtime

PACKAGE = "transinv"
PACKAGE_ROOT = Path(__file__).resolve().parent


def _module_file(name: str, root: Path) -> Path | None:
    """The source file of module ``transinv.a.b``, or None when it is no module of ours."""
    parts = name.split(".")[1:]
    candidate = root.joinpath(*parts)
    for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported_modules(path: Path, root: Path) -> set[str]:
    """Every ``transinv`` module named by an import anywhere in ``path`` (lazy ones too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join((PACKAGE, *path.relative_to(root).with_suffix("").parts[:-1]))
    if path.name == "__init__.py":
        package = ".".join((PACKAGE, *path.parent.relative_to(root).parts))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == PACKAGE or name.startswith(PACKAGE + ".")}


def module_closure(module: str, root: Path = PACKAGE_ROOT) -> list[Path]:
    """The source files ``module`` runs: itself, what it imports, and so on.

    A package's ``__init__`` runs whenever one of its modules is imported, so its file
    counts; what *it* imports counts only where a module imports the package itself
    (``from transinv.models import X``). Import submodules directly to keep a
    fingerprint to the code that really computes the result.
    """
    target = _module_file(module, root)
    if target is None:
        raise ValueError(f"{module} is not a module of {root}")
    files: set[Path] = set()
    expanded: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        if name in expanded:
            continue
        expanded.add(name)
        parts = name.split(".")
        for depth in range(1, len(parts)):
            parent = _module_file(".".join(parts[:depth]), root)
            if parent is not None:
                files.add(parent)
        path = _module_file(name, root)
        if path is not None:
            files.add(path)
            pending.extend(_imported_modules(path, root))
    return sorted(files)


@cache
def code_fingerprint(module: str, root: Path = PACKAGE_ROOT) -> str:
    """A short hash of the source of ``module`` and of every transinv module it imports."""
    digest = hashlib.sha256()
    for path in module_closure(module, root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def experiment_fingerprint(experiment: str, root: Path = PACKAGE_ROOT) -> str:
    """:func:`code_fingerprint` of ``transinv.experiments.<experiment>``."""
    return code_fingerprint(f"{PACKAGE}.experiments.{experiment}", root)


def precision(runtime: Runtime, device_type: str) -> str:
    """``fp32``, or ``amp-bf16`` / ``amp-fp16`` where mixed precision really runs (CUDA)."""
    if runtime.amp and device_type == "cuda":
        return f"amp-{runtime.amp}"
    return "fp32"


def numerics(runtime: Runtime, device_type: str) -> dict[str, Any]:
    """The runtime choices that change the numbers a run computes."""
    return {
        "device": device_type,
        "precision": precision(runtime, device_type),
        "channels_last": runtime.channels_last,
    }


def run_key(
    experiment: str,
    job: dict[str, Any],
    settings: dict[str, Any],
    runtime: Runtime,
    device_type: str,
    code: str | None = None,
) -> str:
    """The identity hash a checkpoint is written under and must match to be resumed."""
    return config_hash(
        {
            "experiment": experiment,
            "job": job,
            "settings": settings,
            "code": code if code is not None else experiment_fingerprint(experiment),
            "numerics": numerics(runtime, device_type),
        }
    )
