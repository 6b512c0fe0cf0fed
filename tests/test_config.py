"""Bad configs are rejected before any job starts, naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import REPO, snakemake
from transinv.borders import BORDER_NAMES
from transinv.config import ConfigError, validate_config

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _default() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_default_and_paper_configs_are_valid() -> None:
    validate_config(_default(), SCHEMA)
    merged = _default()
    for key, value in yaml.safe_load((REPO / "config" / "paper.yaml").read_text()).items():
        merged[key] = {**merged[key], **value} if isinstance(value, dict) else value
    validate_config(merged, SCHEMA)


def test_schema_border_enum_is_the_border_core() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    assert tuple(schema["$defs"]["border"]["enum"]) == BORDER_NAMES


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"red_green": {"borders": ["same_zero", "sconv"]}}, "'red_green.borders[1]'"),
        ({"red_green": {"seeds": [0, -1]}}, "'red_green.seeds[1]'"),
        ({"red_green": {"max_epochs": "fifty"}}, "'red_green.max_epochs'"),
        ({"rook": {"lr": "0.1"}}, "'rook.lr'"),
    ],
)
def test_bad_values_are_named(override: dict, expected: str) -> None:
    config = _default()
    for section, values in override.items():
        config[section].update(values)
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA)
    assert expected in str(error.value)


def test_missing_and_unknown_keys_are_named() -> None:
    config = _default()
    del config["red_green"]["patience"]
    config["rook"]["epohcs"] = 3
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA)
    assert "missing key 'red_green.patience'" in str(error.value)
    assert "epohcs" in str(error.value)


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("red_green:\n  borders: [same_zero, nopad]\n", "red_green.borders[1]"),
        ("red_green:\n  seeds: [-3]\n", "red_green.seeds[0]"),
        ("rook:\n  epochs: many\n", "rook.epochs"),
    ],
)
def test_snakemake_rejects_bad_config_before_any_job(
    workdir: Path, bad: str, expected: str
) -> None:
    (workdir / "bad.yaml").write_text(bad)
    result = snakemake(workdir, "--cores", "1", "--configfile", "bad.yaml")
    assert result.returncode != 0
    assert expected in result.stderr + result.stdout
    assert "nothing was run" in result.stderr + result.stdout
    assert not (workdir / "results").exists()


def test_missing_key_in_a_full_config_is_rejected(workdir: Path) -> None:
    config = _default()
    del config["translation_1d"]
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "-n")
    assert result.returncode != 0
    assert "missing key 'translation_1d'" in result.stderr + result.stdout
