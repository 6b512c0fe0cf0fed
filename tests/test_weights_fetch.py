"""torchvision's weights are fetched by a rule of their own and checked against the
SHA-256 prefix in their file names; files that do not match are refused."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import tool_env
from transinv.fetch import ChecksumMismatch
from transinv.models import pretrained


def _served_state_dict(root: Path, name: str, state: dict[str, torch.Tensor]) -> str:
    staging = root / "staging.pth"
    torch.save(state, staging)
    digest = hashlib.sha256(staging.read_bytes()).hexdigest()
    file_name = f"{name}-{digest[:8]}.pth"
    staging.rename(root / file_name)
    return file_name


def test_fetched_weights_are_checked_and_saved_as_a_state_dict(
    served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = served
    legacy = {"features.denseblock1.denselayer1.norm.1.weight": torch.ones(3)}
    file_name = _served_state_dict(root, "densenet121", legacy)
    monkeypatch.setattr(pretrained, "imagenet_weights_url", lambda _: f"{url}/{file_name}")

    output = tmp_path / "weights" / "densenet121_imagenet.pt"
    output.parent.mkdir()
    pretrained.fetch_imagenet_weights("densenet121", output)
    state = torch.load(output, weights_only=True)
    assert list(state) == ["features.denseblock1.denselayer1.norm1.weight"]  # keys modernised


def test_a_file_that_does_not_match_its_published_hash_is_refused(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = served
    real_name = pretrained.imagenet_weights_url("resnet18").rsplit("/", 1)[1]
    torch.save({"fc.weight": torch.zeros(1)}, root / real_name)  # the name, not the content
    output = tmp_path / "resnet18_imagenet.pt"
    command = [sys.executable, "-m", "transinv", "fetch-weights", "--arch", "resnet18"]
    result = subprocess.run(
        [*command, "--mirror", url, "--output", str(output)],
        capture_output=True,
        text=True,
        env=tool_env(),
        check=False,
    )
    assert result.returncode != 0
    assert "does not match" in result.stderr
    assert not output.exists()
    assert not list(tmp_path.glob(".download-*"))


def test_a_prefix_too_short_to_check_is_refused(tmp_path: Path) -> None:
    from transinv.fetch import download

    with pytest.raises(ValueError, match="at least 8 hex digits"):
        download("http://127.0.0.1:9/none", tmp_path / "x", "abc")
    assert issubclass(ChecksumMismatch, RuntimeError)


def test_architectures_without_torchvision_weights_are_named() -> None:
    with pytest.raises(ValueError, match="no ImageNet weights for bagnet33"):
        pretrained.fetch_imagenet_weights("bagnet33", Path("unused.pt"))
