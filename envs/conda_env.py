"""Write envs/transinv.yaml from envs/requirements.lock (run by `make lock`).

The conda environment holds the same pinned packages as the venv and nothing that
points back into the checkout: Snakemake copies the file into .snakemake/conda/, where
a relative `-r` or `-e` path would resolve to nothing. The jobs find the package itself
through the workflow (it puts the checkout's src/ on PYTHONPATH).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

HEADER = """\
# Conda environment for cluster users (`snakemake --sdm conda`). Generated from
# envs/requirements.lock by `make lock` (envs/conda_env.py): do not edit by hand.
# Python from conda-forge, every package pinned as in the lock, through pip; the
# workflow runs the transinv package from the checkout, so nothing here points into it.
name: transinv
channels:
  - conda-forge
  - nodefaults
dependencies:
  - python=3.11
  - pip
  - pip:
"""


def pinned(lock: Path) -> list[str]:
    lines = (line.strip() for line in lock.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def render(lock: Path) -> str:
    """The lock's pins, then the no-deps extras beside it (with their dependencies here:
    pip in a conda file takes no per-package --no-deps)."""
    extras = lock.with_name("requirements-nodeps.txt")
    requirements = pinned(lock) + (pinned(extras) if extras.exists() else [])
    return HEADER + "".join(f"      - {requirement}\n" for requirement in requirements)


if __name__ == "__main__":
    target = HERE / "transinv.yaml"
    target.write_text(render(HERE / "requirements.lock"), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
