"""The report as LaTeX (``results/paper/main.tex``), for users who write in LaTeX.

The pipeline's booktabs tables are ``\\input`` and its PDF figures included, by paths
relative to ``main.tex``, so the file compiles where it was written with a standard TeX
Live: article, graphicx and booktabs (the generated tables need ``\\toprule``,
``\\cmidrule`` and ``\\multicolumn``, no siunitx). Same sections, claims and verdicts as
the PDF, from the same document model.
"""

from __future__ import annotations

import os
from pathlib import Path

from transinv.paper_report.document import FigureBlock, Paper, Section
from transinv.paper_report.table_views import TableView

#: Characters LaTeX gives a meaning, and symbols the default (OT1) text fonts lack: they
#: are set in math, whose fonts every TeX installation has (a text-mode ``\\textless`` or
#: ``\\textbar`` would pull in T1/TS1 fonts that minimal installations do not ship).
_ESCAPES = {
    "\\": r"$\backslash$",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\~{}",
    "^": r"\^{}",
    "<": r"$<$",
    ">": r"$>$",
    "|": r"$|$",
    "±": r"$\pm$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "Δ": r"$\Delta$",
    "−": r"$-$",
    "×": r"$\times$",
    "—": "---",
    "–": "--",
}


def escape(text: str) -> str:
    return "".join(_ESCAPES.get(c, c) for c in text)


def relative(path: Path, start: Path) -> str:
    """``path`` as written in ``start/main.tex`` (forward slashes, also on Windows)."""
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def tabular(view: TableView) -> str:
    columns = len(view.headers)
    spec = "l" * view.key_columns + "r" * (columns - view.key_columns)
    lines = [
        r"\begin{table}[htbp]",
        r"\centering\small",
        rf"\caption{{{escape(view.title)}}}",
        r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(escape(h) for h in view.headers) + r" \\",
        r"\midrule",
    ]
    for index, row in enumerate(view.rows):
        if index in view.groups:
            lines.append(r"\midrule")
        lines.append(" & ".join(escape(cell) for cell in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}"]
    if view.note:
        lines.append(rf"\par\footnotesize {escape(view.note)}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def input_table(caption: str, tex: Path, latex_dir: Path) -> str:
    return (
        "\n".join(
            [
                r"\begin{table}[htbp]",
                r"\centering\small",
                rf"\caption{{{escape(caption)}}}",
                r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
                rf"\input{{{relative(tex, latex_dir)}}}}}",
                r"\end{table}",
            ]
        )
        + "\n"
    )


def figure(block: FigureBlock, latex_dir: Path) -> str:
    if block.pdf is None:
        return rf"\emph{{{escape(block.missing or f'figure {block.name} has no PDF')}.}}" + "\n"
    return (
        "\n".join(
            [
                r"\begin{figure}[htbp]",
                r"\centering",
                rf"\includegraphics[width=\linewidth]{{{relative(block.pdf, latex_dir)}}}",
                rf"\caption{{{escape(block.caption)}}}",
                r"\end{figure}",
            ]
        )
        + "\n"
    )


def section(item: Section, latex_dir: Path) -> str:
    parts = [
        rf"\section*{{{escape(item.title)}}}",
        rf"\addcontentsline{{toc}}{{section}}{{{escape(item.title)}}}",
        rf"\paragraph{{Claim.}} {escape(item.claim)}",
        "",
        rf"\paragraph{{Verdict.}} \textbf{{{escape(item.verdict.line)}}}",
        "",
    ]
    if item.data:
        parts.append(r"\paragraph{Data and scale.}")
        parts.append(r"\begin{itemize}")
        parts += [rf"\item {escape(line)}" for line in item.data]
        parts.append(r"\end{itemize}")
    parts += [rf"\emph{{{escape(note)}}}\par" for note in item.notes]
    parts += [tabular(view) for view in item.views]
    for block in item.tables:
        if block.tex is not None:
            caption = block.view.title if block.view else block.name
            parts.append(input_table(caption, block.tex, latex_dir))
        else:
            missing = block.missing or f"table {block.name} was not produced"
            parts.append(rf"\emph{{{escape(missing)}.}}\par")
    parts += [figure(block, latex_dir) for block in item.figures]
    parts.append(r"\clearpage")
    return "\n".join(parts) + "\n"


def _title(paper: Paper) -> str:
    provenance = paper.provenance
    verdict_rows = "\n".join(
        rf"\item[{{{escape(item.title)}}}] {escape(item.verdict.line)}" for item in paper.sections
    )
    return (
        "\n".join(
            [
                rf"\title{{{escape(paper.title)}}}",
                r"\author{}",
                rf"\date{{{escape(paper.date)}}}",
                r"\begin{document}",
                r"\maketitle",
                r"\begin{center}",
                escape(paper.citation),
                "",
                rf"\small {escape(paper.subtitle)}",
                r"\end{center}",
                "",
                r"\begin{description}",
                rf"\item[Code] {escape(provenance.code)}",
                rf"\item[Config] {escape(provenance.config_name)} (hash "
                rf"{escape(provenance.config_hash)})",
                rf"\item[Device] {escape(provenance.device)}",
                r"\end{description}",
                r"\subsection*{Verdicts}",
                r"\begin{description}",
                verdict_rows,
                r"\end{description}",
                r"\clearpage",
            ]
        )
        + "\n"
    )


def _appendix(paper: Paper) -> str:
    provenance = paper.provenance
    packages = ", ".join(
        f"{name} {version or 'not installed'}" for name, version in provenance.packages.items()
    )
    parts = [
        r"\section*{Appendix: provenance}",
        rf"\paragraph{{Code.}} {escape(provenance.code)}",
        "",
        rf"\paragraph{{Config.}} {escape(provenance.config_name)}, hash "
        rf"{escape(provenance.config_hash)} (of the resolved config the workflow wrote).",
        "",
        rf"\paragraph{{Device.}} {escape(provenance.device)}",
        "",
        rf"\paragraph{{Precision of the runs.}} {escape(provenance.precision)}",
        "",
        r"\paragraph{Packages (of the environment that built this report, not necessarily "
        rf"the one that ran the experiments).}} {escape(packages)}",
        "",
    ]
    if (sections := provenance.sections_view()) is not None:
        parts.append(tabular(sections))
    parts += [r"\subsection*{What the corrected protocols fix}", r"\begin{description}"]
    parts += [rf"\item[{{{escape(name)}}}] {escape(defect)}" for name, defect in paper.defects]
    parts.append(r"\end{description}")
    return "\n".join(parts) + "\n"


PREAMBLE = r"""% Generated by transinv from results/summary.csv -- do not edit by hand.
\documentclass[a4paper,10pt]{article}
\usepackage[utf8]{inputenc}
\usepackage{graphicx}
\usepackage{booktabs}
\setlength{\textwidth}{16cm}
\setlength{\oddsidemargin}{0cm}
\setlength{\evensidemargin}{0cm}
\setlength{\textheight}{23cm}
\setlength{\topmargin}{-1cm}
% The default bullet comes from the TS1 text fonts, which minimal installations lack.
\renewcommand{\labelitemi}{$\bullet$}
"""


def latex_source(paper: Paper, latex_dir: Path) -> str:
    """``main.tex``; table and figure paths relative to ``latex_dir``."""
    return "".join(
        [
            PREAMBLE,
            _title(paper),
            *(section(item, latex_dir) for item in paper.sections),
            _appendix(paper),
            r"\end{document}" + "\n",
        ]
    )
