"""Write output files atomically: to a hidden temporary name in the same folder, then ``os.replace``.

A reader never sees a half-written file under the final name: either the old file (or none) or the
complete new one. If the writer fails or is interrupted (``KeyboardInterrupt`` included), the temporary
file is removed. An existing file at the final name is replaced (atomically) only on success.

Temporary names are ``.<name>.<pid>-<8 hex>.partial<suffix>`` (``tempfile``'s names never hold a ``-``),
created with the permissions a new file or folder gets under the process's umask. A writer killed
outright (SIGKILL, power loss) cannot remove its temporary; the next temporary made in the same folder
removes every one whose process is gone (:func:`remove_stale_partials`).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_PARTIAL = re.compile(r"\..+\.(?P<pid>\d+)-[0-9a-f]{8}\.partial(\..+)?")
"""A temporary name made here; the number is the pid of the process that made it."""


def temporary_sibling(path: Path, suffix: str = "") -> Path:
    """Create and return an empty hidden file next to ``path`` (``.<name>.<pid>-<random>.partial<suffix>``).

    ``suffix`` keeps an extension a library insists on (e.g. ``.sigmf-data``). The file's permissions
    follow the umask, as a new file's would.
    """
    return _make_sibling(Path(path), suffix, lambda name: os.close(
        os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)))


def temporary_sibling_folder(path: Path) -> Path:
    """Create and return an empty hidden folder next to ``path`` (``.<name>.<pid>-<random>.partial``), its
    permissions following the umask, as a new folder's would."""
    return _make_sibling(Path(path), "", lambda name: os.mkdir(name, 0o777))


def _make_sibling(path: Path, suffix: str, create) -> Path:
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path}: output folder {path.parent} does not exist")
    remove_stale_partials(path.parent)
    while True:
        candidate = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial{suffix}"
        try:
            create(candidate)
            return candidate
        except FileExistsError:
            continue


def remove_stale_partials(folder: Path) -> list[Path]:
    """Delete the temporaries (files or folders) in ``folder`` left by processes that no longer run;
    returns what was removed.

    Only names made by :func:`temporary_sibling` / :func:`temporary_sibling_folder` are considered, and
    only on POSIX, where a process's liveness can be asked without touching it. A process is judged by
    its pid on this machine, so a folder shared with another machine's running writer is not safe here.
    """
    if os.name != "posix":
        return []
    removed = []
    for entry in os.scandir(folder):
        match = _PARTIAL.fullmatch(entry.name)
        if match is None or _running(int(match["pid"])):
            continue
        stale = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
        removed.append(stale)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def file_mode_under_umask(folder: Path) -> int:
    """The permission bits a new file gets in the umask that made ``folder`` (a folder this process
    created with mode 0o777): the folder's bits without the execute bits. For libraries that write files
    0600 whatever the umask (safetensors), to be ``os.chmod``-ed to this."""
    return folder.stat().st_mode & 0o666


@contextmanager
def atomic_output(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path to write; on success rename it to ``path``, on any failure delete it.

    Args:
        path: the final file name.
        suffix: extension the temporary name must end with (see :func:`temporary_sibling`).
    """
    final = Path(path)
    temporary = temporary_sibling(final, suffix)
    try:
        yield temporary
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
