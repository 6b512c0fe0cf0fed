"""Check the report's captions before ``snakemake --report`` renders them.

Snakemake renders each caption (``report/*.rst``) as a Jinja2 template with
``snakemake.config`` in scope, then as reStructuredText with docutils, and puts
whatever docutils makes of it into the report: a broken caption (a stray ``|`` read
as a substitution, a bad inline markup) shows up as an error box in the report
instead of stopping the build. This module renders every caption the same way, but
fails on the first docutils warning and on any config key the template names that
the config does not have.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

#: Link targets Snakemake appends to every caption (its category and file links are
#: left out: captions here do not use them).
_SNAKEMAKE_LINKS = """

.. _Workflow: javascript:show_panel('workflow')
.. _Statistics: javascript:show_panel('statistics')
"""


def merged_config(paths: Iterable[str | Path]) -> dict[str, Any]:
    """Config files merged left to right with Snakemake's own merge (nested keys by key)."""
    from snakemake.utils import update_config

    config: dict[str, Any] = {}
    for path in paths:
        update_config(config, yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    return config


def caption_problem(path: str | Path, config: Mapping[str, Any]) -> str | None:
    """Why ``path`` would not render cleanly in the report, or None if it does."""
    import docutils.core
    import docutils.utils
    import jinja2

    environment = jinja2.Environment(
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined
    )
    text = Path(path).read_text(encoding="utf-8")
    try:
        rendered = environment.from_string(text + _SNAKEMAKE_LINKS).render(
            snakemake=SimpleNamespace(config=config)
        )
    except jinja2.TemplateError as error:
        return f"{path}: template error: {error}"
    messages = io.StringIO()
    try:
        docutils.core.publish_parts(
            rendered,
            source_path=str(path),
            writer="html",
            settings_overrides={
                "halt_level": docutils.utils.Reporter.WARNING_LEVEL,
                "report_level": docutils.utils.Reporter.WARNING_LEVEL,
                "warning_stream": messages,
                "traceback": True,
            },
        )
    except docutils.utils.SystemMessage as error:
        return str(error)
    return None


def check_captions(captions: Iterable[str | Path], config: Mapping[str, Any]) -> list[str]:
    """One line per caption that would not render cleanly (empty: all are fine)."""
    return [problem for path in captions if (problem := caption_problem(path, config))]
