"""The workflow's YAML config files, checked before Snakemake reads them: its own message names neither the file nor
the line."""

from __future__ import annotations

import os

import yaml


def yaml_problem(path: str | os.PathLike[str]) -> str | None:
    """``"<path>, line L, column C: <problem>"`` when the file is not valid YAML; None when it is (or is absent)."""
    try:
        with open(path, encoding="utf-8") as handle:
            yaml.safe_load(handle)
    except FileNotFoundError:
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        hint = " (YAML indents with spaces, never tabs)" if "'\\t'" in problem else ""
        return f"{path}{where}: {problem}{hint}"
    return None
