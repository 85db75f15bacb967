"""Which micrographs a workflow job picks together: batches that stay the same as a dataset grows.

A dataset's batches are recorded in a manifest, a TSV of ``micrograph`` and ``batch``. Micrographs it does not
list yet form new batches after the last one, so adding micrographs to a finished dataset adds jobs for them
alone and leaves every earlier batch, and its results, as they were. Only the standard library is used: the
Snakefile imports this while it is parsed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

HEADER = "micrograph\tbatch"


def batch_id(index: int) -> str:
    """The name of the ``index``-th batch: ``b00000``, ``b00001``, ..."""
    return f"b{index:05d}"


def read_manifest(path: str | os.PathLike[str]) -> dict[str, str]:
    """Micrograph name -> batch from a manifest; empty when there is none yet."""
    path = Path(path)
    if not path.is_file():
        return {}
    lines = path.read_text().splitlines()
    if not lines or lines[0] != HEADER:
        raise ValueError(f"{path}: not a batch manifest (its first line should be {HEADER!r})")
    assigned = {}
    for number, line in enumerate(lines[1:], start=2):
        name, _, batch = line.partition("\t")
        if not name or not batch:
            raise ValueError(f"{path}: line {number} is not 'micrograph<TAB>batch'")
        assigned[name] = batch
    return assigned


def assign_batches(names: Iterable[str], assigned: dict[str, str], size: int) -> dict[str, str]:
    """Every name's batch: the one ``assigned`` gives, else a new batch of up to ``size`` new names (sorted).

    Returns
    -------
    dict
        Micrograph name -> batch for ``names`` and for the earlier assignments (kept, so a micrograph that is
        gone for a while gets its batch back).
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, not {size}")
    result = dict(assigned)
    new = sorted(set(names) - set(assigned))
    first = 1 + max((int(batch.lstrip("b")) for batch in assigned.values() if batch.lstrip("b").isdigit()), default=-1)
    for start in range(0, len(new), size):
        for name in new[start : start + size]:
            result[name] = batch_id(first + start // size)
    return result


def batches(names: Iterable[str], assignment: dict[str, str]) -> dict[str, list[str]]:
    """Batch -> its micrographs among ``names``, in name order; batches with none of them are left out."""
    members: dict[str, list[str]] = {}
    for name in sorted(names):
        members.setdefault(assignment[name], []).append(name)
    return dict(sorted(members.items()))


def write_manifest(path: str | os.PathLike[str], assignment: dict[str, str]) -> None:
    """Write the manifest atomically (another process may be reading it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(assignment.items(), key=lambda item: (item[1], item[0]))
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text("\n".join([HEADER, *(f"{name}\t{batch}" for name, batch in rows)]) + "\n")
    os.replace(temporary, path)
