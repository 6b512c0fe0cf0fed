"""Keeping freed memory (transinv.allocator): in effect in every command, numbers unchanged."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import tool_env
from transinv import allocator, cli
from transinv.settings import RedGreenSettings, as_dict

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
needs_glibc = pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")

SHORT = RedGreenSettings(
    borders=("same_circular",), seeds=(0,), n_train=400, n_val=200, n_test=200,
    batch_size=100, max_epochs=3, patience=8,
)  # fmt: skip

# Ten training steps of the Red-Green net (batch 200); prints the page faults they took.
_FAULTS = """
import resource, sys, torch
from transinv.allocator import keep_freed_memory
from transinv.models import RedGreenNet
if sys.argv[1] == "keep":
    assert keep_freed_memory()
torch.set_num_threads(1)
model, images = RedGreenNet("same_zero"), torch.rand(200, 3, 32, 32)
model(images).sum().backward()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    model(images).sum().backward()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

# One short Red-Green training, through the CLI's entry point or around it.
_TRAIN = """
import sys
from pathlib import Path
from transinv import cli
from transinv.experiments import red_green
from transinv.settings import RedGreenSettings, Runtime, parse_settings
out, settings = sys.argv[2], sys.argv[3]
args = ["red-green", "--border", "same_circular", "--seed", "0", "--settings", settings,
        "--channels-last", "--output", out]
if sys.argv[1] == "cli":
    cli.main(args)
else:
    record = red_green.run(
        "same_circular", 0, parse_settings(RedGreenSettings, settings),
        Runtime(channels_last=True), "quick", Path(out).with_suffix(".pt"),
    )
    record.save(out)
"""


def _python(code: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, env=tool_env(), check=True,
    )  # fmt: skip
    return result.stdout


@needs_glibc
def test_every_cli_command_keeps_freed_memory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(allocator, "_applied", None)
    assert cli.main(["border-maps", "--output", str(tmp_path / "maps.json")]) == 0
    assert allocator._applied is True


@needs_glibc
def test_freed_tensors_are_reused_instead_of_faulted_in_again() -> None:
    default = int(_python(_FAULTS, "default"))
    kept = int(_python(_FAULTS, "keep"))
    assert default > 10 * 5000  # every step faults its activations in again (4 KiB pages)
    assert kept < default / 5


def test_numbers_are_identical_with_and_without(tmp_path: Path) -> None:
    settings = json.dumps(as_dict(SHORT))
    with_it, without = tmp_path / "cli.json", tmp_path / "plain.json"
    _python(_TRAIN, "cli", str(with_it), settings)
    _python(_TRAIN, "plain", str(without), settings)
    first, second = json.loads(with_it.read_text()), json.loads(without.read_text())
    assert first["rows"] == second["rows"]
    drop = {"seconds"}
    assert [{k: v for k, v in e.items() if k not in drop} for e in first["details"]["history"]] == [
        {k: v for k, v in e.items() if k not in drop} for e in second["details"]["history"]
    ]


def test_is_a_no_op_without_glibc(monkeypatch) -> None:
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setattr(allocator.platform, "libc_ver", lambda: ("", ""))
    assert allocator.keep_freed_memory() is False
