"""Shared helpers: the repository root and a runner for real Snakemake invocations."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool_env() -> dict[str, str]:
    """The environment for subprocesses: this interpreter's bin first, so rules find `transinv`."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DVC_NO_ANALYTICS", "1")
    return env


def make_workdir(root: Path) -> Path:
    """A working directory that holds the default config, as a fresh checkout would."""
    (root / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / "config.yaml", root / "config" / "config.yaml")
    return root


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    """The command line that runs the real workflow (the repo's Snakefile) in ``workdir``."""
    return [
        str(BIN / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]


def snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run the real workflow (the repo's Snakefile) in ``workdir``."""
    return subprocess.run(
        snakemake_command(workdir, *args),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=tool_env(),
        check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return make_workdir(tmp_path / "work")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny config (tests/data/tiny.yaml) run once to the report, shared by the session.

    Read-only by convention: a test that changes anything in it works on
    ``copy_run(tiny_run, ...)`` instead.
    """
    workdir = make_workdir(tmp_path_factory.mktemp("tiny_run"))
    shutil.copy(REPO / "tests" / "data" / "tiny.yaml", workdir / "tiny.yaml")
    result = snakemake(workdir, "--cores", "2", "--configfile", "tiny.yaml")
    assert result.returncode == 0, result.stderr[-4000:]
    report = snakemake(workdir, "--configfile", "tiny.yaml", "--report", "results/report.html")
    assert report.returncode == 0, report.stderr[-4000:]
    return workdir


def copy_run(source: Path, target: Path) -> Path:
    """A private copy of a finished run, modification times included, so that Snakemake
    finds nothing to redo in it."""
    shutil.copytree(source, target, symlinks=True, copy_function=shutil.copy2)
    return target


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 serving a fresh folder; stops after the test."""
    root = tmp_path / "served"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
