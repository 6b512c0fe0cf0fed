"""The report as typst source (compiled to ``results/paper.pdf``).

Every piece of text enters the source as a typst *string literal* (``#"..."``), never as
markup: a dataset description with ``*``, ``_``, ``$``, ``#`` or ``<`` is printed as
written, and only backslashes, quotes and control characters need escaping.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PIL import Image

from transinv.paper_report.document import FigureBlock, Paper, Section
from transinv.paper_report.table_views import TableView
from transinv.paper_report.verdicts import Outcome

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}

_OUTCOME_COLOURS = {
    Outcome.REPRODUCED: 'rgb("#2e7d32")',
    Outcome.SUPPORTED: 'rgb("#2e7d32")',
    Outcome.NOT_REPRODUCED: 'rgb("#c62828")',
    Outcome.NOT_SUPPORTED: 'rgb("#c62828")',
    Outcome.NOT_COMPARED: 'rgb("#757575")',
    Outcome.NOT_RUN: 'rgb("#757575")',
}

_PREAMBLE = """\
#set document(title: {title}, author: "transinv")
#set page(paper: "a4", margin: (x: 2cm, y: 2.2cm), numbering: "1")
#set text(size: 10pt, hyphenate: false, lang: "en")
#set smartquote(enabled: false)
#set par(justify: false)
#set heading(numbering: none)
#show heading.where(level: 1): set text(size: 15pt)
#show heading.where(level: 2): set text(size: 11pt)
#show figure.caption: set text(size: 9pt)
#let verdict(colour, body) = block(
  width: 100%, inset: 7pt, radius: 2pt, fill: colour.lighten(88%),
  stroke: (left: 3pt + colour), breakable: false,
  [#text(weight: "bold", "Verdict: ")#body],
)
#let note(body) = text(size: 9pt, fill: luma(35%), body)
"""


def literal(text: str) -> str:
    """``text`` as a typst string literal."""
    return '"' + "".join(_ESCAPES.get(c, c) for c in text) + '"'


def _text(text: str) -> str:
    """``text`` placed in markup, as typed."""
    return f"#{literal(text)}"


def _root_path(path: Path, root: Path) -> str:
    """A path as typst resolves it: from the project root."""
    return "/" + path.resolve().relative_to(root.resolve()).as_posix()


def table(view: TableView) -> str:
    columns = len(view.headers)
    align = ", ".join(["left"] * view.key_columns + ["right"] * (columns - view.key_columns))
    cells: list[str] = [
        "table.hline(stroke: 0.8pt)",
        "table.header(" + ", ".join(f"[*{_text(h)}*]" for h in view.headers) + ")",
        "table.hline(stroke: 0.4pt)",
    ]
    for index, row in enumerate(view.rows):
        if index in view.groups:
            cells.append("table.hline(stroke: 0.3pt)")
        cells.append(", ".join(literal(cell) for cell in row))
    cells.append("table.hline(stroke: 0.8pt)")
    body = ",\n  ".join(cells)
    lines = [
        f'#par(text(weight: "bold", size: 9pt, {literal(view.title)}))',
        "#text(size: 8pt)[#table(",
        f"  columns: {columns}, align: ({align},), stroke: none, inset: (x: 4pt, y: 2.5pt),",
        f"  {body},",
        ")]",
    ]
    if view.note:
        lines.append(f"#note({literal(view.note)})")
    return "\n".join(lines) + "\n"


#: The text width of the page set in the preamble, and the tallest a figure may be, so
#: that a tall figure shares its page with its caption.
TEXT_WIDTH_CM = 17.0
MAX_FIGURE_HEIGHT_CM = 15.0


def figure_width_cm(png: Path) -> float:
    """The full text width, or less where that would make the figure too tall."""
    with Image.open(png) as image:
        width, height = image.size
    return round(min(TEXT_WIDTH_CM, MAX_FIGURE_HEIGHT_CM * width / height), 2)


def figure(block: FigureBlock, root: Path) -> str:
    if block.png is None:
        return f"#note({literal(block.missing + '.')})\n"
    return (
        f"#figure(image({literal(_root_path(block.png, root))}, "
        f"width: {figure_width_cm(block.png)}cm), caption: [{_text(block.caption)}])\n"
    )


def _paragraph(label: str, text: str) -> str:
    return f'#par[#text(weight: "bold", {literal(label)}) {_text(text)}]\n'


def section(item: Section, root: Path) -> str:
    colour = _OUTCOME_COLOURS[item.verdict.outcome]
    parts = [
        f"#heading(level: 1, {literal(item.title)})\n",
        _paragraph("Claim. ", item.claim),
        f"#verdict({colour}, {literal(item.verdict.line)})\n",
    ]
    if not item.ran:
        parts.append(
            _paragraph("Not run. ", "This configuration left the experiment out: no rows.")
        )
    if item.data:
        parts.append(f"#heading(level: 2, {literal('Data and scale')})\n")
        parts += [f"- {_text(line)}\n" for line in item.data]
    parts += [f"#note({literal(note)})\n\n" for note in item.notes]
    if item.views or item.tables:
        parts.append(f"#heading(level: 2, {literal('Ours beside the paper')})\n")
    parts += [table(view) for view in item.views]
    for block in item.tables:
        parts.append(table(block.view) if block.view else f"#note({literal(block.missing)})\n")
    if item.figures:
        parts.append(f"#heading(level: 2, {literal('Figures')})\n")
    parts += [figure(block, root) for block in item.figures]
    return "\n".join(parts)


def _title_page(paper: Paper) -> str:
    provenance = paper.provenance
    rows = ",\n  ".join(
        f"{literal(item.title)}, text(fill: {_OUTCOME_COLOURS[item.verdict.outcome]}, "
        f"{literal(item.verdict.line)})"
        for item in paper.sections
    )
    return f"""\
#page(numbering: none)[
#v(1.5cm)
#align(center)[
#text(size: 20pt, weight: "bold", {literal(paper.title)})
#v(0.4cm)
#text(size: 10pt, {literal(paper.citation)})
#v(0.3cm)
#note({literal(paper.subtitle)})
]
#v(0.6cm)
#table(
  columns: (auto, 1fr), stroke: none, inset: (x: 4pt, y: 3pt),
  [*Code*], {literal(provenance.code)},
  [*Date*], {literal(paper.date)},
  [*Config*], {literal(f"{provenance.config_name} (hash {provenance.config_hash})")},
  [*Device*], {literal(provenance.device)},
)
#v(0.4cm)
#text(weight: "bold", "Verdicts")
#text(size: 9pt)[#table(
  columns: (5cm, 1fr), stroke: none, inset: (x: 4pt, y: 3pt),
  table.hline(stroke: 0.4pt),
  {rows},
  table.hline(stroke: 0.4pt),
)]
]
"""


def _appendix(paper: Paper) -> str:
    provenance = paper.provenance
    parts = [
        f"#heading(level: 1, {literal('Appendix: provenance')})\n",
        _paragraph("Code. ", provenance.code),
        _paragraph(
            "Config. ",
            f"{provenance.config_name}, hash {provenance.config_hash} (of the resolved "
            "config the workflow wrote).",
        ),
        _paragraph("Device. ", provenance.device),
        _paragraph("Precision of the runs. ", provenance.precision),
        _paragraph(
            "Packages (of the environment that built this report, not necessarily the one "
            "that ran the experiments). ",
            ", ".join(
                f"{name} {version or 'not installed'}"
                for name, version in provenance.packages.items()
            ),
        ),
    ]
    if (sections := provenance.sections_view()) is not None:
        parts.append(table(sections))
    parts.append(f"#heading(level: 2, {literal('What the corrected protocols fix')})\n")
    parts += [
        f'- #text(weight: "bold", {literal(name + ": ")}){_text(defect)}\n'
        for name, defect in paper.defects
    ]
    return "\n".join(parts)


def typst_source(paper: Paper, root: Path) -> str:
    """The whole document; figure paths are written from ``root``, typst's project root."""
    body: Iterable[str] = (
        _PREAMBLE.format(title=literal(paper.title)),
        _title_page(paper),
        *(section(item, root) for item in paper.sections),
        _appendix(paper),
    )
    return "\n".join(body)
