"""One path for user errors: each becomes one line on stderr, ``rfnet COMMAND: error: ...``, exit status 2,
and nothing is written."""

import errno

import pytest

from rfnet.cli import main, summary


def listing(folder) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def one_error(capsys, argv, command: str | None = None) -> str:
    """Run ``rfnet argv`` in-process; assert exit status 2 and one error line; return that line."""
    command = command or argv[0]
    try:
        status = main([str(arg) for arg in argv])
    except SystemExit as usage_error:  # argparse's usage errors exit by themselves, with 2 too
        status = usage_error.code
    assert status == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("usage:")]
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and errors[0].startswith(f"rfnet {command}: error: "), lines
    return errors[0]


@pytest.mark.parametrize("command", ["evaluate", "robustness"])
def test_a_report_folder_that_is_an_existing_file_is_refused(command, tmp_path, capsys):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    argv = [command, "--model", tmp_path / "run", "--out", existing]
    assert f"--out {existing}: exists and is not a folder" in one_error(capsys, argv)
    assert existing.read_text() == "keep me" and listing(tmp_path) == ["notes.txt"]


def test_export_into_an_existing_folder_is_refused(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    argv = ["export", "--model", tmp_path / "run", "--format", "torchscript", "--out", tmp_path / "out"]
    assert f"--out {tmp_path / 'out'}: is a folder" in one_error(capsys, argv)
    assert listing(tmp_path) == ["out"]


def test_bench_into_a_folder_is_refused(tmp_path, capsys):
    argv = ["bench", "--model", tmp_path / "run", "--out", tmp_path]
    assert "is a folder" in one_error(capsys, argv)
    assert listing(tmp_path) == []


@pytest.mark.parametrize(("argv", "option", "problem"), [
    (["export", "--model", "m", "--format", "onnx", "--out", "x.onnx", "--tolerance", "-1"], "--tolerance", ">= 0"),
    (["bench", "--model", "m", "--budget", "-1"], "--budget", "> 0"),
    (["bench", "--model", "m", "--batch-sizes", "1,0"], "--batch-sizes", "> 0"),
    (["robustness", "--model", "m", "--out", "r", "--pgd-steps", "0"], "--pgd-steps", "> 0"),
    (["finetune", "--data", "d", "--out", "o", "--lr", "nan"], "--lr", "finite"),
    (["evaluate", "--model", "m", "--batch-size", "many"], "--batch-size", "an integer"),
    (["classify", "r", "--model", "m", "--num-samples", "-128"], "--num-samples", "> 0"),
    (["train-imagenet", "--data", "d", "--out", "o", "--workers", "-2"], "--workers", ">= 0"),
    (["evaluate", "--model", "m", "--device", "cuda:99"], "--device", "CUDA device(s)"),
    (["bench", "--model", "m", "--device", "gpu"], "--device", "'gpu' is not a device"),
    (["train-imagenet", "--data", "d", "--out", "o", "--devices", "cpu,cuda:99"], "--devices", "CUDA device(s)"),
])
def test_numbers_out_of_range_are_usage_errors(argv, option, problem, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    error = one_error(capsys, argv)
    assert f"argument {option}" in error and problem in error
    assert listing(tmp_path) == []


def test_memory_error_is_one_sentence(monkeypatch, capsys):
    def exhausted(args):
        raise MemoryError("cannot allocate 819 GiB")

    monkeypatch.setattr(summary, "run", exhausted)
    error = one_error(capsys, ["summary", "alexnet"])
    assert error == ("rfnet summary: error: out of memory (cannot allocate 819 GiB): the input asks for more "
                     "memory than this machine has")


def test_os_error_is_the_file_and_the_reason(monkeypatch, capsys):
    def unreadable(args):
        raise PermissionError(errno.EACCES, "Permission denied", "data.pkl")

    monkeypatch.setattr(summary, "run", unreadable)
    assert one_error(capsys, ["summary", "alexnet"]) == "rfnet summary: error: data.pkl: Permission denied"



@pytest.mark.parametrize("argv", [["finetune", "--data", "rml2016", "--per-class-snr", "1"], ["demo", "--quick"]])
def test_a_run_folder_that_is_an_existing_file_is_one_sentence(argv, tmp_path, capsys):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    assert str(existing) in one_error(capsys, [*argv, "--out", existing, "--quiet"])
    assert existing.read_text() == "keep me" and listing(tmp_path) == ["notes.txt"]
