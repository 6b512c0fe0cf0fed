"""Config validation with errors that name the key and say how to fix it.

Runs in the Snakefile before the DAG is built, so a bad config stops the
workflow before any job starts and nothing already computed is touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml


class ConfigError(ValueError):
    """The configuration does not match the schema."""


def _key_path(error: jsonschema.ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    key = _key_path(error)
    if error.validator == "required":
        missing = error.message.split("'")[1]
        where = f"{key}.{missing}" if key != "(top level)" else missing
        return f"missing key '{where}': add it (see config/config.yaml for its default)"
    if error.validator == "additionalProperties":
        return f"{key}: {error.message}; remove or rename it (the schema lists valid keys)"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"'{key}': {error.instance!r} is not valid; use one of: {allowed}"
    return f"'{key}': {error.message}"


def validate_config(config: dict[str, Any], schema_path: str | Path) -> None:
    """Raise :class:`ConfigError` listing every problem, one line each, keys named."""
    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = "\n".join(f"  - {_describe(error)}" for error in errors)
        raise ConfigError(
            f"invalid configuration ({len(errors)} problem(s)); nothing was run:\n{lines}\n"
            f"Schema: {schema_path}"
        )
