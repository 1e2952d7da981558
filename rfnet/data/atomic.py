"""Write output files atomically: to a hidden temporary name in the same folder, then ``os.replace``.

A reader never sees a half-written file under the final name: either the old file (or none) or the
complete new one. If the writer fails or is interrupted (``KeyboardInterrupt`` included), the temporary
file is removed. An existing file at the final name is replaced (atomically) only on success.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_sibling(path: Path, suffix: str = "") -> Path:
    """Create and return an empty hidden file next to ``path`` (``.<name>.<random>.partial<suffix>``).

    ``suffix`` keeps an extension a library insists on (e.g. ``.sigmf-data``).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path}: output folder {path.parent} does not exist")
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".partial{suffix}")
    os.close(fd)
    os.chmod(name, 0o666 & ~_umask())  # mkstemp makes 0600; give the permissions a new file would get
    return Path(name)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
