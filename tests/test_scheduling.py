"""Longest jobs first: the priorities the workflow gives its training jobs."""

from __future__ import annotations

import math

from transinv.experiments import quadrant_budget, red_green
from transinv.settings import QuadrantSettings, RedGreenSettings


def test_red_green_jobs_are_ordered_by_their_cost() -> None:
    settings = RedGreenSettings()
    seconds = {b: red_green.expected_seconds(b, settings) for b in settings.borders}
    assert sorted(seconds, key=seconds.get, reverse=True) == [
        "full_zero", "same_circular", "same_zero", "valid",
    ]  # fmt: skip
    one_protocol = RedGreenSettings(protocols=("faithful",))
    assert red_green.expected_seconds("valid", one_protocol) < seconds["valid"]


def test_quadrant_priority_and_time_limit_come_from_one_estimate() -> None:
    settings = QuadrantSettings(n_sources=6, max_epochs=4)
    small = quadrant_budget.expected_seconds("resnet18", 0, "random_frozen", settings, False)
    large = quadrant_budget.expected_seconds("bagnet33", 32, "scratch", settings, False)
    assert small < large
    assert quadrant_budget.runtime_minutes("bagnet33", 32, "scratch", settings, False) == (
        math.ceil(quadrant_budget.STARTUP_MINUTES + quadrant_budget.SAFETY * large / 60)
    )
