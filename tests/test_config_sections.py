"""One set of keys per experiment section: schema = settings dataclass = shipped configs.

The schema validates what Snakemake reads, the dataclass is what the library builds,
and the configs are what users edit; a key present in one and not the others is
either rejected at run time or silently ignored. Scales are derived from values,
so the shipped configs also have to derive the scale their comments promise.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from snakemake.utils import update_config

from conftest import REPO
from transinv.experiments.action_recognition_settings import ActionRecognitionSettings
from transinv.experiments.advection_settings import AdvectionSettings
from transinv.experiments.continuous_shift_settings import ContinuousShiftSettings
from transinv.experiments.data_efficiency_settings import (
    DataEfficiencySettings,
    PatchMatchingSettings,
)
from transinv.experiments.equivariance_settings import EquivarianceSettings
from transinv.experiments.online_invariance_settings import OnlineInvarianceSettings
from transinv.settings import (
    QuadrantSettings,
    RedGreenSettings,
    RookSettings,
    ShiftSettings,
    Translation1DSettings,
    from_mapping,
    protocol_scale,
)

SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())

#: Every experiment section and the settings dataclass the library builds from it.
#: A new experiment adds its line here; the tests below then cover it.
SECTIONS: dict[str, type] = {
    "red_green": RedGreenSettings,
    "rook": RookSettings,
    "translation_1d": Translation1DSettings,
    "quadrant": QuadrantSettings,
    "shift": ShiftSettings,
    "data_efficiency": DataEfficiencySettings,
    "patch_matching": PatchMatchingSettings,
    "action_recognition": ActionRecognitionSettings,
    "equivariance": EquivarianceSettings,
    "continuous_shift": ContinuousShiftSettings,
    "advection": AdvectionSettings,
    "online_invariance": OnlineInvarianceSettings,
}

#: Top-level sections that are not an experiment's settings.
NOT_EXPERIMENTS = {"runtime", "datasets", "weights_mirror", "experiments"}


def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _merged(*overrides: Path) -> dict[str, Any]:
    """config/config.yaml with ``--configfile`` files on top, merged as Snakemake does."""
    config = _yaml(REPO / "config" / "config.yaml")
    for path in overrides:
        update_config(config, _yaml(path))
    return config


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}  # ClassVars are not fields


def test_every_experiment_section_of_the_schema_has_a_dataclass() -> None:
    assert set(SCHEMA["properties"]) - NOT_EXPERIMENTS == set(SECTIONS)
    assert set(SCHEMA["required"]) == set(SCHEMA["properties"])


@pytest.mark.parametrize("section", SECTIONS)
def test_schema_keys_are_the_dataclass_fields(section: str) -> None:
    schema = SCHEMA["properties"][section]
    assert set(schema["properties"]) == _fields(SECTIONS[section])
    assert set(schema["required"]) == set(schema["properties"])  # merged configs are complete
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("section", SECTIONS)
def test_default_config_holds_every_key(section: str) -> None:
    assert set(_yaml(REPO / "config" / "config.yaml")[section]) == _fields(SECTIONS[section])


@pytest.mark.parametrize("section", SECTIONS)
def test_paper_config_names_only_known_keys_and_merges_to_every_key(section: str) -> None:
    assert set(_yaml(REPO / "config" / "paper.yaml").get(section, {})) <= _fields(SECTIONS[section])
    merged = _merged(REPO / "config" / "paper.yaml")
    assert set(merged[section]) == _fields(SECTIONS[section])


def test_nested_pretrained_weights_agree() -> None:
    schema = SCHEMA["properties"]["quadrant"]["properties"]["pretrained_weights"]
    defaults = QuadrantSettings().pretrained_weights
    assert set(schema["properties"]) == set(defaults)
    for config in (_merged(), _merged(REPO / "config" / "paper.yaml")):
        assert set(config["quadrant"]["pretrained_weights"]) == set(defaults)


@pytest.mark.parametrize("section", SECTIONS)
def test_paper_config_is_the_paper_protocol(section: str) -> None:
    values = _merged(REPO / "config" / "paper.yaml")[section]
    assert protocol_scale(from_mapping(SECTIONS[section], values)) == "paper"


#: The scale config/config.yaml derives per section, as its comments describe it.
DEFAULT_SCALES = {
    "red_green": "paper",  # "This is the paper protocol, in full."
    "rook": "paper",  # "the paper protocol, in full"
    "translation_1d": "paper",
    "quadrant": "quick",  # "reduced to a few minutes on 2 CPU cores"
    "shift": "quick",  # "reduced to a few CPU minutes per training"
    "data_efficiency": "quick",  # "reduced to a few CPU minutes"
    "patch_matching": "quick",  # "reduced to a few CPU minutes"
    "action_recognition": "quick",  # "reduced to a few CPU minutes"
    "equivariance": "quick",  # "reduced for a CPU"
    "continuous_shift": "quick",  # "quick: half the widths"
    "advection": "paper",  # "this is the full size of our reconstruction"
    "online_invariance": "quick",  # "Quick: a small VGG"
}


def test_every_experiment_can_be_switched_off() -> None:
    """`experiments` lists exactly the experiments: each can be left out of a run."""
    listed = SCHEMA["properties"]["experiments"]["items"]["enum"]
    assert set(listed) == set(SECTIONS)
    assert set(_yaml(REPO / "config" / "config.yaml")["experiments"]) == set(SECTIONS)


@pytest.mark.parametrize("section", SECTIONS)
def test_default_config_scales(section: str) -> None:
    values = _merged()[section]
    assert protocol_scale(from_mapping(SECTIONS[section], values)) == DEFAULT_SCALES[section]


@pytest.mark.parametrize("section", SECTIONS)
def test_tiny_test_config_is_quick(section: str) -> None:
    values = _merged(REPO / "tests" / "data" / "tiny.yaml")[section]
    assert protocol_scale(from_mapping(SECTIONS[section], values)) == "quick"
