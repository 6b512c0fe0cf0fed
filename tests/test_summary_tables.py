"""The summary, the DVC metrics and the Red-Green table, from hand-built inputs.

Every expected number here is worked out by hand, so a change to how records are
flattened, averaged or ordered shows up as a wrong value, not only as a missing file.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from transinv.borders import BORDER_NAMES
from transinv.records import SUMMARY_COLUMNS, RunRecord
from transinv.summary import build_summary, headline_metrics
from transinv.tables import red_green_table


def _row(protocol: str, padding: str, seed: int, metric: str, value: float, **extra) -> dict:
    return {
        "experiment": "red_green",
        "protocol": protocol,
        "dataset": "red_green_generated",
        "scale": "quick",
        "precision": "fp32",
        "model": "red_green_net",
        "padding": padding,
        "seed": seed,
        "commit": "c0ffee",
        "dirty": False,
        "metric": metric,
        "value": value,
        **extra,
    }


def _red_green_summary() -> pd.DataFrame:
    """Three seeds of same_zero and two of full_circular, per protocol, in scrambled order."""
    values = {
        # (padding, seed): (similar, dissimilar, epochs_run)
        ("full_circular", 0): (60.0, 60.0, 10.0),
        ("full_circular", 1): (70.0, 70.0, 12.0),
        ("same_zero", 2): (100.0, 30.0, 5.0),
        ("same_zero", 0): (90.0, 10.0, 3.0),
        ("same_zero", 1): (95.0, 20.0, 4.0),
    }
    rows = []
    for protocol, offset in (("corrected", 1.0), ("faithful", 0.0)):
        for (padding, seed), (similar, dissimilar, epochs) in values.items():
            rows += [
                _row(protocol, padding, seed, "similar_accuracy", similar - offset),
                _row(protocol, padding, seed, "dissimilar_accuracy", dissimilar - offset),
                _row(protocol, padding, seed, "epochs_run", epochs),
                _row(protocol, padding, seed, "best_epoch", epochs - 1),
            ]
    other = {**_row("faithful", "same_zero", 0, "accuracy", 0.0), "experiment": "rook"}
    return pd.DataFrame([other, *rows])


def test_red_green_table_means_population_std_and_paper_diff() -> None:
    table = red_green_table(_red_green_summary())
    row = table[(table["protocol"] == "faithful") & (table["padding"] == "same_zero")].iloc[0]
    assert row["n_seeds"] == 3
    assert row["label"] and row["dataset"] == "red_green_generated" and row["scale"] == "quick"
    assert row["similar_mean"] == pytest.approx(95.0)
    assert row["similar_std"] == pytest.approx(math.sqrt(50 / 3))  # ddof=0; ddof=1 gives 5.0
    assert row["dissimilar_mean"] == pytest.approx(20.0)
    assert row["dissimilar_std"] == pytest.approx(math.sqrt(200 / 3))
    assert row["similar_paper"] == 99.8 and row["dissimilar_paper"] == 8.4
    assert row["similar_diff"] == pytest.approx(95.0 - 99.8)
    assert row["dissimilar_diff"] == pytest.approx(20.0 - 8.4)
    assert row["epochs_mean"] == pytest.approx(4.0)  # best_epoch is not averaged in

    corrected = table[(table["protocol"] == "corrected") & (table["padding"] == "same_zero")]
    assert corrected["similar_mean"].iloc[0] == pytest.approx(94.0)
    assert corrected["dissimilar_diff"].iloc[0] == pytest.approx(19.0 - 8.4)


def test_red_green_table_without_a_paper_value() -> None:
    table = red_green_table(_red_green_summary())
    row = table[(table["protocol"] == "faithful") & (table["padding"] == "full_circular")].iloc[0]
    assert row["n_seeds"] == 2
    assert row["similar_mean"] == pytest.approx(65.0) and row["similar_std"] == pytest.approx(5.0)
    assert math.isnan(row["similar_paper"]) and math.isnan(row["similar_diff"])
    assert math.isnan(row["dissimilar_paper"]) and math.isnan(row["dissimilar_diff"])


def test_red_green_table_orders_faithful_first_then_borders_as_the_core() -> None:
    table = red_green_table(_red_green_summary())
    assert list(zip(table["protocol"], table["padding"], strict=True)) == [
        ("faithful", "same_zero"),
        ("faithful", "full_circular"),
        ("corrected", "same_zero"),
        ("corrected", "full_circular"),
    ]
    for _, block in table.groupby("protocol"):
        order = [BORDER_NAMES.index(p) for p in block["padding"]]
        assert order == sorted(order)


def test_red_green_table_needs_red_green_rows() -> None:
    summary = _red_green_summary()
    with pytest.raises(ValueError, match="no red_green rows"):
        red_green_table(summary[summary["experiment"] != "red_green"])
    with pytest.raises(ValueError, match="no red_green rows"):
        red_green_table(pd.DataFrame(columns=list(SUMMARY_COLUMNS)))


def _record(tmp_path: Path, name: str, **identity) -> Path:
    rows = identity.pop("rows")
    environment = {"git": {"commit": "c0ffee", "dirty": False}}
    record = RunRecord(settings={}, identity={}, environment=environment, **identity)
    for row in rows:
        record.add(**row)
    path = tmp_path / f"{name}.json"
    record.save(path)
    return path


@pytest.fixture
def record_paths(tmp_path: Path) -> list[Path]:
    """A Quadrant run (extra keys border_px, init), two Red-Green seeds and a rook run."""
    common = {"dataset": "d", "scale": "quick", "precision": "fp32"}
    quadrant = [
        {"protocol": "faithful", "metric": "test_accuracy", "value": 75.0,
         "border_px": 16, "init": "scratch"},
        {"protocol": "faithful", "metric": "test_accuracy", "value": 50.0,
         "border_px": 0, "init": "scratch"},
    ]  # fmt: skip
    return [
        _record(tmp_path, "quadrant", experiment="quadrant", model="resnet18",
                padding="same_zero", seed=1988, rows=quadrant, **common),
        _record(tmp_path, "rg1", experiment="red_green", model="net", padding="full_zero",
                seed=1, rows=[{"protocol": "faithful", "metric": "similar_accuracy",
                               "value": 80.0}], **common),
        _record(tmp_path, "rg0", experiment="red_green", model="net", padding="full_zero",
                seed=0, rows=[{"protocol": "faithful", "metric": "similar_accuracy",
                               "value": 90.0}], **common),
        _record(tmp_path, "rook", experiment="rook", model="rook_net", padding="same_zero",
                seed=None, rows=[{"protocol": "faithful", "metric": "accuracy",
                                  "value": 100.0, "seed": 3}], **common),
    ]  # fmt: skip


def test_build_summary_columns_and_types(record_paths: list[Path]) -> None:
    summary = build_summary(record_paths)
    assert list(summary.columns) == [
        *[c for c in SUMMARY_COLUMNS if c != "value"],
        "border_px",
        "init",
        "value",
    ]
    assert len(summary) == 5
    assert str(summary["border_px"].dtype) == "Int64"  # not 16.0 beside others' gaps
    assert str(summary["seed"].dtype) == "Int64"
    quadrant = summary[summary["experiment"] == "quadrant"]
    assert sorted(quadrant["border_px"].tolist()) == [0, 16]
    assert set(quadrant["init"]) == {"scratch"}
    others = summary[summary["experiment"] != "quadrant"]
    assert others["border_px"].isna().all() and others["init"].isna().all()
    rook = summary[summary["experiment"] == "rook"].iloc[0]
    assert rook["seed"] == 3  # a row's own key wins over the record's identity


def test_build_summary_is_sorted(record_paths: list[Path]) -> None:
    summary = build_summary(record_paths)
    assert list(zip(summary["experiment"], summary["seed"], summary["value"], strict=True)) == [
        ("quadrant", 1988, 50.0),  # border_px 0 before 16
        ("quadrant", 1988, 75.0),
        ("red_green", 0, 90.0),
        ("red_green", 1, 80.0),
        ("rook", 3, 100.0),
    ]
    assert build_summary(reversed(record_paths)).equals(summary)


def test_build_summary_of_no_records_has_the_columns() -> None:
    summary = build_summary([])
    assert summary.empty
    assert list(summary.columns) == list(SUMMARY_COLUMNS)


def test_build_summary_rejects_a_file_that_is_no_record(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"experiment": "red_green"}')
    with pytest.raises(ValueError, match="not a transinv run record"):
        build_summary([path])


def test_headline_metrics_nest_means_and_extra_keys(record_paths: list[Path]) -> None:
    metrics = headline_metrics(build_summary(record_paths))
    assert metrics == {
        "quadrant": {
            "faithful": {
                "resnet18": {
                    "same_zero": {
                        "border_px=0": {"init=scratch": {"test_accuracy": 50.0}},
                        "border_px=16": {"init=scratch": {"test_accuracy": 75.0}},
                    }
                }
            }
        },
        "red_green": {"faithful": {"net": {"full_zero": {"similar_accuracy": 85.0}}}},
        "rook": {"faithful": {"rook_net": {"same_zero": {"accuracy": 100.0}}}},
    }


def test_headline_metrics_round_to_four_places() -> None:
    frame = pd.DataFrame(
        [_row("faithful", "valid", seed, "similar_accuracy", value)
         for seed, value in enumerate((1.0, 2.0, 2.0))]
    )  # fmt: skip
    metrics = headline_metrics(frame)
    assert metrics["red_green"]["faithful"]["red_green_net"]["valid"] == {
        "similar_accuracy": 1.6667
    }


def test_headline_metrics_leave_curve_points_to_the_figures() -> None:
    frame = pd.DataFrame(
        [_row("faithful", "same_zero", 0, "diagonal_accuracy", 80.0, variant="s_conv")]
        + [_row("faithful", "same_zero", 0, "offset_accuracy", 70.0 + offset, offset=offset,
                variant="s_conv") for offset in range(3)]
    )  # fmt: skip
    metrics = headline_metrics(frame)
    assert metrics["red_green"]["faithful"]["red_green_net"]["same_zero"] == {
        "variant=s_conv": {"diagonal_accuracy": 80.0}
    }


def test_table_header_names_the_commit_and_warns_when_rows_mix_commits(tmp_path: Path) -> None:
    from transinv.tables import code_provenance, write_red_green

    summary = _red_green_summary()
    assert code_provenance(summary) == "Code: commit c0ffee."
    summary.loc[summary.index[-1], "dirty"] = True
    summary.loc[summary.index[:3], "commit"] = "0a1b2c3d4e5f"
    mixed = code_provenance(summary)
    assert mixed.startswith("Code: MIXES 3 commits") and "c0ffee (modified)" in mixed
    tex, csv = tmp_path / "t.tex", tmp_path / "t.csv"
    write_red_green(summary, tex, csv)
    assert "MIXES" in tex.read_text() and "Precision: fp32" in tex.read_text()
