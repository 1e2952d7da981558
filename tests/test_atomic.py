"""Atomic output: temporaries follow the umask, and those of processes that are gone are removed."""

import os
import stat
import subprocess
import sys

import pytest

from rfnet.data.atomic import atomic_output, remove_stale_partials, temporary_sibling, temporary_sibling_folder


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_written_files_and_folders_follow_the_umask(tmp_path, umask_027):
    with atomic_output(tmp_path / "out.json") as temporary:
        temporary.write_text("{}")
    assert mode(tmp_path / "out.json") == 0o640
    folder = temporary_sibling_folder(tmp_path / "model")
    assert mode(folder) == 0o750


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(os.name != "posix", reason="liveness of a pid is asked on POSIX only")
def test_temporaries_of_ended_processes_are_removed_by_the_next_writer(tmp_path):
    gone = dead_pid()
    stale_file = tmp_path / f".data.h5.{gone}-0123abcd.partial"
    stale_file.write_bytes(b"half")
    stale_data = tmp_path / f".cap.sigmf.{gone}-89abcdef.partial.sigmf-data"
    stale_data.write_bytes(b"half")
    stale_folder = tmp_path / f".best.{gone}-00ff00ff.partial"
    stale_folder.mkdir()
    (stale_folder / "model.safetensors").write_bytes(b"half")
    live = temporary_sibling(tmp_path / "other.h5")  # this process's own: kept
    foreign = tmp_path / f".notes.{gone}.0123abcd.partial"  # tempfile's kind of name, not made here: kept
    foreign.write_text("mine")
    made = temporary_sibling(tmp_path / "data.h5")
    assert not stale_file.exists() and not stale_data.exists() and not stale_folder.exists()
    assert live.exists() and made.exists() and foreign.read_text() == "mine"
    stale_file.write_bytes(b"half")
    assert remove_stale_partials(tmp_path) == [stale_file]
