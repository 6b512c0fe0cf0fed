"""Report captions render as `snakemake --report` renders them, without docutils errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from transinv.captions import caption_problem, check_captions, merged_config
from transinv.cli import main

CAPTIONS = sorted((REPO / "report").glob("*.rst"))
DEFAULT = REPO / "config" / "config.yaml"
PAPER = REPO / "config" / "paper.yaml"


@pytest.mark.parametrize("configs", [[DEFAULT], [DEFAULT, PAPER]], ids=["default", "paper"])
def test_every_caption_renders_cleanly(configs: list[Path]) -> None:
    assert CAPTIONS, "no captions found"
    assert check_captions(CAPTIONS, merged_config(configs)) == []


@pytest.mark.parametrize("images", ["authors", "drawn"])
def test_rook_caption_names_its_images(images: str) -> None:
    config = merged_config([DEFAULT])
    config["rook"]["images"] = images
    assert caption_problem(REPO / "report" / "rook.rst", config) is None


def test_a_stray_bar_is_an_error(tmp_path: Path) -> None:
    caption = tmp_path / "bad.rst"
    caption.write_text("The total output |1 - 2 delta| vanishes at delta = 1/2.\n")
    problem = caption_problem(caption, {})
    assert problem is not None and 'Undefined substitution referenced: "1 - 2 delta"' in problem


def test_a_warning_is_an_error_too(tmp_path: Path) -> None:
    caption = tmp_path / "warn.rst"
    caption.write_text("Some *emphasis that never ends.\n")
    assert "WARNING" in (caption_problem(caption, {}) or "")


def test_an_unknown_config_key_is_an_error(tmp_path: Path) -> None:
    caption = tmp_path / "key.rst"
    caption.write_text('{{ snakemake.config["rook"]["epohcs"] }} epochs.\n')
    assert "template error" in (caption_problem(caption, merged_config([DEFAULT])) or "")


def test_config_files_merge_key_by_key() -> None:
    config = merged_config([DEFAULT, PAPER])
    assert config["quadrant"]["n_sources"] == 1000  # from paper.yaml
    assert config["quadrant"]["lr"] == pytest.approx(1e-3)  # kept from config.yaml


def test_command_fails_on_a_bad_caption(tmp_path: Path) -> None:
    caption = tmp_path / "bad.rst"
    caption.write_text("|x| is undefined.\n")
    with pytest.raises(SystemExit, match="1 of 1 report caption"):
        main(["check-captions", str(caption), "--config", str(DEFAULT)])
    assert main(["check-captions", *map(str, CAPTIONS), "--config", str(DEFAULT)]) == 0
