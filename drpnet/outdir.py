"""An output folder that one ``drpnet pick`` run owns: writable, locked while the run goes on, and, once the run has
written its own, cleared of an earlier run's files, so RELION's extraction never takes coordinate files of two runs
together (and a run that fails leaves the earlier one's results as they were)."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from drpnet.io import InputError

LOCK = ".drpnet-pick.lock"
#: The longest file name most file systems hold, in bytes.
NAME_MAX = 255
#: What ``drpnet pick`` writes into its folder; an earlier run's are removed before a new run writes.
OUTPUTS = ("autopick.star", "particles.star", "picks.tsv.gz", "rejected.tsv", "operating_point.json")
#: drpnet's folders of per-micrograph files (RELION coordinates, EMAN boxes), and the kinds of file they hold.
FOLDERS = ("coordinates", "box")
COORDINATE_FILES = (".star", ".box")


class Claim:
    """A folder held by one run: :meth:`clear_earlier` removes what an earlier run wrote and this one did not."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.started = (out / LOCK).stat().st_mtime  # the folder's own clock, as every file's time there

    def clear_earlier(self) -> int:
        """Remove the earlier run's outputs this run did not write again; the number removed."""
        earlier = [self.out / name for name in OUTPUTS if (self.out / name).is_file()]
        folders = [self.out / name for name in FOLDERS if (self.out / name).is_dir()]
        earlier += [path for folder in folders for path in folder.rglob("*") if path.is_file()]
        stale = [path for path in earlier if path.stat().st_mtime < self.started]
        for path in stale:
            path.unlink()
        for folder in sorted((p for top in folders for p in [top, *top.rglob("*")] if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
        return len(stale)


@contextlib.contextmanager
def claimed(out: Path) -> Iterator[Claim]:
    """Make ``out`` this run's: create it, check it can be written, lock it against a second run.

    Raises
    ------
    InputError
        ``out`` cannot be written, another run holds it, or its ``coordinates/`` holds files drpnet did not write.
    """
    for folder in (out / name for name in FOLDERS):
        foreign = [p for p in folder.rglob("*") if p.is_file() and p.suffix not in COORDINATE_FILES]
        if foreign:
            raise InputError(folder, f"holds files drpnet did not write ({foreign[0].name}): give another --out")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = os.open(out / LOCK, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        lock = _take_stale_lock(out)
    except OSError as error:
        raise InputError(out, f"cannot be written ({error.strerror}): give another --out") from error
    try:
        os.write(lock, f"{socket.gethostname()} {os.getpid()}\n".encode())
        os.close(lock)
        time.sleep(0.01)  # files written from now on are newer than the lock, on clocks of any resolution
        yield Claim(out)
    finally:
        (out / LOCK).unlink(missing_ok=True)
        if created and not any(out.iterdir()):  # a run that stopped before writing leaves no empty folder
            out.rmdir()


def _take_stale_lock(out: Path) -> int:
    """The lock of a run that is no longer running (killed, or the machine restarted); refuses a live one."""
    try:
        host, pid = (out / LOCK).read_text().split()
    except (OSError, ValueError):
        host, pid = "", "0"
    if (host == socket.gethostname() and _running(int(pid))) or host not in ("", socket.gethostname()):
        where = f"process {pid}" + ("" if host == socket.gethostname() else f" on {host}")
        raise InputError(out, f"is in use by another drpnet pick ({where}): give another --out, or remove {LOCK}")
    (out / LOCK).unlink(missing_ok=True)
    return os.open(out / LOCK, os.O_CREAT | os.O_EXCL | os.O_WRONLY)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0
