"""The paper-shaped report: ``results/paper.pdf`` (typst) and ``results/paper/main.tex``.

One section per experiment of Kayhan & van Gemert (CVPR 2020) and per related study, in
the paper's order: the claim in our words, our numbers beside the paper's, the figures,
the data and scale behind them, and a verdict computed by :mod:`.verdicts`. A title page
lists every verdict; an appendix gives the provenance.

The typst source is kept beside ``main.tex`` (``main.typ``), so a user can restyle the
PDF; it is compiled with the ``typst`` Python package, no TeX needed.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import typst
import yaml

from transinv.atomic import write_text, write_with
from transinv.paper_report.document import Paper, build_document
from transinv.paper_report.latex import latex_source
from transinv.paper_report.typst_source import literal, typst_source
from transinv.provenance import config_hash
from transinv.summary import read_summary

__all__ = ["build_date", "build_paper", "write_previews"]

TYPST_SOURCE = "main.typ"
LATEX_SOURCE = "main.tex"


def build_date() -> dt.datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` when set, so that a rebuild can be byte-identical."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime.now(tz=dt.UTC)


def _project_root(*paths: Path) -> Path:
    """The deepest folder holding every file typst reads (it refuses paths outside it)."""
    return Path(os.path.commonpath([p.resolve() for p in paths]))


def build_paper(
    summary_csv: Path,
    config_yaml: Path,
    tables_dir: Path,
    figures_dir: Path,
    pdf: Path,
    latex_dir: Path,
    config_name: str | None = None,
) -> Paper:
    """Write ``pdf`` (atomically), ``latex_dir/main.tex`` and ``latex_dir/main.typ``.

    ``config_name``: how the title page names the configuration (default: the resolved
    config's file name). Returns the document model, whose verdicts the PDF prints.
    """
    summary = read_summary(summary_csv)
    config = yaml.safe_load(Path(config_yaml).read_text(encoding="utf-8")) or {}
    when = build_date()
    paper = build_document(
        summary,
        config,
        (config_name or Path(config_yaml).name, config_hash(config)),
        Path(tables_dir),
        Path(figures_dir),
        when.date().isoformat(),
    )
    latex_dir = Path(latex_dir)
    latex_dir.mkdir(parents=True, exist_ok=True)
    write_text(latex_dir / LATEX_SOURCE, latex_source(paper, latex_dir))
    source = latex_dir / TYPST_SOURCE
    root = _project_root(latex_dir, Path(figures_dir))
    write_text(source, typst_source(paper, root))
    document = typst.compile(str(source), root=str(root), timestamp=int(when.timestamp()))
    write_with(pdf, lambda tmp: tmp.write_bytes(document))
    return paper


_PREVIEW = """\
#set page(width: auto, height: auto, margin: 8pt, fill: luma(92%))
#stack(dir: ltr, spacing: 8pt, {pages})
"""


def write_previews(pdf: Path, out_png: Path, pages: int = 2, ppi: int = 72) -> None:
    """One PNG of the first ``pages`` pages of ``pdf`` side by side (the README picture).

    typst places the PDF's pages as images; a document shorter than ``pages`` gives as
    many pages as it has.
    """
    pdf = Path(pdf).resolve()
    for count in range(pages, 0, -1):
        images = ", ".join(
            f"box(stroke: 0.5pt + luma(60%), image({literal(pdf.name)}, page: {page}, "
            "width: 300pt))"
            for page in range(1, count + 1)
        )
        source = _PREVIEW.format(pages=images).encode()
        try:
            image = typst.compile(source, format="png", ppi=ppi, root=str(pdf.parent))
        except typst.TypstError as error:
            if "does not exist" in str(error) and count > 1:
                continue
            raise
        write_with(out_png, lambda tmp, image=image: tmp.write_bytes(image))
        return
