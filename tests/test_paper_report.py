"""The paper report: verdict rules, the PDF built by typst, main.tex and the previews."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import typst
import yaml
from PIL import Image
from pypdf import PdfReader

from transinv import paper_values
from transinv.data_efficiency_tables import write_data_efficiency_table
from transinv.experiments.translation_1d import summary_record, sweep
from transinv.paper_report import build_paper, write_previews
from transinv.paper_report import verdicts as v
from transinv.paper_report.document import Paper
from transinv.paper_report.latex import escape
from transinv.paper_report.typst_source import literal
from transinv.plots import save_figure
from transinv.plots.red_green import plot_red_green
from transinv.plots.translation_1d import plot_translation_1d
from transinv.settings import Translation1DSettings, protocol_scale
from transinv.summary import build_summary, read_summary, write_summary
from transinv.tables import write_red_green, write_shift_tables

RED_GREEN_BORDERS = ("valid", "same_zero", "same_circular", "full_zero")


def _row(experiment: str, metric: str, value: float, **identity: object) -> dict[str, object]:
    defaults = {
        "protocol": "faithful",
        "dataset": "unknown",
        "scale": "quick",
        "precision": "fp32",
        "model": "net",
        "padding": "same_zero",
        "seed": 0,
    }
    return {"experiment": experiment, **defaults, **identity, "metric": metric, "value": value}


def red_green_rows(shift_dissimilar: float = 0.0) -> list[dict[str, object]]:
    """Three seeds per border around Table 1's means, inside its spread (the valid
    border's zero std leaves no room: its seeds sit on the paper's value)."""
    rows = []
    for border in RED_GREEN_BORDERS:
        for position, test_set in enumerate(("similar", "dissimilar")):
            mean, std = paper_values.RED_GREEN[border][position]
            offset = shift_dissimilar if test_set == "dissimilar" else 0.0
            for seed, step in enumerate((-0.5, 0.0, 0.5)):
                rows.append(
                    _row(
                        "red_green",
                        f"{test_set}_accuracy",
                        min(100.0, mean + step * std + offset),
                        dataset="red_green_generated",
                        scale="paper",
                        model="red_green_net",
                        padding=border,
                        seed=seed,
                    )
                )
    return rows


def rook_rows(same_zero: tuple[float, ...] = (100.0, 100.0)) -> list[dict[str, object]]:
    return [
        _row("rook", "accuracy", value, dataset="rook_authors", padding=border, seed=seed)
        for border, values in (("same_zero", same_zero), ("full_zero", (50.0, 50.0)))
        for seed, value in enumerate(values)
    ]


def shift_rows() -> list[dict[str, object]]:
    """A stand-in where F-Conv beats S-Conv: judged by direction only."""
    return [
        _row(
            "shift",
            metric,
            value + (5.0 if variant == "f_conv" else 0.0),
            dataset="shift_photos_standin",
            model="resnet18",
            padding="same_zero" if variant == "s_conv" else "full_zero",
            variant=variant,
        )
        for metric, value in (("diagonal_accuracy", 40.0), ("consistency", 60.0))
        for variant in ("s_conv", "f_conv")
    ]


def data_efficiency_rows() -> list[dict[str, object]]:
    """The paper's data, well below its S-Conv top-1: not reproduced."""
    return [
        _row(
            "data_efficiency",
            "top1",
            value,
            dataset="data_efficiency_image_folder",
            scale="paper",
            model="resnet50",
            padding="same_zero" if variant == "s_conv" else "full_zero",
            variant=variant,
            images_per_class=size,
        )
        for size in ("full", "500")
        for variant, value in (("s_conv", 60.0), ("f_conv", 62.0))
    ]


def equivariance_rows(circular_whole_map: float = 1e-8) -> list[dict[str, object]]:
    rows = []
    for border in ("same_zero", "same_circular"):
        identity = {"dataset": "mnist_canvas", "model": "wolf_lenet", "padding": border}
        rows.append(
            _row("equivariance", "test_accuracy", 95.0, protocol="integer_shift", **identity)
        )
        for layer in ("layer1", "layer2", "layer3", "layer4"):
            for shift in (0, 1, 2):
                whole = circular_whole_map if border == "same_circular" else 0.1 * shift
                for region, value in (("interior", 1e-8), ("whole_map", whole)):
                    rows.append(
                        _row(
                            "equivariance",
                            "equivariance_error",
                            value,
                            protocol="integer_shift",
                            layer=layer,
                            shift_px=shift,
                            region=region,
                            **identity,
                        )
                    )
    return rows


def online_rows(vanilla_untrained: float, model: str = "small_vgg") -> list[dict[str, object]]:
    """One net and border; the pretrained conditions as the paper found them."""
    untrained = {
        "vanilla": vanilla_untrained,
        "pretrained_other_dataset": 88.0,
        "pretrained_same_dataset": 40.0,
    }
    rows = []
    for condition, value in untrained.items():
        identity = {
            "protocol": condition,
            "dataset": "shapes_canvas_standin",
            "model": model,
            "padding": "same_zero",
        }
        for metric, number in (
            ("trained_location_accuracy", 90.0),
            ("untrained_location_accuracy", value),
            ("chance_accuracy", 20.0),
        ):
            rows.append(_row("online_invariance", metric, number, **identity))
    return rows


def frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows).assign(commit="0123456789abcdef", dirty=False)


@dataclass(frozen=True)
class Tree:
    summary_csv: Path
    config_yaml: Path
    tables: Path
    figures: Path
    pdf: Path
    latex: Path
    paper: Paper
    summary: pd.DataFrame


def _tiny_figure(pdf: Path, png: Path) -> None:
    figure, axis = plt.subplots(figsize=(2, 1))
    axis.plot([0, 1], [0, 1])
    save_figure(figure, pdf, png)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    """A results folder as the pipeline leaves it: a real translation_1d record, synthetic
    rows for the rest, tables and figures from the project's own writers."""
    root = tmp_path_factory.mktemp("paper")
    results = root / "results"
    tables, figures = results / "tables", results / "figures"
    settings = Translation1DSettings(steps=20)
    df = sweep(settings)
    summary_record(df, settings, protocol_scale(settings)).save(root / "translation_1d.json")
    real = build_summary([root / "translation_1d.json"])
    synthetic = frame(
        red_green_rows()
        + rook_rows()
        + shift_rows()
        + data_efficiency_rows()
        + equivariance_rows()
        + online_rows(vanilla_untrained=85.0)
    )
    write_summary(pd.concat([real, synthetic], ignore_index=True), results / "summary.csv")
    summary = read_summary(results / "summary.csv")
    write_red_green(summary, tables / "red_green.tex", tables / "red_green.csv")
    write_shift_tables(
        summary,
        tables / "shift_diagonal.tex",
        tables / "shift_diagonal.csv",
        tables / "shift_consistency.tex",
        tables / "shift_consistency.csv",
    )
    write_data_efficiency_table(
        summary, tables / "data_efficiency.tex", tables / "data_efficiency.csv"
    )
    plot_red_green(summary, figures / "red_green.pdf", figures / "red_green.png")
    plot_translation_1d(df, figures / "translation_1d.pdf", figures / "translation_1d.png")
    _tiny_figure(figures / "border_maps.pdf", figures / "border_maps.png")
    config = results / "config.yaml"
    config.write_text(yaml.safe_dump({"runtime": {"device": "cpu", "amp": False}}))
    pdf, latex = results / "paper.pdf", results / "paper"
    paper = build_paper(results / "summary.csv", config, tables, figures, pdf, latex)
    return Tree(results / "summary.csv", config, tables, figures, pdf, latex, paper, summary)


def _words(text: str) -> str:
    return " ".join(text.split())


def pdf_text(pdf: Path) -> str:
    return _words(" ".join(page.extract_text() for page in PdfReader(pdf).pages))


@pytest.fixture(scope="module")
def text(tree: Tree) -> str:
    return pdf_text(tree.pdf)


def section(tree: Tree, key: str):
    return next(s for s in tree.paper.sections if s.key == key)


def test_pdf_prints_every_section_verdict(tree: Tree, text: str) -> None:
    assert tree.pdf.read_bytes().startswith(b"%PDF")
    assert len(tree.paper.sections) == 10
    for item in tree.paper.sections:
        assert item.title in text
        assert _words(item.verdict.line) in text, item.key
    assert "Appendix: provenance" in text
    assert v.theory_verdict([]).line not in text


def test_verdicts_follow_the_rows(tree: Tree) -> None:
    outcomes = {s.key: s.verdict.outcome for s in tree.paper.sections}
    assert outcomes == {
        "rook": v.Outcome.REPRODUCED,
        "quadrant": v.Outcome.NOT_RUN,
        "red_green": v.Outcome.REPRODUCED,
        "shift": v.Outcome.REPRODUCED,
        "data_efficiency": v.Outcome.NOT_REPRODUCED,
        "patch_matching": v.Outcome.NOT_RUN,
        "action_recognition": v.Outcome.NOT_RUN,
        "equivariance": v.Outcome.SUPPORTED,
        "continuous_translation": v.Outcome.SUPPORTED,
        "online_invariance": v.Outcome.NOT_SUPPORTED,
    }
    assert section(tree, "red_green").verdict.qualifier == ""
    assert section(tree, "rook").verdict.qualifier == "quick scale: indicative only"
    shift = section(tree, "shift").verdict
    assert shift.qualifier == "stand-in data, quick scale: indicative only"
    assert "in direction" in shift.line
    full = paper_values.DATA_EFFICIENCY[None][0]  # the largest gap of the four numbers
    assert (
        f"S-Conv top-1 at full images/class, ours 60.00 vs paper {full:.2f} (4 of 4 numbers"
        in section(tree, "data_efficiency").verdict.line
    )
    assert "small_vgg same_zero vanilla transfer" in section(tree, "online_invariance").verdict.line


def test_pdf_shows_the_papers_red_green_numbers(tree: Tree, text: str) -> None:
    for border in RED_GREEN_BORDERS:
        for mean, std in paper_values.RED_GREEN[border]:
            assert f"{mean:.1f} ± {std:.1f}" in text


def test_sections_without_rows_say_so(tree: Tree, text: str) -> None:
    quadrant = section(tree, "quadrant")
    assert not quadrant.ran and quadrant.verdict.line == v.NOT_RUN_TEXT
    body = text.split(quadrant.title)[-1].split(section(tree, "red_green").title)[0]
    assert v.NOT_RUN_TEXT in body
    assert "advection: not run in this configuration" in text


def test_missing_figures_are_named(tree: Tree, text: str) -> None:
    assert "figure rook was not produced" in text
    assert "figure equivariance_maps was not produced" in text
    assert "figure red_green was not produced" not in text


def test_related_study_tables_come_from_the_summary(tree: Tree, text: str) -> None:
    sweep_change = tree.summary.query("metric == 'max_abs_total_change'")["value"].item()
    assert f"{sweep_change:.3g}" in text
    assert "0.93" in section(tree, "online_invariance").verdict.line  # (85 - 20) / (90 - 20)


def test_title_page_and_appendix_provenance(tree: Tree, text: str) -> None:
    first_page = _words(PdfReader(tree.pdf).pages[0].extract_text())
    assert "CVPR 2020" in first_page
    # the real record's commit beside the synthetic rows' one
    assert "MIXES 2 commits (0123456789" in first_page
    assert "config.yaml" in first_page
    assert "Exp 2: Red-Green" in first_page
    assert tree.paper.provenance.config_hash in text
    assert "environment that built this report" in text
    assert "What the corrected protocols fix" in text
    # the per-section provenance table, in the PDF and in its LaTeX twin
    assert "Data, scale and code of every section that ran" in text
    assert "Data, scale and code of every section that ran" in (tree.latex / "main.tex").read_text()


def test_main_tex_references_existing_files(tree: Tree) -> None:
    main = (tree.latex / "main.tex").read_text()
    inputs = re.findall(r"\\input\{([^}]*)\}", main)
    graphics = re.findall(r"\\includegraphics\[[^]]*\]\{([^}]*)\}", main)
    assert sorted(Path(p).name for p in inputs) == sorted(
        f"{name}.tex"
        for name in ("red_green", "shift_diagonal", "shift_consistency", "data_efficiency")
    )
    assert sorted(Path(p).name for p in graphics) == [
        "border_maps.pdf",
        "red_green.pdf",
        "translation_1d.pdf",
    ]
    for path in inputs + graphics:
        assert not Path(path).is_absolute()
        assert (tree.latex / path).is_file(), path
    for item in tree.paper.sections:
        assert item.claim.replace("&", r"\&") in main


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")
def test_main_tex_compiles_with_latexmk(tree: Tree, tmp_path: Path) -> None:
    results = shutil.copytree(tree.pdf.parent, tmp_path / "results")
    done = subprocess.run(
        ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "main.tex"],
        cwd=results / "paper",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert (results / "paper" / "main.pdf").is_file()


def test_previews_put_the_first_pages_side_by_side(tree: Tree, tmp_path: Path) -> None:
    two, one = tmp_path / "two.png", tmp_path / "one.png"
    write_previews(tree.pdf, two, pages=2, ppi=20)
    write_previews(tree.pdf, one, pages=1, ppi=20)
    with Image.open(two) as both, Image.open(one) as single:
        assert both.width > 1.8 * single.width
        assert both.height == single.height


def test_previews_of_a_short_document_give_what_it_has(tree: Tree, tmp_path: Path) -> None:
    empty = tmp_path / "results"
    empty.mkdir()
    write_summary(frame(rook_rows()).iloc[:0], empty / "summary.csv")
    pdf = empty / "paper.pdf"
    build_paper(empty / "summary.csv", tree.config_yaml, empty, empty, pdf, empty / "paper")
    pages = len(PdfReader(pdf).pages)
    write_previews(pdf, tmp_path / "all.png", pages=pages + 3, ppi=10)
    write_previews(pdf, tmp_path / "exact.png", pages=pages, ppi=10)
    with Image.open(tmp_path / "all.png") as every, Image.open(tmp_path / "exact.png") as exact:
        assert every.size == exact.size
    assert v.NOT_RUN_TEXT in pdf_text(pdf)


# --- the verdict rules on their own ------------------------------------------------------


def test_within_spread_is_twice_the_largest_spread() -> None:
    assert v.within_spread(10.0, 8.0, ours_std=1.0)
    assert not v.within_spread(10.0, 8.0, ours_std=0.99)
    assert v.within_spread(8.4 + 1.4, 8.4, paper_std=0.7)
    assert not v.within_spread(8.4 + 1.41, 8.4, paper_std=0.7)
    assert v.within_spread(100.0, 99.9, floor=0.05)
    assert not v.within_spread(100.0, 99.8, floor=0.05)
    assert v.within_spread(5.0, 5.0, ours_std=float("nan"))


def test_red_green_rule() -> None:
    assert v.red_green_verdict(frame(red_green_rows())).line.startswith(
        "reproduced within the paper's spread (8 of 8 numbers, faithful protocol)"
    )
    moved = v.red_green_verdict(frame(red_green_rows(shift_dissimilar=10.0)))
    assert moved.outcome is v.Outcome.NOT_REPRODUCED
    assert moved.line.startswith("not reproduced: ")
    assert "Dissimilar" in moved.line and "vs paper" in moved.line
    assert "4 of 8 numbers outside" in moved.line
    assert v.red_green_verdict(frame(rook_rows())) == v.NOT_RUN


def test_rook_rule_needs_every_seed() -> None:
    verdict = v.rook_verdict(frame(rook_rows(same_zero=(100.0, 50.0))))
    assert verdict.outcome is v.Outcome.NOT_REPRODUCED
    assert "S-Conv zero seed 1, ours 50.0 vs paper 100.0" in verdict.line


def test_direction_rule() -> None:
    ahead = v.Direction("F minus S", 1.5, expected_sign=1)
    behind = v.Direction("F minus S at 5", -2.0, expected_sign=1)
    assert v.direction_verdict([ahead], "F wins").outcome is v.Outcome.REPRODUCED
    verdict = v.direction_verdict([ahead, behind], "F wins")
    assert verdict.outcome is v.Outcome.NOT_REPRODUCED
    assert "F minus S at 5 is -2.00" in verdict.line


def test_equivariance_rule_flags_a_circular_border_that_breaks() -> None:
    assert v.equivariance_verdict(frame(equivariance_rows())).line.startswith(
        "supported: interior error <= 1e-06 at every integer shift for every border; "
        "whole-map error 0 for the periodic border only"
    )
    broken = v.equivariance_verdict(frame(equivariance_rows(circular_whole_map=1e-3)))
    assert broken.outcome is v.Outcome.NOT_SUPPORTED
    assert "whole-map error 1.0e-03 with same_circular" in broken.line


def test_online_invariance_rule() -> None:
    assert v.online_invariance_verdict(frame(online_rows(25.0))).outcome is v.Outcome.SUPPORTED
    # the paper found DenseNet-121 invariant from random weights: no vanilla claim for it
    densenet = frame(online_rows(85.0, model="densenet121"))
    assert v.online_invariance_verdict(densenet).outcome is v.Outcome.SUPPORTED
    assert v.location_transfer(90.0, 20.0, 20.0) == 0.0
    assert v.location_transfer(15.0, 20.0, 20.0) != v.location_transfer(15.0, 20.0, 20.0)


def test_qualifier_names_stand_in_data_and_reduced_scale() -> None:
    rows = pd.DataFrame({"dataset": ["mnist_canvas", "red_green_generated"], "scale": "paper"})
    assert v.qualifier(rows) == ""
    assert v.qualifier(rows.assign(scale="quick")) == "quick scale: indicative only"
    standin = rows.assign(dataset="quadrant_generated")
    assert v.qualifier(standin) == "stand-in data: indicative only"


def test_typst_literals_print_markup_characters_as_typed(tmp_path: Path) -> None:
    awkward = 'a_b *bold* $x$ #y <z> @w [c] "q" back\\slash // not a comment'
    source = tmp_path / "escaped.typ"
    source.write_text(f"#{literal(awkward)}", encoding="utf-8")
    pdf = tmp_path / "escaped.pdf"
    typst.compile(str(source), output=str(pdf), root=str(tmp_path))
    assert _words(awkward) in pdf_text(pdf)


def test_latex_escapes_every_special_character() -> None:
    assert escape("50% #1 & $2_x {y} ~ ^ < > | \\ ± Δ −") == (
        r"50\% \#1 \& \$2\_x \{y\} \~{} \^{} $<$ $>$ $|$ $\backslash$ $\pm$ $\Delta$ $-$"
    )
